package web

import (
	"net/http"
	"net/url"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// backlogSaveFilter saves the current filters under a name, for the caller.
func (ui *UI) backlogSaveFilter(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	pf := r.PostForm
	if pf.Get("delete") != "" {
		if err := ui.work.DeleteFilter(r.Context(), proj, pf.Get("name")); err != nil && trellis.ErrorCode(err) != trellis.ENOTFOUND {
			return err
		}
		return redirect(w, r, "/p/"+proj.Key+"/backlog?ok=filter-deleted")
	}
	f, err := ui.work.SaveFilter(r.Context(), proj, work.SavedFilter{Name: pf.Get("name"), Query: pf.Get("query")})
	if err != nil {
		if _, ok := formStatuses[trellis.ErrorCode(err)]; ok {
			bf := newForm(nil)
			bf.fail("", userMessage(err))
			return ui.renderBacklogWith(w, r, route.Status(err), newForm(url.Values{"kind": {"development"}, "time_box": {"2d"}}), newForm(nil), bf)
		}
		return err
	}
	return redirect(w, r, "/p/"+proj.Key+"/backlog?"+f.Query)
}
