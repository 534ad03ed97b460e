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
		to := r.PostForm.Get("to")
		if trellis.ErrorCode(err) == trellis.ENOTFOUND && to != "" {
			// The item page exists (the link starts there); what is
			// missing is the item typed in the form.
			err = trellis.Invalid("to", "there is no item %s in this project", to)
		}
		lf := newForm(r.PostForm)
		if status, ok := formError(&lf, err, map[string]string{"type": "type", "to": "to"}); ok {
			return ui.renderItem(w, r, status, ref, itemForms{LinkForm: lf})
		}
		return err
	}
	return redirect(w, r, itemURL(proj, ref, "link-added")+"#links")
}
