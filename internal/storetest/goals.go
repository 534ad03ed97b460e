package storetest

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// goalRun logs a run linked to item (none when empty) that started at
// second start and logged metrics.
func goalRun(t *testing.T, ctx context.Context, tr *tracking.Service, p *project.Project, expID, item string, start int64, metrics map[string]float64) string {
	t.Helper()
	var tags []tracking.Tag
	if item != "" {
		tags = []tracking.Tag{{Key: tracking.TagItem, Value: item}}
	}
	run := must[*tracking.Run](t)(tr.CreateRun(ctx, p, tracking.NewRun{ExperimentID: expID, Name: "run " + strconv.FormatInt(start, 10),
		StartTime: 1_700_000_000_000 + start*1000, Tags: tags}))
	var b tracking.Batch
	for k, v := range metrics {
		b.Metrics = append(b.Metrics, tracking.Metric{Key: k, Value: v, Timestamp: 1})
	}
	if err := tr.LogBatch(ctx, p, run.Info.ID, b); err != nil {
		t.Fatal(err)
	}
	finished := "FINISHED"
	must[*tracking.RunInfo](t)(tr.UpdateRun(ctx, p, run.Info.ID, tracking.RunUpdate{Status: &finished}))
	return run.Info.ID
}

func testGoals(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	tr := tracking.NewService(db)
	gs := goal.NewService(db, tr)
	ws.OnDecided(func(ctx context.Context, ev work.Decided) {
		if err := gs.SnapshotDecision(ctx, ev.Project, goal.ItemRef{ID: ev.Decision.ItemID, Key: ev.Decision.Item}, ev.Decision.DecidedAt); err != nil {
			t.Errorf("snapshot: %v", err)
		}
	})
	exp := must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "experiment", Title: "mosaic", Hypothesis: "We believe mosaic helps", TimeBox: "2d"}))
	other := must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: "retrain"}))

	// Validation names the field; unknown items are not found.
	for _, c := range []struct {
		g     goal.Goal
		field string
	}{
		{goal.Goal{Comparator: speccheck.AtLeast, Threshold: 1}, "metric"},
		{goal.Goal{Metric: "two words", Comparator: speccheck.AtLeast}, "metric"},
		{goal.Goal{Metric: "f1", Comparator: "roughly"}, "comparator"},
		{goal.Goal{Metric: "f1", Comparator: speccheck.AtLeast, Threshold: math.Inf(1)}, "threshold"},
		{goal.Goal{Metric: "f1", Comparator: speccheck.AtLeast, Note: string(make([]byte, 4001))}, "note"},
	} {
		_, err := gs.AddGoal(ctx, p, exp.Key, c.g)
		if trellis.ErrorCode(err) != trellis.EINVALID || trellis.ErrorField(err) != c.field {
			t.Errorf("%+v: %v, want field %s", c.g, err, c.field)
		}
	}
	_, err := gs.AddGoal(ctx, p, "BAL-99", goal.Goal{Metric: "f1", Comparator: speccheck.AtLeast})
	wantCode(t, err, trellis.ENOTFOUND)
	_, err = gs.Goals(ctx, p, "BAL-99")
	wantCode(t, err, trellis.ENOTFOUND)

	acc := must[*goal.StoredGoal](t)(gs.AddGoal(ctx, p, exp.Key, goal.Goal{Metric: "accuracy", Comparator: "At  Least", Threshold: 0.9,
		Dataset: "reviews", DatasetVersion: "v2", Note: "on the held-out split"}))
	f1 := must[*goal.StoredGoal](t)(gs.AddGoal(ctx, p, exp.Key, goal.Goal{Metric: "f1", Class: "spam", Comparator: speccheck.AtLeast, Threshold: 0.8}))
	loss := must[*goal.StoredGoal](t)(gs.AddGoal(ctx, p, exp.Key, goal.Goal{Metric: "loss", Comparator: speccheck.AtMost, Threshold: 0.2}))
	must[*goal.StoredGoal](t)(gs.AddGoal(ctx, p, other.Key, goal.Goal{Metric: "accuracy", Comparator: speccheck.AtLeast, Threshold: 0.5}))
	// The same goal twice on one item is refused, whatever its note; so is
	// an edit that would make a goal another's twin.
	twin := acc.Goal
	twin.Note = "again"
	_, err = gs.AddGoal(ctx, p, exp.Key, twin)
	if trellis.ErrorCode(err) != trellis.EINVALID || trellis.ErrorField(err) != "metric" || !strings.Contains(trellis.ErrorMessage(err), "already there") {
		t.Errorf("duplicate goal: %v", err)
	}
	_, err = gs.UpdateGoal(ctx, p, f1.ID, goal.GoalUpdate{Metric: &twin.Metric, Class: &twin.Class, Comparator: &twin.Comparator, Threshold: &twin.Threshold,
		Dataset: &twin.Dataset, DatasetVersion: &twin.DatasetVersion})
	if trellis.ErrorField(err) != "metric" {
		t.Errorf("edit into a duplicate: %v", err)
	}
	// A project goal names the runs it is judged on.
	_, err = gs.AddGoal(ctx, p, "", goal.Goal{Metric: "accuracy", Comparator: speccheck.MoreThan, Threshold: 0.85})
	if trellis.ErrorCode(err) != trellis.EINVALID || trellis.ErrorField(err) != "experiment" {
		t.Errorf("project goal without runs: %v, want EINVALID on experiment", err)
	}
	_, err = gs.AddGoal(ctx, p, "", goal.Goal{Metric: "accuracy", Comparator: speccheck.MoreThan, Threshold: 0.85, RunTag: "stage"})
	if trellis.ErrorField(err) != "run_tag" {
		t.Errorf("run tag without =: %v", err)
	}
	proj := must[*goal.StoredGoal](t)(gs.AddGoal(ctx, p, "", goal.Goal{Metric: "accuracy", Comparator: speccheck.MoreThan, Threshold: 0.85, Experiment: " train "}))
	if proj.Experiment != "train" {
		t.Errorf("project goal experiment %q", proj.Experiment)
	}
	if acc.Comparator != speccheck.AtLeast || acc.Position != 1 || f1.Position != 2 || proj.Position != 1 || acc.Item != exp.Key || proj.Item != "" ||
		acc.CreatedBy != "ada" || f1.Key != "f1.spam" || f1.Text != "f1.spam at least 0.8" {
		t.Fatalf("added %+v %+v %+v", acc, f1, proj)
	}
	list := must[[]*goal.StoredGoal](t)(gs.Goals(ctx, p, exp.Key))
	if len(list) != 3 || list[0].ID != acc.ID || list[1].ID != f1.ID || list[2].ID != loss.ID || list[0].Dataset != "reviews" ||
		list[0].DatasetVersion != "v2" || list[0].Note != "on the held-out split" || !list[0].CreatedAt.Equal(acc.CreatedAt.Truncate(time.Millisecond)) {
		t.Fatalf("item goals %+v", list)
	}
	if pl := must[[]*goal.StoredGoal](t)(gs.Goals(ctx, p, "")); len(pl) != 1 || pl[0].ID != proj.ID {
		t.Fatalf("project goals %+v", pl)
	}

	// Update and delete.
	th, cmp := 0.75, speccheck.Comparator("more than")
	up := must[*goal.StoredGoal](t)(gs.UpdateGoal(ctx, p, f1.ID, goal.GoalUpdate{Threshold: &th, Comparator: &cmp}))
	if up.Threshold != 0.75 || up.Comparator != speccheck.MoreThan || up.Class != "spam" {
		t.Fatalf("updated %+v", up)
	}
	bad := ""
	_, err = gs.UpdateGoal(ctx, p, f1.ID, goal.GoalUpdate{Metric: &bad})
	if trellis.ErrorField(err) != "metric" {
		t.Fatalf("empty metric update: %v", err)
	}
	_, err = gs.UpdateGoal(ctx, p, "nope", goal.GoalUpdate{Threshold: &th})
	wantCode(t, err, trellis.ENOTFOUND)
	wantCode(t, gs.DeleteGoal(ctx, p, "nope"), trellis.ENOTFOUND)

	// Another project sees none of these goals.
	as := auth.NewService(db, FastHash)
	cat := must[*project.Project](t)(project.NewService(db, as).CreateProject(ctx, project.NewProject{Key: "CAT", Name: "Cats"}))
	_, err = gs.Goal(ctx, cat, acc.ID)
	wantCode(t, err, trellis.ENOTFOUND)
	wantCode(t, gs.DeleteGoal(ctx, cat, acc.ID), trellis.ENOTFOUND)

	// Evaluation with no runs: no data.
	ev := must[*goal.ItemEvaluation](t)(gs.EvaluateItemGoals(ctx, p, exp.Key))
	if ev.Runs != 0 || len(ev.Goals) != 3 || ev.Goals[0].Status != goal.NoData || ev.Goals[0].ID != acc.ID {
		t.Fatalf("no runs: %+v", ev)
	}

	// Runs: linked to the experiment item at seconds 1, 2, 3 (the latest
	// regresses on accuracy), one deleted run that would meet everything,
	// one run of the other item and one unlinked run.
	e := must[*tracking.Experiment](t)(tr.CreateExperiment(ctx, p, "train", "", nil))
	eid := fmt.Sprint(e.ID)
	r1 := goalRun(t, ctx, tr, p, eid, exp.Key, 1, map[string]float64{"accuracy": 0.8, "f1.spam": 0.7, "loss": 0.5})
	r2 := goalRun(t, ctx, tr, p, eid, exp.Key, 2, map[string]float64{"accuracy": 0.93, "f1.spam": math.NaN()})
	r3 := goalRun(t, ctx, tr, p, eid, exp.Key, 3, map[string]float64{"accuracy": 0.88, "loss": 0.1})
	// The accuracy goal is scoped to reviews v2: r1 names the version by
	// digest, r2 and r3 by the input's version tag; a run on reviews v1
	// and one that logged no dataset at all do not count for it.
	useDataset := func(run, name, digest, version string) {
		in := tracking.DatasetInput{Dataset: tracking.Dataset{Name: name, Digest: digest, SourceType: "local", Source: "reviews.csv"}}
		if version != "" {
			in.Tags = []tracking.Tag{{Key: "version", Value: version}}
		}
		if err := tr.LogInputs(ctx, p, run, []tracking.DatasetInput{in}); err != nil {
			t.Fatal(err)
		}
	}
	useDataset(r1, "reviews", "v2", "")
	useDataset(r2, "reviews", "9f8e7d6c", "v2")
	useDataset(r3, "reviews", "1a2b3c4d", "v2")
	useDataset(goalRun(t, ctx, tr, p, eid, exp.Key, 3, map[string]float64{"accuracy": 0.99}), "reviews", "v1", "v1")
	goalRun(t, ctx, tr, p, eid, exp.Key, 3, map[string]float64{"accuracy": 0.98})
	gone := goalRun(t, ctx, tr, p, eid, exp.Key, 4, map[string]float64{"accuracy": 0.99, "f1.spam": 0.99, "loss": 0})
	if err := tr.SetRunStage(ctx, p, gone, tracking.StageDeleted); err != nil {
		t.Fatal(err)
	}
	goalRun(t, ctx, tr, p, eid, other.Key, 5, map[string]float64{"accuracy": 0.6})
	goalRun(t, ctx, tr, p, eid, "", 6, map[string]float64{"accuracy": 0.95})

	ev = must[*goal.ItemEvaluation](t)(gs.EvaluateItemGoals(ctx, p, exp.Key))
	if ev.Runs != 5 || ev.Item != exp.Key {
		t.Fatalf("runs %d item %s", ev.Runs, ev.Item)
	}
	a, f, l := ev.Goals[0], ev.Goals[1], ev.Goals[2]
	if a.Status != goal.NotMet || a.Latest.RunID != r3 || a.Latest.Value.V != 0.88 || a.Best.RunID != r2 || a.Best.Value.V != 0.93 ||
		len(a.Observations) != 3 || a.Observations[0].RunID != r1 || a.Observations[0].RunName != "run 1" {
		t.Errorf("accuracy %+v latest %+v best %+v", a.Status, a.Latest, a.Best)
	}
	if f.Status != goal.Undefined || f.Latest.RunID != r2 || f.Best.RunID != r1 {
		t.Errorf("f1.spam %+v latest %+v best %+v", f.Status, f.Latest, f.Best)
	}
	if l.Status != goal.Met || l.Latest.RunID != r3 || l.Best.Value.V != 0.1 {
		t.Errorf("loss %+v latest %+v best %+v", l.Status, l.Latest, l.Best)
	}
	// The JSON carries the goal ids.
	if js := ev.JSON(); js.Goals[0].ID != acc.ID || js.Goals[1].Latest.Value != nil || js.Goals[1].Latest.Undefined == "" {
		t.Errorf("json %+v", js.Goals[:2])
	}

	// Project goals read the active runs of the experiment they name: the
	// latest to log accuracy is the unlinked run at second 6; an
	// exploratory run elsewhere, later and far worse, does not count.
	scratch := must[*tracking.Experiment](t)(tr.CreateExperiment(ctx, p, "scratch", "", nil))
	goalRun(t, ctx, tr, p, fmt.Sprint(scratch.ID), "", 9, map[string]float64{"accuracy": 0.1})
	pe := must[*goal.ItemEvaluation](t)(gs.EvaluateProjectGoals(ctx, p))
	if len(pe.Goals) != 1 || pe.Goals[0].Status != goal.Met || pe.Goals[0].Latest.Value.V != 0.95 || pe.Runs != 7 {
		t.Errorf("project goals %+v runs %d", pe.Goals, pe.Runs)
	}
	// Or the runs that carry a tag, in any experiment.
	tagged := must[*goal.StoredGoal](t)(gs.AddGoal(ctx, p, "", goal.Goal{Metric: "accuracy", Comparator: speccheck.AtLeast, Threshold: 0.9, RunTag: "candidate = yes"}))
	cand := goalRun(t, ctx, tr, p, fmt.Sprint(scratch.ID), "", 8, map[string]float64{"accuracy": 0.91})
	if err := tr.LogBatch(ctx, p, cand, tracking.Batch{Tags: []tracking.Tag{{Key: "candidate", Value: "yes"}}}); err != nil {
		t.Fatal(err)
	}
	pe = must[*goal.ItemEvaluation](t)(gs.EvaluateProjectGoals(ctx, p))
	if tg := pe.Goals[1]; tagged.RunTag != "candidate=yes" || tg.Status != goal.Met || tg.Latest.RunID != cand || len(tg.Observations) != 1 {
		t.Errorf("goal on tagged runs %+v: %+v", tagged, tg)
	}
	wantCode(t, gs.DeleteGoal(ctx, p, tagged.ID), "")
	// Goals sent with a request (a spec's Then steps).
	adhoc := must[*goal.ItemEvaluation](t)(gs.EvaluateGoals(ctx, p, exp.Key, []goal.Goal{{Metric: "accuracy", Comparator: speccheck.AtLeast, Threshold: 0.85}, {Metric: "val_loss", Comparator: speccheck.AtMost, Threshold: 1}}))
	if adhoc.Runs != 5 || adhoc.Goals[0].Status != goal.Met || adhoc.Goals[1].Status != goal.NoData {
		t.Errorf("ad hoc %+v", adhoc.Goals)
	}

	// The board's progress: every item with goals, in one go.
	prog := must[map[string]goal.GoalProgress](t)(gs.ItemProgress(ctx, p, "", ""))
	if len(prog) != 2 || prog[exp.Key] != (goal.GoalProgress{Met: 1, Total: 3}) || prog[other.Key] != (goal.GoalProgress{Met: 1, Total: 1}) || !prog[other.Key].AllMet() {
		t.Errorf("progress %+v", prog)
	}
	// Narrowed as the experiment board and a sprint board show them.
	if prog := must[map[string]goal.GoalProgress](t)(gs.ItemProgress(ctx, p, "", string(work.KindExperiment))); len(prog) != 1 || prog[exp.Key].Total != 3 {
		t.Errorf("experiment progress %+v", prog)
	}
	sp := must[*work.Sprint](t)(ws.CreateSprint(ctx, p, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-13"}))
	must[*work.Item](t)(ws.UpdateItem(ctx, p, other.Key, work.ItemUpdate{Sprint: &sp.ID}))
	if prog := must[map[string]goal.GoalProgress](t)(gs.ItemProgress(ctx, p, sp.ID, "")); len(prog) != 1 || prog[other.Key].Met != 1 {
		t.Errorf("sprint progress %+v", prog)
	}

	// A decision keeps the goal results of its moment as evidence.
	d, _ := must2(t)(ws.Decide(ctx, p, exp.Key, work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "accuracy regressed"}))
	useDataset(goalRun(t, ctx, tr, p, eid, exp.Key, 7, map[string]float64{"accuracy": 0.97}), "reviews", "v2", "")
	snaps := must[map[string]*goal.Snapshot](t)(gs.DecisionEvidence(ctx, p))
	s := snaps[d.ItemID]
	if len(snaps) != 1 || s == nil || len(s.Results.Goals) != 3 || s.Results.Goals[0].Status != goal.NotMet || *s.Results.Goals[0].Latest.Value != 0.88 ||
		!s.TakenAt.Equal(d.DecidedAt.Truncate(time.Millisecond)) {
		t.Fatalf("snapshot %+v", s)
	}
	if now := must[*goal.ItemEvaluation](t)(gs.EvaluateItemGoals(ctx, p, exp.Key)); now.Goals[0].Status != goal.Met {
		t.Errorf("after the new run: %+v", now.Goals[0].Evaluation)
	}
	// A run still training shows as provisional and decides nothing, on
	// the item page and on the board.
	training := must[*tracking.Run](t)(tr.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid, Name: "still training",
		StartTime: 1_700_000_008_000, Tags: []tracking.Tag{{Key: tracking.TagItem, Value: exp.Key}}}))
	if err := tr.LogBatch(ctx, p, training.Info.ID, tracking.Batch{Metrics: []tracking.Metric{{Key: "accuracy", Value: 0.5, Timestamp: 1}}}); err != nil {
		t.Fatal(err)
	}
	useDataset(training.Info.ID, "reviews", "v2", "")
	now := must[*goal.ItemEvaluation](t)(gs.EvaluateItemGoals(ctx, p, exp.Key)).Goals[0]
	if now.Status != goal.Met || now.Latest.Value.V != 0.97 || now.Provisional == nil || now.Provisional.RunName != "still training" ||
		now.Provisional.Value.V != 0.5 {
		t.Errorf("with a run still training: %+v provisional %+v", now.Evaluation, now.Provisional)
	}
	if js := (&goal.ItemEvaluation{Goals: []goal.GoalResult{now}}).JSON(); js.Goals[0].Provisional == nil || js.Goals[0].Provisional.RunName != "still training" {
		t.Errorf("provisional json %+v", js.Goals[0])
	}
	if prog := must[map[string]goal.GoalProgress](t)(gs.ItemProgress(ctx, p, "", "")); prog[exp.Key].Met != 2 {
		t.Errorf("board progress with a run still training: %+v", prog[exp.Key])
	}

	if err := gs.DeleteGoal(ctx, p, f1.ID); err != nil {
		t.Fatal(err)
	}
	if list := must[[]*goal.StoredGoal](t)(gs.Goals(ctx, p, exp.Key)); len(list) != 2 || list[1].ID != loss.ID {
		t.Fatalf("after delete %+v", list)
	}
}

