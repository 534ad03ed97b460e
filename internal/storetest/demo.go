package storetest

import (
	"context"
	"testing"

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
	if ds := must[[]*work.Decision](t)(ws.HypothesisLog(ctx, p, work.HypothesisFilter{})); len(ds) != 3 {
		t.Errorf("demo decisions %d", len(ds))
	}
}
