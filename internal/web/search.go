package web

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

type searchView struct {
	layout
	Query   string
	Items   []*work.Item
	Message string
}

// searchPage is full-text search over the project's items and comments.
func (ui *UI) searchPage(w http.ResponseWriter, r *http.Request) error {
	proj := route.ProjectFrom(r.Context())
	v := &searchView{layout: ui.base(r, "Search · "+proj.Name, "backlog"), Query: r.URL.Query().Get("q")}
	if v.Query != "" {
		items, err := ui.work.Search(r.Context(), proj, v.Query)
		if err != nil {
			if trellis.ErrorCode(err) != trellis.EINVALID {
				return err
			}
			v.Message = sentence(trellis.ErrorMessage(err))
		}
		v.Items = items
	}
	return ui.render(w, http.StatusOK, "search", v)
}
