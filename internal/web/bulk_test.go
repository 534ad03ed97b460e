package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/trellisml/trellis/internal/work"
)

func TestBulkEdit(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("ada", false)
	p := e.mustProject(s, "BAL", "Balloons")
	ctx := e.ctx(s)
	for _, in := range []work.NewItem{{Kind: "development", Title: "a", Points: 3}, {Kind: "development", Title: "b"}} {
		if _, err := e.work.CreateItem(ctx, p, in); err != nil {
			t.Fatal(err)
		}
	}
	w := e.post("/p/BAL/backlog/bulk", s, url.Values{"item": {"BAL-1", "BAL-2"}, "bulk_status": {"In progress"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, "BAL-2: a development item needs story points")
	w = e.post("/p/BAL/backlog/bulk", s, url.Values{"item": {"BAL-1", "BAL-2"}, "bulk_assignee": {"ada"}, "bulk_label": {"q3"}})
	wantRedirect(t, w, "/p/BAL/backlog?ok=bulk-saved&n=2")
	if items, _ := e.work.Items(ctx, p, work.ItemFilter{Label: "q3", Assignee: "ada"}); len(items) != 2 {
		t.Fatalf("bulk edit changed %d items", len(items))
	}
}
