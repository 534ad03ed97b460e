package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// testDemo seeds the demo project through the service and checks the story
// it promises: every kind, an active sprint within its guideline, and
// experiments in every column, three of them decided.
func testDemo(t *testing.T, db *store.DB) {
	ctx := context.Background()
	as := auth.NewService(db, FastHash)
	ps := project.NewService(db, as)
	ws := work.NewService(db, ps)
	admin := must[*auth.User](t)(as.CreateUser(ctx, auth.NewUser{Name: "admin", Password: pw, Admin: true}))
	ctx = As(ctx, admin)
	p, keys, err := ws.SeedDemo(ctx, work.DemoUsers(as))
	if err != nil {
		t.Fatal(err)
	}
	if p.Key != "BAL" {
		t.Fatalf("demo key %s", p.Key)
	}
	_, _, err = ws.SeedDemo(ctx, work.DemoUsers(as))
	wantCode(t, err, trellis.ECONFLICT)
	items := must[[]*work.Item](t)(ws.Items(ctx, p, work.ItemFilter{}))
	kinds := map[work.Kind]int{}
	stages := map[string]int{}
	if len(keys) != len(items) {
		t.Errorf("demo keys %d, items %d", len(keys), len(items))
	}
	for _, it := range items {
		kinds[it.Kind]++
		stages[it.Stage]++
		if keys[it.Title] != it.Key {
			t.Errorf("demo key of %q = %q, want %s", it.Title, keys[it.Title], it.Key)
		}
	}
	for _, k := range work.Kinds {
		if kinds[k] == 0 {
			t.Errorf("no %s item in the demo", k)
		}
	}
	for _, st := range work.Stages {
		if stages[st] == 0 {
			t.Errorf("no experiment in stage %s", st)
		}
	}
	active := must[*work.Sprint](t)(ws.ActiveSprint(ctx, p))
	if active == nil {
		t.Fatal("no active sprint")
	}
	plan := must[*work.SprintPlan](t)(ws.PlanSprint(ctx, p, active.ID))
	if plan.OverCapacity || plan.Load == 0 || len(plan.Expired) != 1 {
		t.Errorf("demo sprint plan %+v", plan)
	}
	for _, c := range plan.Categories {
		if c.Off {
			t.Errorf("demo sprint is off guideline in %s: %+v", c.Category, c)
		}
	}
	// Both sprints have a burndown point for every day up to today (or
	// their end), the remaining points go down, and the closed sprint
	// closed on its last day.
	for _, ref := range []string{"Sprint 6", active.ID} {
		burn := must[*work.Burn](t)(ws.SprintBurn(ctx, p, ref))
		if len(burn.Remaining) < 2 {
			t.Fatalf("%s: burndown of %d days", ref, len(burn.Remaining))
		}
		for i, r := range burn.Remaining {
			if r == nil {
				t.Errorf("%s: no remaining points on day %d of %d", ref, i, len(burn.Remaining))
			}
		}
		if first, last := burn.Remaining[0], burn.Remaining[len(burn.Remaining)-1]; first != nil && last != nil && *last >= *first {
			t.Errorf("%s: remaining %d on the first day, %d on the last", ref, *first, *last)
		}
		if burn.Ideal[0] != float64(*burn.Committed[0]) {
			t.Errorf("%s: ideal line starts at %v, committed %d", ref, burn.Ideal[0], *burn.Committed[0])
		}
	}
	closed := must[*work.Sprint](t)(ws.Sprint(ctx, p, "Sprint 6"))
	if closed.Snapshot == nil || !closed.Snapshot.ClosedAt.Truncate(24*time.Hour).Equal(closed.EndsAt.UTC().Truncate(24*time.Hour)) {
		t.Errorf("Sprint 6 ends %s, closed %+v", closed.EndsAt, closed.Snapshot)
	}
	if ds := must[[]*work.Decision](t)(ws.HypothesisLog(ctx, p, work.HypothesisFilter{})); len(ds) != 3 {
		t.Errorf("demo decisions %d", len(ds))
	}
}
