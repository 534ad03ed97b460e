package storetest

import (
	"context"
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

// specFixture makes a user, project BAL with items BAL-1 and BAL-2, and
// the tracking and goal services over db, with a run-finished hook that
// re-checks specs as internal/cli wires it.
func specFixture(t *testing.T, db *store.DB) (context.Context, *tracking.Service, *goal.Service, *project.Project) {
	t.Helper()
	ctx, track, p := trackingFixture(t, db)
	ps := project.NewService(db, auth.NewService(db, FastHash))
	ws := work.NewService(db, ps)
	for _, title := range []string{"Churn model", "Serve it"} {
		must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: work.KindDevelopment, Title: title}))
	}
	goals := goal.NewService(db, track)
	track.OnRunFinished(func(ctx context.Context, ev tracking.RunFinished) {
		if err := goals.SpecRunFinished(ctx, ev); err != nil {
			t.Errorf("spec hook: %v", err)
		}
	})
	return ctx, track, goals, p
}

// logItemRun logs a run linked to item with accuracy acc and finishes it.
func logItemRun(t *testing.T, ctx context.Context, track *tracking.Service, p *project.Project, item string, start int64, acc float64) string {
	t.Helper()
	r := must[*tracking.Run](t)(track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "0", StartTime: start, Tags: []tracking.Tag{{Key: "trellis.item", Value: item}}}))
	if err := track.LogBatch(ctx, p, r.Info.ID, tracking.Batch{Metrics: []tracking.Metric{{Key: "acc", Value: acc, Timestamp: start}}}); err != nil {
		t.Fatal(err)
	}
	done := "FINISHED"
	must[*tracking.RunInfo](t)(track.UpdateRun(ctx, p, r.Info.ID, tracking.RunUpdate{Status: &done}))
	return r.Info.ID
}

const specV1 = `Feature: churn
  Scenario: the latest iteration is good enough
    Given the latest run of item "BAL-1"
    Then metric "acc" should be at least 0.8

  Scenario: scored offline
    Given labels from "labels.csv"
    And predictions from "predictions.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 0.9
`

