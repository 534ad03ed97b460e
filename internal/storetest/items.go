package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

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

func testWorkflowAndPlanning(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	ss := must[[]work.Status](t)(ws.Statuses(ctx, p))
	if len(ss) != 5 || ss[0].Name != "Backlog" || ss[4].Category != work.CategoryDone {
		t.Fatalf("default workflow %+v", ss)
	}
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: "x", Status: "To do"}))
	_, err := ws.SetStatuses(ctx, p, []work.Status{{Name: "Backlog", Category: "todo"}, {Name: "Done", Category: "done"}})
	wantCode(t, err, trellis.ECONFLICT)
	_, err = ws.SetStatuses(ctx, p, []work.Status{{Name: "To do", Category: "todo"}, {Name: "Done", Category: "later"}})
	wantCode(t, err, trellis.EINVALID)
	flow := []work.Status{{Name: "To do", Category: "todo"}, {Name: "Doing", Category: "doing", WIPLimit: 3}, {Name: "Done", Category: "done"}}
	must[[]work.Status](t)(ws.SetStatuses(ctx, p, flow))
	if got := must[[]work.Status](t)(ws.Statuses(ctx, p)); len(got) != 3 || got[1].WIPLimit != 3 {
		t.Fatalf("workflow %+v", got)
	}
	pl := must[work.Planning](t)(ws.Planning(ctx, p))
	if pl != work.DefaultPlanning {
		t.Fatalf("default planning %+v", pl)
	}
	_, err = ws.SetPlanning(ctx, p, work.Planning{PointScale: "tshirt", Allocation: work.Allocation{Committed: 50, Experiments: 30, Learning: 10}})
	if trellis.ErrorField(err) != "allocation" {
		t.Fatalf("allocation not adding to 100: %v", err)
	}
	must[work.Planning](t)(ws.SetPlanning(ctx, p, work.Planning{PointScale: "tshirt", Allocation: work.Allocation{Committed: 50, Experiments: 40, Learning: 10}}))
	it := must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "t", Size: "l"}))
	if it.Size != "L" || it.Points != 5 {
		t.Fatalf("T-shirt L = %s/%d", it.Size, it.Points)
	}
	_, err = ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "t", Points: 3})
	if trellis.ErrorField(err) != "size" {
		t.Fatalf("points on a T-shirt project: %v", err)
	}
}

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

func testDecisions(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	newExp := func(title string) *work.Item {
		return must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "experiment", Title: title, Hypothesis: "We believe " + title + " helps", TimeBox: "2d", Assignees: []string{"bob"}}))
	}
	e1, e2, e3 := newExp("mosaic"), newExp("focal loss"), newExp("bigger backbone")
	dev := must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "d"}))
	_, _, err := ws.Decide(ctx, p, dev.Key, work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "r"})
	wantCode(t, err, trellis.ECONFLICT)
	for _, c := range []struct {
		in    work.DecisionInput
		field string
	}{
		{work.DecisionInput{Outcome: "ship", Verdict: "supported"}, "outcome"},
		{work.DecisionInput{Outcome: "abandon", Verdict: "maybe"}, "verdict"},
		{work.DecisionInput{Outcome: "abandon", Verdict: "refuted"}, "reason"},
		{work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive"}, "time_box"},
		{work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive", TimeBox: "soon"}, "time_box"},
		{work.DecisionInput{Outcome: "productionize", Verdict: "supported", Evidence: []string{"javascript:alert(1)"}}, "evidence"},
	} {
		_, _, err := ws.Decide(ctx, p, e1.Key, c.in)
		if trellis.ErrorCode(err) != trellis.EINVALID || trellis.ErrorField(err) != c.field {
			t.Errorf("%+v: %v, want field %s", c.in, err, c.field)
		}
	}
	d1, dev1 := must2(t)(ws.Decide(ctx, p, e1.Key, work.DecisionInput{Outcome: "productionize", Verdict: "supported", Evidence: []string{"https://runs/1"}}))
	if dev1 == nil || dev1.Kind != work.KindDevelopment || d1.FollowUp != dev1.Key || dev1.Assignees[0] != "bob" {
		t.Fatalf("productionize: %+v %+v", d1, dev1)
	}
	got := must[*work.Item](t)(ws.Item(ctx, p, dev1.Key))
	if len(got.Links) != 1 || got.Links[0].Type != work.LinkFollowUpOf || got.Links[0].Key != e1.Key {
		t.Fatalf("follow-up links %+v", got.Links)
	}
	decided := must[*work.Item](t)(ws.Item(ctx, p, e1.Key))
	if decided.Stage != work.StageDecision || decided.Status != "Done" {
		t.Fatalf("decided experiment %+v", decided)
	}
	_, _, err = ws.Decide(ctx, p, e1.Key, work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "again"})
	wantCode(t, err, trellis.ECONFLICT)
	_, none := must2(t)(ws.Decide(ctx, p, e2.Key, work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "no gain on v3"}))
	if none != nil {
		t.Fatalf("abandon created %+v", none)
	}
	_, res := must2(t)(ws.Decide(ctx, p, e3.Key, work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive", TimeBox: "1w"}))
	if res.Kind != work.KindResearch || res.TimeBox != "1w" {
		t.Fatalf("more research %+v", res)
	}
	log := must[[]*work.Decision](t)(ws.HypothesisLog(ctx, p, work.HypothesisFilter{}))
	if len(log) != 3 {
		t.Fatalf("log %d entries", len(log))
	}
	refuted := must[[]*work.Decision](t)(ws.HypothesisLog(ctx, p, work.HypothesisFilter{Verdict: "refuted"}))
	if len(refuted) != 1 || refuted[0].Item != e2.Key || refuted[0].Reason != "no gain on v3" || refuted[0].DecidedBy != "ada" {
		t.Fatalf("refuted %+v", refuted)
	}
}

func must2(tb testing.TB) func(*work.Decision, *work.Item, error) (*work.Decision, *work.Item) {
	return func(d *work.Decision, it *work.Item, err error) (*work.Decision, *work.Item) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return d, it
	}
}

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

