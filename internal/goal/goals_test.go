package goal

import (
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
