package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// itemFixture is a project BAL owned by ada, with bob as editor.
func itemFixture(t *testing.T, db *store.DB) (context.Context, *work.Service, *project.Project) {
	t.Helper()
	ctx := context.Background()
	as := auth.NewService(db, FastHash)
	ps := project.NewService(db, as)
	ws := work.NewService(db, ps)
	ada := must[*auth.User](t)(as.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw}))
	must[*auth.User](t)(as.CreateUser(ctx, auth.NewUser{Name: "bob", Password: pw}))
	ctx = As(ctx, ada)
	p := must[*project.Project](t)(ps.CreateProject(ctx, project.NewProject{Key: "BAL", Name: "Balloons"}))
	must[*project.Member](t)(ps.SetMember(ctx, p, "bob", auth.RoleEditor))
	return ctx, ws, p
}

func testItems(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	dev := must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "Serve the model", Description: "**bold**",
		Assignees: []string{"bob", "@ada"}, Labels: []string{"API", "api", "serving"}, Points: 5, Priority: "high", Phase: "productionize"}))
	if dev.Key != "BAL-1" || dev.Status != "Backlog" || len(dev.Assignees) != 2 || len(dev.Labels) != 2 || dev.Labels[0] != "api" {
		t.Fatalf("created %+v", dev)
	}
	exp := must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "experiment", Title: "Mosaic augmentation",
		Hypothesis: "We believe mosaic augmentation will raise recall, measured by recall@0.5", TimeBox: "2d", Parent: "BAL-1"}))
	if exp.Key != "BAL-2" || exp.Stage != work.StageIdeation || exp.Parent != "BAL-1" {
		t.Fatalf("experiment %+v", exp)
	}
	got := must[*work.Item](t)(ws.Item(ctx, p, "BAL-1"))
	if got.Title != dev.Title || got.Description != "**bold**" || got.Points != 5 || got.Priority != "high" || len(got.SubTasks) != 1 ||
		got.SubTasks[0].Key != "BAL-2" || got.Assignees[0] != "ada" || got.Assignees[1] != "bob" {
		t.Fatalf("round trip %+v", got)
	}
	_, err := ws.Item(ctx, p, "BAL-99")
	wantCode(t, err, trellis.ENOTFOUND)

	// Field rules name the field.
	bad := []struct {
		in    work.NewItem
		field string
	}{
		{work.NewItem{Kind: "story", Title: "x"}, "kind"},
		{work.NewItem{Title: "x"}, "kind"},
		{work.NewItem{Kind: "development", Title: " "}, "title"},
		{work.NewItem{Kind: "experiment", Title: "x"}, "hypothesis"},
		{work.NewItem{Kind: "research", Title: "x", TimeBox: "2 days"}, "time_box"},
		{work.NewItem{Kind: "development", Title: "x", Points: 4}, "points"},
		{work.NewItem{Kind: "development", Title: "x", Size: "M"}, "size"},
		{work.NewItem{Kind: "development", Title: "x", Status: "Nope"}, "status"},
		{work.NewItem{Kind: "development", Title: "x", Status: "In progress"}, "points"},
		{work.NewItem{Kind: "research", Title: "x", Status: "Done"}, "time_box"},
		{work.NewItem{Kind: "research", Title: "x", Status: "Done", TimeBox: "2d"}, "learning"},
		{work.NewItem{Kind: "development", Title: "x", Assignees: []string{"eve"}}, "assignees"},
		{work.NewItem{Kind: "development", Title: "x", Labels: []string{"no spaces"}}, "labels"},
		{work.NewItem{Kind: "development", Title: "x", Priority: "asap"}, "priority"},
		{work.NewItem{Kind: "development", Title: "x", Phase: "ship"}, "phase"},
		{work.NewItem{Kind: "development", Title: "x", Parent: "BAL-77"}, "parent"},
	}
	for _, b := range bad {
		_, err := ws.CreateItem(ctx, p, b.in)
		wantCode(t, err, trellis.EINVALID)
		if f := trellis.ErrorField(err); f != b.field {
			t.Errorf("%+v: error names %q (%v), want %q", b.in, f, err, b.field)
		}
	}
	// Refused creates used no number: the next item is BAL-3.
	res := must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "research", Title: "Read about focal loss"}))
	if res.Key != "BAL-3" {
		t.Fatalf("next key %s", res.Key)
	}
	// Readiness: research leaves To do only with a time box.
	status := "In progress"
	_, err = ws.UpdateItem(ctx, p, "BAL-3", work.ItemUpdate{Status: &status})
	if trellis.ErrorField(err) != "time_box" {
		t.Fatalf("moving research without time box: %v", err)
	}
	tb := "1w"
	moved := must[*work.Item](t)(ws.UpdateItem(ctx, p, "BAL-3", work.ItemUpdate{Status: &status, TimeBox: &tb}))
	if moved.Status != "In progress" || moved.StartedAt.IsZero() {
		t.Fatalf("moved %+v", moved)
	}
	// Ordering: put BAL-3 before BAL-1.
	before := "BAL-1"
	must[*work.Item](t)(ws.UpdateItem(ctx, p, "BAL-3", work.ItemUpdate{Before: &before}))
	items := must[[]*work.Item](t)(ws.Items(ctx, p, work.ItemFilter{}))
	if len(items) != 3 || items[0].Key != "BAL-3" || items[1].Key != "BAL-1" {
		t.Fatalf("order %v", keysOf(items))
	}
	// Filters.
	for _, c := range []struct {
		f    work.ItemFilter
		want string
	}{
		{work.ItemFilter{Kind: "experiment"}, "[BAL-2]"},
		{work.ItemFilter{Assignee: "bob"}, "[BAL-1]"},
		{work.ItemFilter{Label: "serving"}, "[BAL-1]"},
		{work.ItemFilter{Text: "MOSAIC"}, "[BAL-2]"},
		{work.ItemFilter{Text: "BAL-3"}, "[BAL-3]"},
		{work.ItemFilter{Text: "100%"}, "[]"},
		{work.ItemFilter{Status: "In progress"}, "[BAL-3]"},
	} {
		if got := fmt.Sprint(keysOf(must[[]*work.Item](t)(ws.Items(ctx, p, c.f)))); got != c.want {
			t.Errorf("filter %+v = %s, want %s", c.f, got, c.want)
		}
	}
	// History records who changed what.
	evs := must[[]*work.ItemEvent](t)(ws.History(ctx, p, "BAL-3"))
	if len(evs) < 3 || evs[0].Field != "created" || evs[0].User != "ada" {
		t.Fatalf("history %+v", evs)
	}
	// Links, both directions.
	if err := ws.AddLink(ctx, p, "BAL-1", work.LinkBlocks, "BAL-3"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ws.AddLink(ctx, p, "BAL-1", work.LinkBlocks, "BAL-3"), trellis.ECONFLICT)
	wantCode(t, ws.AddLink(ctx, p, "BAL-1", "duplicates", "BAL-3"), trellis.EINVALID)
	in := must[*work.Item](t)(ws.Item(ctx, p, "BAL-3"))
	if len(in.Links) != 1 || in.Links[0].Key != "BAL-1" || in.Links[0].Direction != "in" {
		t.Fatalf("links %+v", in.Links)
	}
	// Parent loops are refused.
	parent := "BAL-2"
	_, err = ws.UpdateItem(ctx, p, "BAL-1", work.ItemUpdate{Parent: &parent})
	wantCode(t, err, trellis.EINVALID)
}

func keysOf(items []*work.Item) []string {
	ks := []string{}
	for _, it := range items {
		ks = append(ks, it.Key)
	}
	return ks
}

// testItemKeysConcurrent creates items from many goroutines: every key is
// handed out exactly once, with no gaps.
func testItemKeysConcurrent(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	const n = 40
	var wg sync.WaitGroup
	keys := make(chan string, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it, err := ws.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: fmt.Sprintf("retrain %d", i)})
			if err != nil {
				errs <- err
				return
			}
			keys <- it.Key
		}()
	}
	wg.Wait()
	close(keys)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for k := range keys {
		if seen[k] {
			t.Fatalf("key %s handed out twice", k)
		}
		seen[k] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[fmt.Sprintf("BAL-%d", i)] {
			t.Fatalf("key BAL-%d missing; got %v", i, seen)
		}
	}
}