func testComments(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "d"}))
	_, err := ws.AddComment(ctx, p, "BAL-1", "  ")
	if trellis.ErrorField(err) != "body" {
		t.Fatalf("empty comment: %v", err)
	}
	c := must[*work.Comment](t)(ws.AddComment(ctx, p, "BAL-1", "Looks good. @bob please review; @eve is not here; mail ada@example.org; @ada noted."))
	if fmt.Sprint(c.Mentions) != "[bob ada]" {
		t.Fatalf("mentions %v", c.Mentions)
	}
	cs := must[[]*work.Comment](t)(ws.Comments(ctx, p, "BAL-1"))
	if len(cs) != 1 || cs[0].Author != "ada" {
		t.Fatalf("comments %+v", cs)
	}
	bob := must[*auth.User](t)(db.FindUserByName(context.Background(), "bob"))
	bctx := As(context.Background(), bob)
	inbox := must[[]*work.Notification](t)(ws.Inbox(bctx))
	if len(inbox) != 1 || inbox[0].Item != "BAL-1" || inbox[0].Actor != "ada" || inbox[0].Read {
		t.Fatalf("bob's inbox %+v", inbox)
	}
	if own := must[[]*work.Notification](t)(ws.Inbox(ctx)); len(own) != 0 {
		t.Fatalf("the author was notified of her own mention: %+v", own)
	}
	if err := ws.MarkInboxRead(bctx); err != nil {
		t.Fatal(err)
	}
	if inbox := must[[]*work.Notification](t)(ws.Inbox(bctx)); !inbox[0].Read {
		t.Fatal("mark read did not stick")
	}
	feed := must[[]*work.Activity](t)(ws.ActivityFeed(ctx, p, 10))
	if len(feed) != 2 || feed[0].Field != "comment" || feed[0].Item != "BAL-1" || feed[1].Field != "created" {
		t.Fatalf("feed %+v", feed)
	}
}

