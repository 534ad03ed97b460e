package goal

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/trellisml/trellis/internal/goal/speccheck"
)

// runList is an in-memory ItemRuns: the links of one item.
type runList map[string][]LinkedRun

func (l runList) LinkedRuns(_ context.Context, item string) ([]LinkedRun, error) {
	if item == "BAD" {
		return nil, errors.New("bad item")
	}
	return l[item], nil
}

func TestEvaluateItem(t *testing.T) {
	runs := runList{"ML-1": {
		{ID: "r2", StartTime: 2000, Metrics: map[string]float64{"accuracy": 0.92, "loss": 0.5}},
		{ID: "r1", StartTime: 1000, Metrics: map[string]float64{"accuracy": 0.80, "loss": 0.3, "f1.spam": 0.7}},
		{ID: "r3", StartTime: 3000, Metrics: map[string]float64{"accuracy": 0.85, "rmse": math.NaN()}},
	}}
	goals := []Goal{
		{Metric: "accuracy", Comparator: speccheck.AtLeast, Threshold: 0.9},          // latest r3 0.85: not met; best r2
		{Metric: "loss", Comparator: speccheck.AtMost, Threshold: 0.4},               // latest logging run r2 0.5: not met; best r1 0.3
		{Metric: "f1", Class: "spam", Comparator: speccheck.AtLeast, Threshold: 0.6}, // only r1: met
		{Metric: "r2", Comparator: speccheck.AtLeast, Threshold: 0.5},                // never logged
		{Metric: "rmse", Comparator: speccheck.AtMost, Threshold: 1},                 // NaN: undefined
	}
	want := []struct {
		status       Status
		latest, best string
	}{
		{NotMet, "r3", "r2"},
		{NotMet, "r2", "r1"},
		{Met, "r1", "r1"},
		{NoData, "", ""},
		{Undefined, "r3", ""},
	}
	ev, err := EvaluateItem(context.Background(), runs, "ML-1", goals)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Runs != 3 || len(ev.Goals) != len(goals) {
		t.Fatalf("runs %d goals %d", ev.Runs, len(ev.Goals))
	}
	id := func(o *Observation) string {
		if o == nil {
			return ""
		}
		return o.RunID
	}
	for i, w := range want {
		g := ev.Goals[i]
		if g.Status != w.status || id(g.Latest) != w.latest || id(g.Best) != w.best {
			t.Errorf("%s: %s latest %q best %q; want %s %q %q", g.Goal, g.Status, id(g.Latest), id(g.Best), w.status, w.latest, w.best)
		}
	}
	if _, err := EvaluateItem(context.Background(), runs, "BAD", goals); err == nil {
		t.Error("reader error was swallowed")
	}
	if ev, _ := EvaluateItem(context.Background(), runs, "ML-2", goals[:1]); ev.Runs != 0 || ev.Goals[0].Status != NoData {
		t.Errorf("item without runs: %+v", ev)
	}
}

func TestSpecGoals(t *testing.T) {
	sp, err := speccheck.ParseSpec("g.feature", []byte(`Feature: g
  Scenario: a
    Given the latest run of item "ML-1"
    Then metric "accuracy" should be at least 0.9
    And metric "loss" should be at most 0.4
  Scenario: b
    Given the run "abc"
    Then metric "accuracy" should be at least 90%
    And metric "accuracy" should be more than 0.5
`))
	if err != nil {
		t.Fatal(err)
	}
	got := SpecGoals(sp)
	want := []string{"accuracy at least 0.9", "loss at most 0.4", "accuracy more than 0.5"}
	if len(got) != len(want) {
		t.Fatalf("goals %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("goal %d = %s, want %s", i, got[i], want[i])
		}
	}
}
