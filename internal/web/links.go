package web

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
)

// itemLink adds a link from the item to another.
func (ui *UI) itemLink(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	ref := r.PathValue("item")
	if err := ui.work.AddLink(r.Context(), proj, ref, r.PostForm.Get("type"), r.PostForm.Get("to")); err != nil {
		if _, ok := formStatuses[trellis.ErrorCode(err)]; ok {
			return ui.renderItem(w, r, route.Status(err), ref, form{}, subtaskError(err))
		}
		return err
	}
	return redirect(w, r, itemURL(proj, ref, "link-added")+"#links")
}
