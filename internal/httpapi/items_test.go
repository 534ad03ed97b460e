package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/work"
)

const items = "/api/v1/projects/BAL/items"

func TestItemRulesAPI(t *testing.T) { apptest.Backends(t, testItemRulesAPI) }

func testItemRulesAPI(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	// Field and readiness rules, each naming its field; viewers read,
	// editors write.
	create := func(body, field string) apptest.Case {
		return apptest.Case{User: "editor", Method: "POST", Path: items, Body: body, Status: 400, Field: field}
	}
	a.Check(t, []apptest.Case{
		create(`{"kind":"story","title":"x"}`, "kind"),
		create(`{"title":"x"}`, "kind"),
		create(`{"kind":"development"}`, "title"),
		create(`{"kind":"experiment","title":"x"}`, "hypothesis"),
		create(`{"kind":"experiment","title":"x","hypothesis":"h","time_box":"forever"}`, "time_box"),
		create(`{"kind":"development","title":"x","points":"five"}`, "points"),
		create(`{"kind":"development","title":"x","points":7}`, "points"),
		create(`{"kind":"development","title":"x","status":"In progress"}`, "points"),
		create(`{"kind":"research","title":"x","status":"In review"}`, "time_box"),
		create(`{"kind":"development","title":"x","labels":"ml"}`, "labels"),
		create(`{"kind":"development","title":"x","assignees":["other"]}`, "assignees"),
		create(`{"kind":"development","title":"x","colour":"red"}`, "colour"),
		create(`{"kind":"development","title":"x","priority":"p0"}`, "priority"),
		{Name: "viewer create", User: "viewer", Method: "POST", Path: items, Body: `{"kind":"development","title":"x"}`, Status: 403},
		{Name: "non-member list", User: "other", Method: "GET", Path: items, Status: 404},
	})
	var dev work.Item
	a.MustCall("editor", "POST", items, `{"kind":"development","title":"Serve <b>model</b>","description":"# Plan\n<script>alert(1)</script>","assignees":["viewer"],"labels":["serving"]}`, &dev)
	if dev.Key != "BAL-1" || dev.Status != "Backlog" {
		t.Fatalf("created %+v", dev)
	}
	var got work.Item
	a.MustCall("viewer", "GET", items+"/BAL-1", "", &got)
	if got.Title != "Serve <b>model</b>" || got.Assignees[0] != "viewer" {
		t.Fatalf("read back %+v", got)
	}
	// The readiness rule on a move names the missing field; with points it passes.
	a.Check(t, []apptest.Case{{Name: "move unestimated", User: "editor", Method: "PATCH", Path: items + "/BAL-1", Body: `{"status":"In progress"}`, Status: 400, Field: "points"}})
	a.MustCall("editor", "PATCH", items+"/BAL-1", `{"status":"In progress","points":5}`, &got)
	if got.Status != "In progress" || got.Points != 5 {
		t.Fatalf("moved %+v", got)
	}
	var hist struct{ Events []work.ItemEvent }
	a.MustCall("viewer", "GET", items+"/BAL-1/history", "", &hist)
	if len(hist.Events) < 3 || hist.Events[len(hist.Events)-1].User != "editor" {
		t.Fatalf("history %+v", hist.Events)
	}
	a.Check(t, []apptest.Case{
		{Name: "missing item", User: "editor", Method: "GET", Path: items + "/BAL-77", Status: 404},
		{Name: "other project's key", User: "editor", Method: "GET", Path: items + "/CAT-1", Status: 400, Field: "item"},
		{Name: "bad kind filter", User: "editor", Method: "GET", Path: items + "?kind=story", Status: 400, Field: "kind"},
	})
}

// TestItemKeysConcurrentAPI creates items in parallel over HTTP: no key is
// handed out twice.
func TestItemKeysConcurrentAPI(t *testing.T) { apptest.Backends(t, testItemKeysConcurrentAPI) }

func testItemKeysConcurrentAPI(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	const n = 30
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var it work.Item
			status, b := a.Do("editor", "POST", items, strings.NewReader(fmt.Sprintf(`{"kind":"maintenance","title":"retrain %d"}`, i)))
			if status != 201 || json.Unmarshal(b, &it) != nil {
				t.Errorf("create %d = %d %s", i, status, b)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[it.Key] {
				t.Errorf("key %s twice", it.Key)
			}
			seen[it.Key] = true
		}()
	}
	wg.Wait()
	for i := 1; i <= n; i++ {
		if !seen[fmt.Sprintf("BAL-%d", i)] {
			t.Errorf("BAL-%d missing", i)
		}
	}
}

// TestDoDAndBurnAPI checks the Definition of Done refusal and the burn
// series recorded as items move.
func TestDoDAndBurnAPI(t *testing.T) { apptest.Backends(t, testDoDAndBurnAPI) }

func testDoDAndBurnAPI(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	const p = "/api/v1/projects/BAL"
	a.Check(t, []apptest.Case{
		{Name: "editor sets DoD", User: "editor", Method: "PUT", Path: p + "/dod/development", Body: `{"points":["Reviewed"]}`, Status: 403},
		{Name: "DoD of an unknown kind", User: "owner", Method: "PUT", Path: p + "/dod/story", Body: `{"points":["x"]}`, Status: 400, Field: "kind"},
	})
	a.MustCall("owner", "PUT", p+"/dod/development", `{"points":["Code reviewed","Tests pass in CI"]}`, nil)
	var dod map[string][]string
	a.MustCall("viewer", "GET", p+"/dod", "", &dod)
	if len(dod["development"]) != 2 || len(dod["research"]) != 1 {
		t.Fatalf("dod %v", dod)
	}
	a.MustCall("editor", "POST", p+"/sprints", `{"name":"S1","starts_on":"2026-01-01","ends_on":"2099-12-31"}`, nil)
	a.MustCall("editor", "POST", p+"/items", `{"kind":"development","title":"d","points":8,"sprint":"S1"}`, nil)
	a.MustCall("editor", "POST", p+"/sprints/S1/start", "", nil)
	a.Check(t, []apptest.Case{{Name: "done with an open DoD point", User: "editor", Method: "PATCH", Path: p + "/items/BAL-1", Body: `{"status":"Done","dod_checked":["Code reviewed"]}`,
		Status: 409, Field: "dod", Contains: []string{"Tests pass in CI"}, Lacks: []string{"Code reviewed;"}}})
	var it work.Item
	a.MustCall("editor", "PATCH", p+"/items/BAL-1", `{"status":"Done","dod_checked":["Code reviewed","Tests pass in CI","Not a point"]}`, &it)
	if it.Status != "Done" || len(it.DoDChecked) != 2 || len(it.DoD) != 2 || !it.DoD[1].Checked {
		t.Fatalf("done item %+v", it)
	}
	var burn work.Burn
	a.MustCall("viewer", "GET", p+"/sprints/S1/burn", "", &burn)
	last := len(burn.Remaining) - 1
	if last < 0 || burn.Committed[last] == nil || *burn.Committed[last] != 8 || *burn.Done[last] != 8 || *burn.Remaining[last] != 0 {
		t.Fatalf("burn %+v", burn)
	}
}
