package web

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
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
		if _, ok := formStatuses[trellis.ErrorCode(err)]; ok {
			return ui.renderItem(w, r, route.Status(err), ref, form{}, sentence(trellis.ErrorMessage(err)))
		}
		return err
	}
	return redirect(w, r, itemURL(proj, ref, "item-saved")+"#dod")
}