func testTemplates(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	ts := must[[]work.Template](t)(ws.Templates(ctx, p))
	if len(ts) != 2 || ts[0].Name != "Retrain model" || len(ts[0].SubTasks) != 5 {
		t.Fatalf("shipped templates %+v", ts)
	}
	it := must[*work.Item](t)(ws.CreateFromTemplate(ctx, p, work.FromTemplate{Template: "retrain model", Item: work.NewItem{Title: "Retrain on July photos", Assignees: []string{"bob"}}}))
	if it.Kind != work.KindMaintenance || len(it.SubTasks) != 5 || it.SubTasks[0].Title != "Collect new data" || it.SubTasks[4].Title != "Decide release" {
		t.Fatalf("from template %+v", it)
	}
	// The experiment template still needs its hypothesis, and a refusal
	// creates nothing.
	_, err := ws.CreateFromTemplate(ctx, p, work.FromTemplate{Template: "Experiment", Item: work.NewItem{Title: "Mosaic"}})
	if trellis.ErrorField(err) != "hypothesis" {
		t.Fatalf("experiment template without hypothesis: %v", err)
	}
	if n := len(must[[]*work.Item](t)(ws.Items(ctx, p, work.ItemFilter{}))); n != 6 {
		t.Fatalf("%d items after a refused template", n)
	}
	_, err = ws.SaveTemplate(ctx, p, work.Template{Name: "Experiment", Kind: "experiment", Title: "x"})
	if trellis.ErrorField(err) != "name" {
		t.Fatalf("replacing a shipped template: %v", err)
	}
	must[work.Template](t)(ws.SaveTemplate(ctx, p, work.Template{Name: "Label batch", Kind: "maintenance", Title: "Label a batch", SubTasks: []string{"Export", "Label", " ", "Import"}}))
	it = must[*work.Item](t)(ws.CreateFromTemplate(ctx, p, work.FromTemplate{Template: "Label batch"}))
	if it.Title != "Label a batch" || len(it.SubTasks) != 3 {
		t.Fatalf("own template %+v", it)
	}
	_, err = ws.CreateFromTemplate(ctx, p, work.FromTemplate{Template: "Nope"})
	if trellis.ErrorField(err) != "template" {
		t.Fatalf("unknown template: %v", err)
	}
}

func testImportCSV(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	must[*work.Sprint](t)(ws.CreateSprint(ctx, p, work.NewSprint{Name: "Sprint 3", StartsOn: "2026-03-02", EndsOn: "2026-03-13"}))
	jira := "Summary,Issue key,Issue Type,Status,Priority,Assignee,Labels,Labels,Description,Custom field (Story Points),Sprint\n" +
		"Serve model,ML-1,Story,In Progress,High,bob,serving,api,\"Multi\nline\",5.0,Sprint 3\n" +
		"Fix eval,ML-2,Bug,Done,Lowest,,,,,1,\n" +
		"Read papers,ML-3,Spike,To Do,Medium,ada,learning,,,,\n"
	res, err := ws.ImportCSV(ctx, p, strings.NewReader(jira), work.ImportOptions{Jira: true})
	if err != nil || len(res.Errors) != 0 || res.Imported != 3 {
		t.Fatalf("jira import: %+v %v", res, err)
	}
	serve := must[*work.Item](t)(ws.Item(ctx, p, res.Keys[0]))
	if serve.Kind != work.KindDevelopment || serve.Status != "In progress" || serve.Priority != "high" || serve.Points != 5 ||
		fmt.Sprint(serve.Labels) != "[api serving]" || serve.Description != "Multi\nline\n\n_Imported from ML-1._" || serve.SprintID == "" || serve.Assignees[0] != "bob" {
		t.Fatalf("imported %+v", serve)
	}
	fix := must[*work.Item](t)(ws.Item(ctx, p, res.Keys[1]))
	if fix.Kind != work.KindMaintenance || fix.Status != "Done" || fix.Priority != "low" {
		t.Fatalf("imported bug %+v", fix)
	}
	// Bad rows: each reported with its line (the multi-line cell counts),
	// and nothing is imported.
	bad := "kind,title,points,description\n" +
		"development,Fine,3,\"two\nlines\"\n" +
		"story,Unknown kind,,\n" +
		"development,Off scale,4,\n" +
		"experiment,No hypothesis,,\n"
	res, err = ws.ImportCSV(ctx, p, strings.NewReader(bad), work.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, e := range res.Errors {
		got = append(got, fmt.Sprintf("%d:%s", e.Line, e.Field))
	}
	if fmt.Sprint(got) != "[4:kind 5:points 6:hypothesis]" || res.Imported != 0 {
		t.Fatalf("row errors %v", got)
	}
	if n := len(must[[]*work.Item](t)(ws.Items(ctx, p, work.ItemFilter{}))); n != 3 {
		t.Fatalf("a refused import created items: %d", n)
	}
	for _, c := range []struct {
		csv   string
		opts  work.ImportOptions
		field string
	}{
		{"", work.ImportOptions{}, "file"},
		{"kind,title\n", work.ImportOptions{}, "file"},
		{"name,what\nx,y\n", work.ImportOptions{}, "mapping"},
		{"kind,title\nx,y\n", work.ImportOptions{Columns: map[string]string{"colour": "kind"}}, "mapping"},
	} {
		_, err := ws.ImportCSV(ctx, p, strings.NewReader(c.csv), c.opts)
		if trellis.ErrorField(err) != c.field {
			t.Errorf("import %q: %v, want field %s", c.csv, err, c.field)
		}
	}
	// A column mapped by hand.
	res = must[*work.ImportResult](t)(ws.ImportCSV(ctx, p, strings.NewReader("Type,Headline\nresearch,Survey\n"),
		work.ImportOptions{Columns: map[string]string{"kind": "Type", "title": "Headline"}}))
	if res.Imported != 1 {
		t.Fatalf("mapped import %+v", res)
	}
}

func testSearch(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "Serve the balloon detector", Description: "Latency under 200 ms"}))
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "research", Title: "Read about focal loss"}))
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: "Retrain"}))
	must[*work.Comment](t)(ws.AddComment(ctx, p, "BAL-3", "The nightly pipeline broke on empty folders"))
	title := "Serve the hot-air balloon detector"
	must[*work.Item](t)(ws.UpdateItem(ctx, p, "BAL-1", work.ItemUpdate{Title: &title}))
	for _, c := range []struct{ q, want string }{
		{"balloon", "[BAL-1]"},
		{"ballo", "[BAL-1]"},
		{"hot-air", "[BAL-1]"},
		{"latency", "[BAL-1]"},
		{"focal loss", "[BAL-2]"},
		{"pipeline folders", "[BAL-3]"},
		{"BAL-2", "[BAL-2]"},
		{`"unbalanced quote`, "[]"},
		{"NEAR(x y) OR *", "[]"},
		{"nothing-like-this", "[]"},
	} {
		got := fmt.Sprint(keysOf(must[[]*work.Item](t)(ws.Search(ctx, p, c.q))))
		if got != c.want {
			t.Errorf("search %q = %s, want %s", c.q, got, c.want)
		}
	}
	_, err := ws.Search(ctx, p, " ")
	wantCode(t, err, trellis.EINVALID)
}

