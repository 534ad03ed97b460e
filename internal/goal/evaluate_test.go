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

func TestEvaluate(t *testing.T) {
	g := Goal{Metric: "accuracy", Comparator: speccheck.AtLeast, Threshold: 0.8}
	obs := func(id string, at int64, v speccheck.Value) Observation {
		return Observation{RunID: id, At: at, Value: v}
	}
	cases := []struct {
		name   string
		g      Goal
		obs    []Observation
		status Status
		best   string
		latest string
	}{
		{"no runs", g, nil, NoData, "", ""},
		{"not met then met", g, []Observation{obs("r1", 1, speccheck.Defined(0.7)), obs("r2", 2, speccheck.Defined(0.85))}, Met, "r2", "r2"},
		{"met then regressed", g, []Observation{obs("r2", 2, speccheck.Defined(0.75)), obs("r1", 1, speccheck.Defined(0.9))}, NotMet, "r1", "r2"},
		{"latest undefined", g, []Observation{obs("r1", 1, speccheck.Defined(0.7)), obs("r2", 2, speccheck.Undefined("no items"))}, Undefined, "r1", "r2"},
		{"lower is better", Goal{Metric: "mae", Comparator: speccheck.AtMost, Threshold: 2},
			[]Observation{obs("a", 1, speccheck.Defined(3)), obs("b", 2, speccheck.Defined(1.5)), obs("c", 3, speccheck.Defined(2.5))}, NotMet, "b", "c"},
		{"exactly: closest is best", Goal{Metric: "n", Comparator: speccheck.Exactly, Threshold: 10},
			[]Observation{obs("a", 1, speccheck.Defined(14)), obs("b", 2, speccheck.Defined(9)), obs("c", 3, speccheck.Defined(10))}, Met, "c", "c"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := Evaluate(c.g, c.obs)
			if e.Status != c.status {
				t.Errorf("status = %s, want %s", e.Status, c.status)
			}
			best, latest := "", ""
			if e.Best != nil {
				best = e.Best.RunID
			}
			if e.Latest != nil {
				latest = e.Latest.RunID
			}
			if best != c.best || latest != c.latest {
				t.Errorf("best %q latest %q, want %q %q", best, latest, c.best, c.latest)
			}
		})
	}
}

func TestCheckAsGoal(t *testing.T) {
	st, err := speccheck.BindStep(`recall for class "spam" should be at least 90%`)
	if err != nil {
		t.Fatal(err)
	}
	g := CheckGoal(*st.Check)
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	if g.MetricKey() != st.Check.Key() || g.String() != "recall.spam at least 0.9" {
		t.Errorf("goal %q key %q, check key %q", g, g.MetricKey(), st.Check.Key())
	}
	e := Evaluate(g, []Observation{{RunID: "r", At: 1, Value: speccheck.Defined(0.95)}})
	if e.Status != Met {
		t.Errorf("status %s", e.Status)
	}
}
