package web

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
)

// itemLink adds a link from the item to another.
func (ui *UI) itemLink(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	ref := r.PathValue("item")
	if err := ui.work.AddLink(r.Context(), proj, ref, r.PostForm.Get("type"), r.PostForm.Get("to")); err != nil {
		lf := newForm(r.PostForm)
		if status, ok := formError(&lf, err, map[string]string{"type": "type", "to": "to"}); ok {
			return ui.renderItem(w, r, status, ref, itemForms{LinkForm: lf})
		}
		return err
	}
	return redirect(w, r, itemURL(proj, ref, "link-added")+"#links")
}
