package web

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

// itemDoD saves an item's Definition of Done checklist.
func (ui *UI) itemDoD(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	ref := r.PathValue("item")
	checked := r.PostForm["dod"]
	if _, err := ui.work.UpdateItem(r.Context(), proj, ref, work.ItemUpdate{DoDChecked: &checked}); err != nil {
		df := newForm(r.PostForm)
		if status, ok := formError(&df, err, nil); ok {
			return ui.renderItem(w, r, status, ref, itemForms{DoDForm: df})
		}
		return err
	}
	return redirect(w, r, itemURL(proj, ref, "item-saved")+"#dod")
}