func testBulk(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "a", Points: 3, Labels: []string{"api"}}))
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "b"}))
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: "c"}))
	st := "In progress"
	// BAL-2 has no points: the whole bulk edit is refused, naming it.
	_, err := ws.UpdateItems(ctx, p, work.BulkUpdate{Items: []string{"BAL-1", "BAL-2", "BAL-3"}, Status: &st})
	if trellis.ErrorField(err) != "points" || !strings.HasPrefix(trellis.ErrorMessage(err), "BAL-2: ") {
		t.Fatalf("bulk with an unready item: %v", err)
	}
	if it := must[*work.Item](t)(ws.Item(ctx, p, "BAL-1")); it.Status != "Backlog" {
		t.Fatalf("a refused bulk edit changed BAL-1 to %s", it.Status)
	}
	who := []string{"bob"}
	items := must[[]*work.Item](t)(ws.UpdateItems(ctx, p, work.BulkUpdate{Items: []string{"BAL-1", "BAL-3"}, Status: &st, Assignees: &who, AddLabels: []string{"q3"}}))
	if len(items) != 2 || items[0].Status != st || fmt.Sprint(items[0].Labels) != "[api q3]" || items[1].Assignees[0] != "bob" {
		t.Fatalf("bulk result %+v", items)
	}
	_, err = ws.UpdateItems(ctx, p, work.BulkUpdate{Items: []string{"BAL-1"}})
	wantCode(t, err, trellis.EINVALID)
}

func testSavedFilters(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	f := must[work.SavedFilter](t)(ws.SaveFilter(ctx, p, work.SavedFilter{Name: "My experiments", Query: "?kind=experiment&assignee=ada&junk=1"}))
	if f.Query != "assignee=ada&kind=experiment" {
		t.Fatalf("saved query %q", f.Query)
	}
	must[work.SavedFilter](t)(ws.SaveFilter(ctx, p, work.SavedFilter{Name: "My experiments", Query: "label=data"}))
	for _, bad := range []work.SavedFilter{{Name: " ", Query: "kind=experiment"}, {Name: "x", Query: "junk=1"}, {Name: "x", Query: "kind=story"}} {
		_, err := ws.SaveFilter(ctx, p, bad)
		wantCode(t, err, trellis.EINVALID)
	}
	fs := must[[]work.SavedFilter](t)(ws.Filters(ctx, p))
	if len(fs) != 1 || fs[0].Query != "label=data" {
		t.Fatalf("filters %+v", fs)
	}
	// Filters are personal: bob sees none of ada's.
	bob := must[*auth.User](t)(db.FindUserByName(context.Background(), "bob"))
	if got := must[[]work.SavedFilter](t)(ws.Filters(As(context.Background(), bob), p)); len(got) != 0 {
		t.Fatalf("bob sees %+v", got)
	}
	if err := ws.DeleteFilter(ctx, p, "My experiments"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ws.DeleteFilter(ctx, p, "My experiments"), trellis.ENOTFOUND)
}
