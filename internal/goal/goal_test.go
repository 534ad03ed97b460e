package goal

import (
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/goal/speccheck"
)

func TestGoalValidate(t *testing.T) {
	ok := Goal{Metric: "f1", Comparator: speccheck.AtLeast, Threshold: 0.9, Class: "spam", Dataset: "mail-test", DatasetVersion: "v3"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if ok.MetricKey() != "f1.spam" || ok.String() != "f1.spam at least 0.9" {
		t.Errorf("key %q string %q", ok.MetricKey(), ok.String())
	}
	bad := []struct {
		g     Goal
		field string
	}{
		{Goal{Comparator: speccheck.AtLeast}, "metric"},
		{Goal{Metric: "f1", Comparator: "about"}, "comparator"},
		{Goal{Metric: "f1", Comparator: speccheck.AtLeast, Threshold: inf()}, "threshold"},
		{Goal{Metric: "f1", Comparator: speccheck.AtLeast, Note: strings.Repeat("x", 4001)}, "note"},
	}
	for _, b := range bad {
		err := b.g.Validate()
		if err == nil || !strings.Contains(err.Error(), "field="+b.field) {
			t.Errorf("Validate(%+v) = %v, want field %s", b.g, err, b.field)
		}
	}
}

func inf() float64 { v := 1e308; return v * 10 }

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
