package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/work"
)

func TestBacklogPages(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("ada", false)
	p := e.mustProject(s, "BAL", "Balloons")
	ctx := e.ctx(s)
	if _, err := e.work.SetStatuses(ctx, p, []work.Status{{Name: "To do", Category: "todo"}, {Name: "Doing", Category: "doing", WIPLimit: 1}, {Name: "Done", Category: "done"}}); err != nil {
		t.Fatal(err)
	}

	// The create form names the missing field next to its input.
	w := e.post("/p/BAL/backlog", s, url.Values{"kind": {"experiment"}, "title": {"Mosaic"}, "status": {"To do"}, "time_box": {"2d"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="hypothesis-error"`, "hypothesis")
	w = e.post("/p/BAL/backlog", s, url.Values{"kind": {"development"}, "title": {"Serve <script>x</script>"}, "status": {"Doing"}, "points": {"5"},
		"description": {"**bold** <script>alert(1)</script>"}, "time_box": {"2d"}})
	wantRedirect(t, w, "/p/BAL/items/BAL-1?ok=item-created")
	w = e.get("/p/BAL/items/BAL-1", s)
	wantBody(t, w, "<strong>bold</strong>", "Serve &lt;script&gt;x&lt;/script&gt;")
	wantNoBody(t, w, "<script>alert(1)</script>", "<script>x</script>")
	if it, _ := e.work.Item(ctx, p, "BAL-1"); it.TimeBox != "" {
		t.Errorf("a development item took the form's time box %q", it.TimeBox)
	}

	// Two items in Doing exceed its WIP limit of 1: the flow board warns.
	if _, err := e.work.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: "m", Status: "Doing"}); err != nil {
		t.Fatal(err)
	}
	w = e.get("/p/BAL/board", s)
	wantBody(t, w, "Doing holds 2 items; its WIP limit is 1.", `board-column over-limit`, `data-wip="1"`)

	// A refused move answers JSON naming the field; an accepted one persists.
	if _, err := e.work.CreateItem(ctx, p, work.NewItem{Kind: "research", Title: "r"}); err != nil {
		t.Fatal(err)
	}
	w = e.post("/p/BAL/board/move", s, url.Values{"item": {"BAL-3"}, "status": {"Doing"}})
	var mr moveResult
	if w.Code != http.StatusBadRequest || json.Unmarshal(w.Body.Bytes(), &mr) != nil || mr.Field != "time_box" {
		t.Fatalf("refused move = %d %s", w.Code, w.Body)
	}
	w = e.post("/p/BAL/board/move", s, url.Values{"item": {"BAL-2"}, "status": {"To do"}, "before": {"BAL-1"}})
	if w.Code != http.StatusOK {
		t.Fatalf("move = %d %s", w.Code, w.Body)
	}
	if items, _ := e.work.Items(ctx, p, work.ItemFilter{}); items[0].Key != "BAL-2" || items[0].Status != "To do" {
		t.Fatalf("after the move the order is %s (%s) first", items[0].Key, items[0].Status)
	}
	w = e.post("/p/BAL/board/move", s, url.Values{"item": {"BAL-1"}, "status": {"Done"}})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "Code reviewed") {
		t.Fatalf("move to Done with open DoD = %d %s", w.Code, w.Body)
	}

	w = e.get("/p/BAL/search?q=serve", s)
	wantBody(t, w, `href="/p/BAL/items/BAL-1"`)
	wantBody(t, e.get("/p/BAL/search?q=zzzz", s), "Nothing matches")

	// Saving the current filter, then finding it on the page.
	wantRedirect(t, e.post("/p/BAL/backlog/filters", s, url.Values{"name": {"Research"}, "query": {"kind=research"}}), "/p/BAL/backlog?kind=research")
	wantBody(t, e.get("/p/BAL/backlog", s), `href="/p/BAL/backlog?kind=research">Research</a>`)

	// Viewers see the pages but cannot post.
	v := e.mustUser("vic", false)
	if _, err := e.projects.SetMember(ctx, p, "vic", "viewer"); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"/p/BAL/backlog", "/p/BAL/board", "/p/BAL/board?sprint=active", "/p/BAL/sprints", "/p/BAL/experiments",
		"/p/BAL/experiments/log", "/p/BAL/items/BAL-1", "/p/BAL/activity", "/p/BAL/planning", "/inbox", "/p/BAL/search?q=x"} {
		wantStatus(t, e.get(page, v), http.StatusOK)
	}
	wantStatus(t, e.post("/p/BAL/backlog", v, url.Values{"kind": {"development"}, "title": {"x"}}), http.StatusForbidden)
	wantStatus(t, e.post("/p/BAL/board/move", v, url.Values{"item": {"BAL-1"}, "status": {"To do"}}), http.StatusForbidden)
}
