package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

func testSprints(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	s1 := must[*work.Sprint](t)(ws.CreateSprint(ctx, p, work.NewSprint{Name: "Sprint 1", StartsOn: "2026-03-02", EndsOn: "2026-03-13",
		Capacity: map[string]int{"ada": 10, "bob": 10}}))
	_, err := ws.CreateSprint(ctx, p, work.NewSprint{Name: "Sprint 1", StartsOn: "2026-03-02", EndsOn: "2026-03-13"})
	if trellis.ErrorField(err) != "name" {
		t.Fatalf("duplicate sprint: %v", err)
	}
	_, err = ws.CreateSprint(ctx, p, work.NewSprint{Name: "S", StartsOn: "2026-03-13", EndsOn: "2026-03-02"})
	if trellis.ErrorField(err) != "ends_on" {
		t.Fatalf("backwards sprint: %v", err)
	}
	must[*work.Sprint](t)(ws.CreateSprint(ctx, p, work.NewSprint{Name: "Sprint 2", StartsOn: "2026-03-16", EndsOn: "2026-03-27"}))
	// A development item without points cannot enter a sprint.
	_, err = ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "d", Sprint: "Sprint 1"})
	if trellis.ErrorField(err) != "points" {
		t.Fatalf("unestimated into sprint: %v", err)
	}
	mk := func(in work.NewItem) *work.Item {
		in.Sprint = "Sprint 1"
		return must[*work.Item](t)(ws.CreateItem(ctx, p, in))
	}
	mk(work.NewItem{Kind: "development", Title: "d1", Points: 8})
	mk(work.NewItem{Kind: "maintenance", Title: "m1", Points: 5})
	done := mk(work.NewItem{Kind: "experiment", Title: "e1", Hypothesis: "h", TimeBox: "3d"})
	mk(work.NewItem{Kind: "research", Title: "r1", TimeBox: "4h", Labels: []string{"learning"}})
	plan := must[*work.SprintPlan](t)(ws.PlanSprint(ctx, p, "Sprint 1"))
	// 8+5 committed, 3 experiments, 1 learning: 17 of 20.
	if plan.Load != 17 || plan.Capacity != 20 || plan.OverCapacity || plan.Categories[0].Points != 13 || plan.Categories[1].Points != 3 || plan.Categories[2].Points != 1 {
		t.Fatalf("plan %+v", plan)
	}
	must[*work.Sprint](t)(ws.StartSprint(ctx, p, "Sprint 1"))
	_, err = ws.StartSprint(ctx, p, "Sprint 2")
	wantCode(t, err, trellis.ECONFLICT)
	st := "Done"
	must[*work.Item](t)(ws.UpdateItem(ctx, p, done.Key, work.ItemUpdate{Status: &st}))
	_, err = ws.CloseSprint(ctx, p, "Sprint 1", "sideways")
	wantCode(t, err, trellis.EINVALID)
	closed := must[*work.Sprint](t)(ws.CloseSprint(ctx, p, "Sprint 1", "next"))
	if closed.Snapshot == nil || closed.Snapshot.Committed["committed"] != 13 || closed.Snapshot.Done["experiments"] != 3 || closed.Snapshot.MovedTo != "Sprint 2" {
		t.Fatalf("snapshot %+v", closed.Snapshot)
	}
	s2 := must[*work.Sprint](t)(ws.Sprint(ctx, p, "Sprint 2"))
	if got := must[[]*work.Item](t)(ws.Items(ctx, p, work.ItemFilter{SprintID: s2.ID})); len(got) != 3 {
		t.Fatalf("moved to next sprint: %v", keysOf(got))
	}
	if got := must[[]*work.Item](t)(ws.Items(ctx, p, work.ItemFilter{SprintID: s1.ID})); len(got) != 1 {
		t.Fatalf("left in closed sprint: %v", keysOf(got))
	}
	reread := must[*work.Sprint](t)(ws.Sprint(ctx, p, s1.ID))
	if reread.State != work.SprintClosed || reread.Snapshot.Done["experiments"] != 3 {
		t.Fatalf("closed sprint reread %+v", reread)
	}
}

// testBurn checks that the recorded days lay onto the sprint's calendar,
// carrying totals forward over days without changes.
func testBurn(t *testing.T, db *store.DB) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	sp := &work.Sprint{StartsAt: day("2026-03-02"), EndsAt: day("2026-03-06").Add(24*time.Hour - time.Millisecond)}
	days := []work.SprintDay{{Day: day("2026-03-02"), Committed: 10}, {Day: day("2026-03-04"), Committed: 12, Done: 5}}
	ints := func(ps []*int) string {
		var out []string
		for _, p := range ps {
			if p == nil {
				out = append(out, "-")
			} else {
				out = append(out, fmt.Sprint(*p))
			}
		}
		return strings.Join(out, " ")
	}
	b := work.BurnOf(sp, days, day("2026-03-05").Add(time.Hour))
	if len(b.Days) != 5 || ints(b.Remaining) != "10 10 7 7" || ints(b.Done) != "0 0 5 5" || b.Ideal[0] != 10 || b.Ideal[4] != 0 {
		t.Fatalf("burn %s %s %v", ints(b.Remaining), ints(b.Done), b.Ideal)
	}
	// Days before the first recorded change are unknown, not zero.
	late := work.BurnOf(sp, days[1:], day("2026-03-05").Add(time.Hour))
	if ints(late.Remaining) != "- - 7 7" {
		t.Fatalf("burn before the first record: %s", ints(late.Remaining))
	}
	// Through the store: recording twice on a day keeps the last totals.
	ctx, ws, p := itemFixture(t, db)
	sp2 := must[*work.Sprint](t)(ws.CreateSprint(ctx, p, work.NewSprint{Name: "S", StartsOn: "2026-01-01", EndsOn: "2099-01-01"}))
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: "m", Points: 3, Sprint: "S"}))
	must[*work.Sprint](t)(ws.StartSprint(ctx, p, "S"))
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: "m2", Points: 5, Sprint: "S"}))
	got := must[[]work.SprintDay](t)(db.FindSprintDays(ctx, sp2.ID))
	if len(got) != 1 || got[0].Committed != 8 {
		t.Fatalf("recorded days %+v", got)
	}
}
