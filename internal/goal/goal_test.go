package goal

import (
	"strings"
	"testing"
)

func TestComparator(t *testing.T) {
	cases := []struct {
		c     Comparator
		v, th float64
		want  bool
	}{
		{AtLeast, 0.8, 0.8, true}, {AtLeast, 0.79, 0.8, false},
		{AtMost, 0.8, 0.8, true}, {AtMost, 0.81, 0.8, false},
		{MoreThan, 0.8, 0.8, false}, {MoreThan, 0.81, 0.8, true},
		{LessThan, 0.8, 0.8, false}, {LessThan, 0.79, 0.8, true},
		{Exactly, 0.1 + 0.2, 0.3, true}, {Exactly, 0.31, 0.3, false},
	}
	for _, c := range cases {
		if got := c.c.Holds(c.v, c.th); got != c.want {
			t.Errorf("%v %s %v = %v, want %v", c.v, c.c, c.th, got, c.want)
		}
	}
	if _, err := ParseComparator("at  LEAST"); err != nil {
		t.Error(err)
	}
	if _, err := ParseComparator("around"); err == nil {
		t.Error("ParseComparator(around) = nil error")
	}
}

func TestGoalValidate(t *testing.T) {
	ok := Goal{Metric: "f1", Comparator: AtLeast, Threshold: 0.9, Class: "spam", Dataset: "mail-test", DatasetVersion: "v3"}
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
		{Goal{Comparator: AtLeast}, "metric"},
		{Goal{Metric: "f1", Comparator: "about"}, "comparator"},
		{Goal{Metric: "f1", Comparator: AtLeast, Threshold: inf()}, "threshold"},
		{Goal{Metric: "f1", Comparator: AtLeast, Note: strings.Repeat("x", 4001)}, "note"},
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
	g := Goal{Metric: "accuracy", Comparator: AtLeast, Threshold: 0.8}
	obs := func(id string, at int64, v Value) Observation { return Observation{RunID: id, At: at, Value: v} }
	cases := []struct {
		name   string
		g      Goal
		obs    []Observation
		status Status
		best   string
		latest string
	}{
		{"no runs", g, nil, NoData, "", ""},
		{"not met then met", g, []Observation{obs("r1", 1, defined(0.7)), obs("r2", 2, defined(0.85))}, Met, "r2", "r2"},
		{"met then regressed", g, []Observation{obs("r2", 2, defined(0.75)), obs("r1", 1, defined(0.9))}, NotMet, "r1", "r2"},
		{"latest undefined", g, []Observation{obs("r1", 1, defined(0.7)), obs("r2", 2, undefined("no items"))}, Undefined, "r1", "r2"},
		{"lower is better", Goal{Metric: "mae", Comparator: AtMost, Threshold: 2},
			[]Observation{obs("a", 1, defined(3)), obs("b", 2, defined(1.5)), obs("c", 3, defined(2.5))}, NotMet, "b", "c"},
		{"exactly: closest is best", Goal{Metric: "n", Comparator: Exactly, Threshold: 10},
			[]Observation{obs("a", 1, defined(14)), obs("b", 2, defined(9)), obs("c", 3, defined(10))}, Met, "c", "c"},
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
	st, err := BindStep(`recall for class "spam" should be at least 90%`)
	if err != nil {
		t.Fatal(err)
	}
	g := st.Check.Goal()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	if g.MetricKey() != st.Check.Key() || g.String() != "recall.spam at least 0.9" {
		t.Errorf("goal %q key %q, check key %q", g, g.MetricKey(), st.Check.Key())
	}
	e := Evaluate(g, []Observation{{RunID: "r", At: 1, Value: defined(0.95)}})
	if e.Status != Met {
		t.Errorf("status %s", e.Status)
	}
}