func testSpecs(t *testing.T, db *store.DB) {
	ctx, track, goals, p := specFixture(t, db)
	clock := time.UnixMilli(1_800_000_000_000).UTC()
	goals.SetClock(func() time.Time { clock = clock.Add(time.Second); return clock })

	// A spec that does not bind is refused, naming the line and the
	// closest step, and nothing is stored.
	_, err := goals.AttachSpec(ctx, p, "BAL-1", "churn.feature", "Feature: f\n  Scenario: s\n    Given the latest run of itm \"BAL-1\"\n    Then metric \"acc\" should be at least 0.8\n")
	wantCode(t, err, trellis.EINVALID)
	if msg := trellis.ErrorMessage(err); trellis.ErrorField(err) != "text" || !strings.Contains(msg, "churn.feature:3") || !strings.Contains(msg, "the latest run of item") {
		t.Fatalf("bad spec error %q (field %q)", msg, trellis.ErrorField(err))
	}
	_, err = goals.ItemSpecOf(ctx, p, "BAL-1")
	wantCode(t, err, trellis.ENOTFOUND)
	_, err = goals.AttachSpec(ctx, p, "BAL-1", "", specV1)
	wantCode(t, err, trellis.EINVALID)
	_, err = goals.AttachSpec(ctx, p, "BAL-99", "churn.feature", specV1)
	wantCode(t, err, trellis.ENOTFOUND)

	// Attached: checked at once. No run yet is no data (not an error);
	// the file-based scenario is skipped with its reason.
	s := must[*goal.ItemSpec](t)(goals.AttachSpec(ctx, p, "BAL-1", "churn.feature", specV1))
	if !s.Created || s.Spec.Version != 1 || s.Spec.Author != "ada" || s.Spec.Item != "BAL-1" || len(s.Results) != 2 {
		t.Fatalf("attach: %+v", s)
	}
	if r := s.Results[0]; r.Outcome != goal.SpecNoData || r.Message != "no run linked to BAL-1 yet" || r.Line != 2 || len(r.Checks) != 1 || r.Checks[0].Outcome != goal.SpecNoData {
		t.Fatalf("no runs: %+v", r)
	}
	if sum := s.Summary; sum.NoData != 1 || sum.Errors != 0 || sum.Status() != goal.SpecNoData {
		t.Fatalf("no runs: summary %+v", sum)
	}
	first := must[map[string]*goal.SpecSummary](t)(goals.SpecSummaries(ctx, p))
	if len(first) != 1 {
		t.Fatalf("summaries %v", first)
	}
	for _, sum := range first {
		if sum.NoData != 1 || sum.Errors != 0 || sum.Skipped != 1 {
			t.Fatalf("stored summary %+v", sum)
		}
	}
	if r := s.Results[1]; r.Outcome != speccheck.Skipped || r.Message != goal.FileSkipReason || len(r.Checks) != 1 {
		t.Fatalf("file-based: %+v", r)
	}

	// A run linked to the item finishes: the hook re-checks.
	low := logItemRun(t, ctx, track, p, "BAL-1", 1_700_000_000_000, 0.7)
	s = must[*goal.ItemSpec](t)(goals.ItemSpecOf(ctx, p, "BAL-1"))
	r := s.Results[0]
	if r.Outcome != speccheck.Failed || r.RunID != low || len(r.Checks) != 1 || r.Checks[0].Measured == nil || *r.Checks[0].Measured != 0.7 || r.Checks[0].Threshold != 0.8 {
		t.Fatalf("after a low run: %+v %+v", r, r.Checks)
	}
	high := logItemRun(t, ctx, track, p, "BAL-1", 1_700_000_100_000, 0.85)
	s = must[*goal.ItemSpec](t)(goals.ItemSpecOf(ctx, p, "BAL-1"))
	if r := s.Results[0]; r.Outcome != speccheck.Passed || r.RunID != high || r.Message != "" {
		t.Fatalf("after a high run: %+v", r)
	}
	if s.Summary.Passed != 1 || s.Summary.Skipped != 1 || s.Summary.Status() != speccheck.Passed {
		t.Fatalf("summary %+v", s.Summary)
	}
	// A run of another item changes nothing.
	before := s.Results[0].CheckedAt
	logItemRun(t, ctx, track, p, "BAL-2", 1_700_000_200_000, 0.1)
	if s = must[*goal.ItemSpec](t)(goals.ItemSpecOf(ctx, p, "BAL-1")); !s.Results[0].CheckedAt.Equal(before) {
		t.Fatal("a run of BAL-2 re-checked BAL-1's spec")
	}

	// The same text again is no new version; a changed one is.
	s = must[*goal.ItemSpec](t)(goals.AttachSpec(ctx, p, "BAL-1", "churn.feature", specV1))
	if s.Created || s.Spec.Version != 1 {
		t.Fatalf("same text: created %v version %d", s.Created, s.Spec.Version)
	}
	v2 := strings.Replace(specV1, "at least 0.8", "at least 0.9", 1)
	s = must[*goal.ItemSpec](t)(goals.AttachSpec(ctx, p, "BAL-1", "churn-v2.feature", v2))
	if !s.Created || s.Spec.Version != 2 || s.Results[0].Version != 2 || s.Results[0].Outcome != speccheck.Failed {
		t.Fatalf("v2: %+v %+v", s.Spec, s.Results[0])
	}
	vs := must[[]*goal.SpecVersion](t)(goals.SpecVersions(ctx, p, "BAL-1"))
	if len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 || vs[0].Text != "" || vs[1].Name != "churn.feature" {
		t.Fatalf("versions %+v", vs)
	}
	old := must[*goal.SpecVersion](t)(goals.SpecVersion(ctx, p, "BAL-1", 1))
	if old.Text != specV1 || old.Version != 1 {
		t.Fatalf("version 1: %+v", old)
	}
	_, err = goals.SpecVersion(ctx, p, "BAL-1", 3)
	wantCode(t, err, trellis.ENOTFOUND)
	_, err = goals.SpecVersion(ctx, p, "BAL-1", 0)
	wantCode(t, err, trellis.EINVALID)

	// Results of an old version never replace the latest's.
	saved, err := db.SaveSpecResults(ctx, s.Spec.ItemID, p.ID, 1, nil)
	if err != nil || saved {
		t.Fatalf("saving results of version 1 over version 2: saved %v, %v", saved, err)
	}

	// On demand; a deleted run no longer counts.
	if err := track.SetRunStage(ctx, p, high, tracking.StageDeleted); err != nil {
		t.Fatal(err)
	}
	s = must[*goal.ItemSpec](t)(goals.CheckItemSpec(ctx, p, "BAL-1"))
	if r := s.Results[0]; r.RunID != low || r.Outcome != speccheck.Failed {
		t.Fatalf("after deleting the high run: %+v", r)
	}

	// One query counts every card's results.
	must[*goal.ItemSpec](t)(goals.AttachSpec(ctx, p, "BAL-2", "serve.feature", "Feature: f\n  Scenario: s\n    Given the run \""+low+"\"\n    Then metric \"acc\" should be at most 0.75\n"))
	sums := must[map[string]*goal.SpecSummary](t)(goals.SpecSummaries(ctx, p))
	if len(sums) != 2 {
		t.Fatalf("summaries %+v", sums)
	}
	for _, sum := range sums {
		switch {
		case sum.Version == 2 && sum.Failed == 1 && sum.Skipped == 1 && sum.Status() == speccheck.Failed:
		case sum.Version == 1 && sum.Passed == 1 && sum.Checked() == 1 && sum.Status() == speccheck.Passed:
		default:
			t.Errorf("summary %+v", sum)
		}
	}
}

