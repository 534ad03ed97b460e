package web

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
)

type projectView struct {
	layout
	Members int
}

// projectPage is a project's front page: what it is, who is in it, and how
// to point training code at it.
func (ui *UI) projectPage(w http.ResponseWriter, r *http.Request) error {
	proj := route.ProjectFrom(r.Context())
	ms, err := ui.work.Members(r.Context(), proj)
	if err != nil {
		return err
	}
	return ui.render(w, http.StatusOK, "project", &projectView{layout: ui.base(r, proj.Name, "overview"), Members: len(ms)})
}
