package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// backlogBulk applies one change to the checked items, all or nothing.
func (ui *UI) backlogBulk(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	pf := r.PostForm
	in := work.BulkUpdate{Items: pf["item"]}
	opt := func(name string) *string {
		if v := pf.Get(name); v != "" {
			return &v
		}
		return nil
	}
	in.Status = opt("bulk_status")
	if v := pf.Get("bulk_sprint"); v != "" {
		if v == "none" {
			v = ""
		}
		in.Sprint = &v
	}
	if v := pf.Get("bulk_assignee"); v != "" {
		as := []string{}
		if v != "none" {
			as = []string{v}
		}
		in.Assignees = &as
	}
	in.AddLabels = splitList(pf.Get("bulk_label"))
	items, err := ui.work.UpdateItems(r.Context(), proj, in)
	if err != nil {
		if _, ok := formStatuses[trellis.ErrorCode(err)]; ok {
			f := newForm(url.Values{"kind": {"development"}, "time_box": {"2d"}})
			bf := newForm(pf)
			bf.fail("", userMessage(err))
			return ui.renderBacklogBulk(w, r, route.Status(err), f, bf)
		}
		return err
	}
	return redirect(w, r, "/p/"+proj.Key+"/backlog?ok=bulk-saved&n="+strconv.Itoa(len(items)))
}

func (ui *UI) renderBacklogBulk(w http.ResponseWriter, r *http.Request, status int, f, bf form) error {
	return ui.renderBacklogWith(w, r, status, f, newForm(nil), bf)
}