// testRunFinishedHook checks that the hook fires once per change to a
// terminal status, after the change is visible, and not for other updates.
func testRunFinishedHook(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	var got []tracking.RunFinished
	svc.OnRunFinished(func(ctx context.Context, ev tracking.RunFinished) {
		r, err := svc.Run(ctx, ev.Project, ev.RunID)
		if err != nil || r.Info.Status != ev.Status {
			t.Errorf("hook ran before the update was committed: %v %+v", err, r)
		}
		got = append(got, ev)
	})
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "0", StartTime: 1}))
	id := r.Info.ID
	set := func(status string) {
		t.Helper()
		must[*tracking.RunInfo](t)(svc.UpdateRun(ctx, p, id, tracking.RunUpdate{Status: &status}))
	}
	name := "renamed"
	must[*tracking.RunInfo](t)(svc.UpdateRun(ctx, p, id, tracking.RunUpdate{Name: &name}))
	set("RUNNING")
	if len(got) != 0 {
		t.Fatalf("hook fired for a running run: %+v", got)
	}
	set("FINISHED")
	set("FINISHED") // terminal to terminal: no new transition
	set("FAILED")
	end := int64(5)
	must[*tracking.RunInfo](t)(svc.UpdateRun(ctx, p, id, tracking.RunUpdate{EndTime: &end}))
	if len(got) != 1 || got[0].RunID != id || got[0].Status != "FINISHED" || got[0].Project.ID != p.ID {
		t.Fatalf("after one transition to FINISHED: %+v", got)
	}
	set("RUNNING") // resumed, as MLflow allows, then killed: a second transition
	set("KILLED")
	if len(got) != 2 || got[1].Status != "KILLED" {
		t.Fatalf("after a second transition: %+v", got)
	}
	// A status the service refuses changes nothing and fires nothing.
	bad := "DONE"
	_, err := svc.UpdateRun(ctx, p, id, tracking.RunUpdate{Status: &bad})
	wantCode(t, err, trellis.EINVALID)
	if len(got) != 2 {
		t.Fatalf("a refused update fired the hook: %+v", got)
	}
}
