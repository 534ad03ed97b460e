package goal

import (
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/trellis"
)

func TestParseGoal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Goal
	}{
		{"accuracy at least 0.9", Goal{Metric: "accuracy", Comparator: speccheck.AtLeast, Threshold: 0.9}},
		{"f1.spam  More Than 80%", Goal{Metric: "f1.spam", Comparator: speccheck.MoreThan, Threshold: 0.8}},
		{"loss <= 0.2", Goal{Metric: "loss", Comparator: speccheck.AtMost, Threshold: 0.2}},
		{"latency_ms < 50", Goal{Metric: "latency_ms", Comparator: speccheck.LessThan, Threshold: 50}},
		{"tp.spam exactly 12", Goal{Metric: "tp.spam", Comparator: speccheck.Exactly, Threshold: 12}},
	} {
		got, err := ParseGoal(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseGoal(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for in, field := range map[string]string{
		"accuracy roughly 0.9":    "comparator",
		"accuracy at least":       "threshold",
		"accuracy at least lots":  "threshold",
		"accuracy at least 0.9 1": "threshold",
		"at least 0.9":            "comparator",
		"":                        "comparator",
	} {
		if _, err := ParseGoal(in); trellis.ErrorCode(err) != trellis.EINVALID || trellis.ErrorField(err) != field {
			t.Errorf("ParseGoal(%q): %v, want field %s", in, err, field)
		}
	}
}

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
		{Goal{Metric: "recall", Comparator: speccheck.AtLeast, Threshold: 1.5}, "threshold"},
		{Goal{Metric: "val_Accuracy", Comparator: speccheck.AtLeast, Threshold: -0.1}, "threshold"},
		{Goal{Metric: "f1", Comparator: speccheck.AtLeast, RunTag: "stage"}, "run_tag"},
	}
	// A rate's threshold lies from 0 to 1; other metrics take any number.
	for _, g := range []Goal{{Metric: "recall", Comparator: speccheck.AtLeast, Threshold: 1}, {Metric: "precision", Comparator: speccheck.MoreThan},
		{Metric: "latency_ms", Comparator: speccheck.AtMost, Threshold: 150}, {Metric: "recall_at_10", Comparator: speccheck.AtLeast, Threshold: 3}} {
		if err := g.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", g, err)
		}
	}
	for _, b := range bad {
		err := b.g.Validate()
		if err == nil || !strings.Contains(err.Error(), "field="+b.field) {
			t.Errorf("Validate(%+v) = %v, want field %s", b.g, err, b.field)
		}
	}
}

func inf() float64 { v := 1e308; return v * 10 }