// goalModel is the test's own account of runs, links and stages, from
// which goal.EvaluateItem computes the expected results without SQL.
type goalModel struct {
	runs  map[string]*modelRun
	exps  map[string]bool   // experiment id → active
	names map[string]string // experiment id → name
	order []string          // run ids in creation order
}

type modelRun struct {
	id, exp  string
	start    int64
	active   bool
	status   string
	tags     map[string]string
	metrics  map[string]float64
	items    map[string]bool
	datasets []goal.DatasetInput
}

// LinkedRuns implements goal.ItemRuns over the model: the active runs of
// active experiments linked to itemKey.
func (m *goalModel) LinkedRuns(_ context.Context, itemKey string) ([]goal.LinkedRun, error) {
	var out []goal.LinkedRun
	for _, id := range m.order {
		r := m.runs[id]
		if r.active && m.exps[r.exp] && r.items[itemKey] {
			out = append(out, goal.LinkedRun{ID: r.id, StartTime: r.start, Status: r.status, Experiment: m.names[r.exp], Tags: r.tags,
				Metrics: r.metrics, Datasets: r.datasets})
		}
	}
	return out, nil
}

// testGoalsLatestRandom checks the board's fast path (the latest
// observation per goal, and ItemProgress built on it: the store's
// projection of goal.LaterRun) against
// goal.EvaluateItem over the same data kept in memory, and against the item
// page's full evaluation, on random runs: some without a goal's metric,
// some logging NaN, some still running, some on one dataset version or
// another, deleted and restored runs and experiments, unlinked and doubly
// linked runs, start times that tie, and goals edited between rounds —
// the rules goal.LaterRun, goal.FinishedRunsDecide, Goal.UsedBy and
// Goal.Chooses against their SQL projections.
func testGoalsLatestRandom(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	tr := tracking.NewService(db)
	gs := goal.NewService(db, tr)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(uint64(seed), 7))

	sp := must[*work.Sprint](t)(ws.CreateSprint(ctx, p, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-13"}))
	metrics := []goal.Goal{{Metric: "acc"}, {Metric: "loss"}, {Metric: "f1", Class: "spam"}, {Metric: "never"}}
	comparators := []speccheck.Comparator{speccheck.AtLeast, speccheck.AtMost, speccheck.MoreThan, speccheck.LessThan, speccheck.Exactly}
	datasets := [][2]string{{"", ""}, {"", ""}, {"reviews", ""}, {"reviews", "v1"}, {"reviews", "v2"}}
	randomGoal := func() goal.Goal {
		g := metrics[rnd.IntN(len(metrics))]
		g.Comparator = comparators[rnd.IntN(len(comparators))]
		g.Threshold = float64(rnd.IntN(5)) / 4
		d := datasets[rnd.IntN(len(datasets))]
		g.Dataset, g.DatasetVersion = d[0], d[1]
		g.Experiment = []string{"", "", "exp 0"}[rnd.IntN(3)]
		g.RunTag = []string{"", "", "stage=a"}[rnd.IntN(3)]
		return g
	}
	var items []*work.Item
	for i := range 8 {
		in := work.NewItem{Kind: work.Kinds[i%len(work.Kinds)], Title: fmt.Sprintf("item %d", i), Points: 3, TimeBox: "2d"}
		if in.Kind == work.KindExperiment {
			in.Hypothesis = "We believe it helps"
		}
		if i%3 == 0 {
			in.Sprint = sp.ID
		}
		it := must[*work.Item](t)(ws.CreateItem(ctx, p, in))
		items = append(items, it)
		for range rnd.IntN(4) { // 0 to 3 goals; a random twin of one is refused
			if _, err := gs.AddGoal(ctx, p, it.Key, randomGoal()); err != nil && !isDuplicate(err) {
				t.Fatal(err)
			}
		}
	}
	m := &goalModel{runs: map[string]*modelRun{}, exps: map[string]bool{}, names: map[string]string{}}
	var expIDs []string
	for i := range 2 {
		e := must[*tracking.Experiment](t)(tr.CreateExperiment(ctx, p, fmt.Sprintf("exp %d", i), "", nil))
		id := fmt.Sprint(e.ID)
		expIDs = append(expIDs, id)
		m.exps[id] = true
		m.names[id] = e.Name
	}
	values := []float64{0, 0.25, 0.5, 0.75, 1, math.NaN()}
	addRuns := func(n int) {
		for range n {
			// Runs start at one of 6 seconds: many tie, and the run id
			// breaks the tie.
			r := &modelRun{exp: expIDs[rnd.IntN(len(expIDs))], start: 1_700_000_000_000 + int64(rnd.IntN(6))*1000, active: true,
				metrics: map[string]float64{}, items: map[string]bool{}, tags: map[string]string{}}
			for _, id := range expIDs { // a deleted experiment takes no runs; one is always active
				if !m.exps[r.exp] {
					r.exp = id
				}
			}
			var tags []tracking.Tag
			if k := rnd.IntN(len(items) + 2); k < len(items) { // some runs link to no item
				tags = []tracking.Tag{{Key: tracking.TagItem, Value: items[k].Key}}
				r.items[items[k].Key] = true
			}
			if stage := []string{"", "a", "b"}[rnd.IntN(3)]; stage != "" {
				tags = append(tags, tracking.Tag{Key: "stage", Value: stage})
				r.tags["stage"] = stage
			}
			run := must[*tracking.Run](t)(tr.CreateRun(ctx, p, tracking.NewRun{ExperimentID: r.exp, Name: "r", StartTime: r.start, Tags: tags}))
			r.id = run.Info.ID
			var b tracking.Batch
			for _, g := range metrics[:3] {
				if rnd.IntN(3) > 0 {
					v := values[rnd.IntN(len(values))]
					r.metrics[g.MetricKey()] = v
					b.Metrics = append(b.Metrics, tracking.Metric{Key: g.MetricKey(), Value: v, Timestamp: 1})
				}
			}
			if err := tr.LogBatch(ctx, p, r.id, b); err != nil {
				t.Fatal(err)
			}
			// Inputs: none, or one or two of reviews and another
			// dataset, the version given by digest or by tag.
			var inputs []tracking.DatasetInput
			for range rnd.IntN(3) {
				in := goal.DatasetInput{Name: []string{"reviews", "reviews", "photos"}[rnd.IntN(3)], Digest: []string{"v1", "v2", "d0"}[rnd.IntN(3)],
					Version: []string{"", "v1", "v2"}[rnd.IntN(3)]}
				ti := tracking.DatasetInput{Dataset: tracking.Dataset{Name: in.Name, Digest: in.Digest, SourceType: "local", Source: "x"}}
				if in.Version != "" {
					ti.Tags = []tracking.Tag{{Key: "version", Value: in.Version}}
				}
				if slices.ContainsFunc(r.datasets, func(d goal.DatasetInput) bool { return d.Name == in.Name && d.Digest == in.Digest }) {
					continue // MLflow keeps one input per dataset and run, with its first tags
				}
				inputs = append(inputs, ti)
				r.datasets = append(r.datasets, in)
			}
			if len(inputs) > 0 {
				if err := tr.LogInputs(ctx, p, r.id, inputs); err != nil {
					t.Fatal(err)
				}
			}
			// A quarter of the runs are still running.
			r.status = []string{"RUNNING", "FINISHED", "FAILED", "FINISHED"}[rnd.IntN(4)]
			if r.status != "RUNNING" {
				must[*tracking.RunInfo](t)(tr.UpdateRun(ctx, p, r.id, tracking.RunUpdate{Status: &r.status}))
			}
			m.runs[r.id] = r
			m.order = append(m.order, r.id)
		}
	}
	// mutate deletes, restores, links and unlinks a few runs, deletes or
	// restores an experiment, and edits a few goals.
	mutate := func() {
		for range 6 {
			r := m.runs[m.order[rnd.IntN(len(m.order))]]
			switch rnd.IntN(4) {
			case 0:
				stage := map[bool]string{true: tracking.StageDeleted, false: tracking.StageActive}[r.active]
				if err := tr.SetRunStage(ctx, p, r.id, stage); err != nil {
					t.Fatal(err)
				}
				r.active = !r.active
			case 1:
				k := items[rnd.IntN(len(items))].Key
				must[*tracking.ItemLink](t)(tr.LinkItem(ctx, p, r.id, k))
				r.items[k] = true
			case 2:
				for k := range r.items {
					if err := tr.UnlinkItem(ctx, p, r.id, k); err != nil {
						t.Fatal(err)
					}
					delete(r.items, k)
					break
				}
			}
		}
		// Delete an experiment while both are active, else restore the
		// deleted one: one experiment stays active to take new runs.
		e := expIDs[rnd.IntN(len(expIDs))]
		if m.exps[expIDs[0]] && m.exps[expIDs[1]] {
			if err := tr.SetExperimentStage(ctx, p, e, tracking.StageDeleted); err != nil {
				t.Fatal(err)
			}
			m.exps[e] = false
			for _, r := range m.runs {
				if r.exp == e {
					r.active = false
				}
			}
		} else {
			for _, id := range expIDs {
				if !m.exps[id] {
					e = id
				}
			}
			if err := tr.SetExperimentStage(ctx, p, e, tracking.StageActive); err != nil {
				t.Fatal(err)
			}
			m.restoreExp(e)
		}
		all := must[[]*goal.StoredGoal](t)(gs.Goals(ctx, p, items[rnd.IntN(len(items))].Key))
		for _, g := range all {
			ng := randomGoal()
			_, err := gs.UpdateGoal(ctx, p, g.ID, goal.GoalUpdate{Metric: &ng.Metric, Class: &ng.Class, Comparator: &ng.Comparator,
				Threshold: &ng.Threshold, Dataset: &ng.Dataset, DatasetVersion: &ng.DatasetVersion, Experiment: &ng.Experiment, RunTag: &ng.RunTag})
			if err != nil && !isDuplicate(err) {
				t.Fatal(err)
			}
		}
		// A run that was still running finishes.
		for _, id := range m.order {
			if r := m.runs[id]; r.status == "RUNNING" && r.active && rnd.IntN(2) == 0 {
				r.status = "FINISHED"
				must[*tracking.RunInfo](t)(tr.UpdateRun(ctx, p, r.id, tracking.RunUpdate{Status: &r.status}))
				break
			}
		}
	}
	check := func(round int) {
		t.Helper()
		latest := map[string]goal.GoalLatest{}
		for _, gl := range must[[]goal.GoalLatest](t)(db.FindLatestGoalObservations(ctx, goal.GoalFilter{ProjectID: p.ID, Level: goal.ItemGoals})) {
			if _, dup := latest[gl.GoalID]; dup {
				t.Fatalf("round %d: goal %s listed twice", round, gl.GoalID)
			}
			latest[gl.GoalID] = gl
		}
		goals := 0
		want := map[string]goal.GoalProgress{}
		wantSprint := map[string]goal.GoalProgress{}
		wantExp := map[string]goal.GoalProgress{}
		for _, it := range items {
			stored := must[[]*goal.StoredGoal](t)(gs.Goals(ctx, p, it.Key))
			if len(stored) == 0 {
				continue
			}
			gl := make([]goal.Goal, len(stored))
			for i, g := range stored {
				gl[i] = g.Goal
			}
			exp := must[*goal.ItemEvaluation](t)(goal.EvaluateItem(ctx, m, it.Key, gl))
			page := must[*goal.ItemEvaluation](t)(gs.EvaluateItemGoals(ctx, p, it.Key))
			var prog goal.GoalProgress
			for i, g := range stored {
				e := exp.Goals[i]
				gl, listed := latest[g.ID]
				if !listed || gl.Goal.MetricKey() != g.Goal.MetricKey() || gl.Goal.Comparator != g.Comparator || gl.Goal.Threshold != g.Threshold ||
					gl.ItemNumber != it.Number {
					t.Errorf("round %d %s: goal %+v listed as %+v", round, it.Key, g, gl)
				}
				goals++
				o, ok := gl.Latest, gl.Latest != nil
				switch {
				case e.Latest == nil && ok:
					t.Errorf("round %d %s %s: fast path observed run %s, want no data", round, it.Key, g.Text, o.RunID)
				case e.Latest != nil && !ok:
					t.Errorf("round %d %s %s: fast path has no observation, want run %s", round, it.Key, g.Text, e.Latest.RunID)
				case e.Latest != nil && (o.RunID != e.Latest.RunID || o.StartTime != e.Latest.At || (o.Value == nil) != !e.Latest.Value.Defined ||
					(o.Value != nil && *o.Value != e.Latest.Value.V)):
					t.Errorf("round %d %s %s: fast path %s@%d %v, want %s@%d %v", round, it.Key, g.Text, o.RunID, o.StartTime, o.Value,
						e.Latest.RunID, e.Latest.At, e.Latest.Value)
				}
				if pg := page.Goals[i]; pg.Status != e.Status || len(pg.Observations) != len(e.Observations) {
					t.Errorf("round %d %s %s: item page %s with %d observations, want %s with %d", round, it.Key, g.Text,
						pg.Status, len(pg.Observations), e.Status, len(e.Observations))
				}
				prog.Total++
				if e.Status == goal.Met {
					prog.Met++
				}
			}
			want[it.Key] = prog
			if it.SprintID == sp.ID {
				wantSprint[it.Key] = prog
			}
			if it.Kind == work.KindExperiment {
				wantExp[it.Key] = prog
			}
		}
		if len(latest) != goals {
			t.Errorf("round %d: %d goals listed, want %d", round, len(latest), goals)
		}
		for _, c := range []struct {
			sprint string
			kind   work.Kind
			want   map[string]goal.GoalProgress
		}{{"", "", want}, {sp.ID, "", wantSprint}, {"", work.KindExperiment, wantExp}} {
			got := must[map[string]goal.GoalProgress](t)(gs.ItemProgress(ctx, p, c.sprint, string(c.kind)))
			if !maps.Equal(got, c.want) {
				t.Errorf("round %d: ItemProgress(%q, %q) = %v, want %v", round, c.sprint, c.kind, got, c.want)
			}
		}
	}
	addRuns(60)
	check(0)
	for round := 1; round <= 3; round++ {
		mutate()
		addRuns(10)
		check(round)
	}
}

// restoreExp marks an experiment and, as restoring does, all its runs
// active.
func (m *goalModel) restoreExp(id string) {
	m.exps[id] = true
	for _, r := range m.runs {
		if r.exp == id {
			r.active = true
		}
	}
}

// isDuplicate reports the refusal of a goal that another of its item's
// goals already is.
func isDuplicate(err error) bool {
	return trellis.ErrorField(err) == "metric" && strings.Contains(trellis.ErrorMessage(err), "already there")
}
