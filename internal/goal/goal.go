// Package goal holds Trellis's goals and acceptance specs: measurable
// criteria (a metric, a comparator, a threshold), the Gherkin spec files that
// state them as scenarios, the built-in step vocabulary those scenarios bind
// to, and the evaluators that compute metrics from predictions and labels.
// It is pure domain code: it reads files it is pointed at and, for run-based
// steps, asks a RunSource; it never opens the store or serves HTTP.
package goal

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/trellis"
)

// Comparator is how a measured value is compared with a threshold.
type Comparator string

// The comparators, spelled as they are in goals and in spec steps.
const (
	AtLeast  Comparator = "at least"
	AtMost   Comparator = "at most"
	MoreThan Comparator = "more than"
	LessThan Comparator = "less than"
	Exactly  Comparator = "exactly"
)

// Comparators lists every comparator, in the order the docs show them.
var Comparators = []Comparator{AtLeast, AtMost, MoreThan, LessThan, Exactly}

// ParseComparator returns the comparator spelled s (case-insensitive).
func ParseComparator(s string) (Comparator, error) {
	c := Comparator(strings.ToLower(strings.Join(strings.Fields(s), " ")))
	for _, k := range Comparators {
		if c == k {
			return c, nil
		}
	}
	return "", trellis.Invalid("comparator", "comparator must be one of at least, at most, more than, less than, exactly; got %q", s)
}

// exactTolerance absorbs float noise in "exactly": 0.1+0.2 is exactly 0.3
// to a reader, and metric values are ratios of counts printed to 4 digits.
const exactTolerance = 1e-9

// Holds reports whether v compares to threshold as c requires.
func (c Comparator) Holds(v, threshold float64) bool {
	switch c {
	case AtLeast:
		return v >= threshold
	case AtMost:
		return v <= threshold
	case MoreThan:
		return v > threshold
	case LessThan:
		return v < threshold
	case Exactly:
		return math.Abs(v-threshold) <= exactTolerance*math.Max(1, math.Abs(threshold))
	}
	return false
}

// Better reports whether a is a better value than b for a goal using c: for
// at-least and more-than goals higher is better, for at-most and less-than
// lower, and for exactly the one closer to threshold.
func (c Comparator) Better(a, b, threshold float64) bool {
	switch c {
	case AtLeast, MoreThan:
		return a > b
	case AtMost, LessThan:
		return a < b
	}
	return math.Abs(a-threshold) < math.Abs(b-threshold)
}

// Value is a measured metric value. A metric whose denominator is zero is
// undefined: Defined is false and Reason says why, so that a check on it
// fails with the word "undefined" rather than passing or failing on a 0.
type Value struct {
	V       float64
	Defined bool
	Reason  string // why it is undefined
}

// defined returns a defined value.
func defined(v float64) Value { return Value{V: v, Defined: true} }

// undefined returns an undefined value with its reason.
func undefined(format string, args ...any) Value {
	return Value{Reason: fmt.Sprintf(format, args...)}
}

// String formats the value for reports: 4 significant decimals, integers
// without decimals, "undefined" with its reason.
func (v Value) String() string {
	if !v.Defined {
		if v.Reason == "" {
			return "undefined"
		}
		return "undefined (" + v.Reason + ")"
	}
	return FormatNumber(v.V)
}

// FormatNumber formats n compactly: integers as integers, others with up to
// 4 decimals.
func FormatNumber(n float64) string {
	if n == math.Trunc(n) && math.Abs(n) < 1e15 {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	if math.Abs(n) < 0.0001 {
		return strconv.FormatFloat(n, 'g', 4, 64) // tiny errors stay visible
	}
	s := strconv.FormatFloat(n, 'f', 4, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Goal is a measurable criterion: Metric compared with Threshold by
// Comparator, optionally for one class or slice of the data, on a named
// dataset version. Goals attach to items and projects; this type is the
// domain piece the server stores and evaluates.
type Goal struct {
	Metric         string     `json:"metric"`
	Comparator     Comparator `json:"comparator"`
	Threshold      float64    `json:"threshold"`
	Class          string     `json:"class,omitempty"`
	Slice          string     `json:"slice,omitempty"`
	Dataset        string     `json:"dataset,omitempty"`
	DatasetVersion string     `json:"dataset_version,omitempty"`
	Note           string     `json:"note,omitempty"`
}

// Validate checks the goal's fields, naming the field at fault.
func (g Goal) Validate() error {
	if strings.TrimSpace(g.Metric) == "" {
		return trellis.Invalid("metric", "metric is required")
	}
	if len(g.Metric) > 250 {
		return trellis.Invalid("metric", "metric must be at most 250 characters")
	}
	if _, err := ParseComparator(string(g.Comparator)); err != nil {
		return err
	}
	if math.IsNaN(g.Threshold) || math.IsInf(g.Threshold, 0) {
		return trellis.Invalid("threshold", "threshold must be a finite number")
	}
	for _, f := range []struct{ name, v string }{{"class", g.Class}, {"slice", g.Slice}, {"dataset", g.Dataset}, {"dataset_version", g.DatasetVersion}} {
		if len(f.v) > 250 {
			return trellis.Invalid(f.name, "%s must be at most 250 characters", f.name)
		}
	}
	if len(g.Note) > 4000 {
		return trellis.Invalid("note", "note must be at most 4000 characters")
	}
	return nil
}

// MetricKey is the name under which the goal's metric is logged: the metric,
// then ".CLASS" when the goal is about one class (precision.spam), then
// ".SLICE" for a slice. It matches the names trellis spec check logs.
func (g Goal) MetricKey() string {
	k := g.Metric
	if g.Class != "" {
		k += "." + g.Class
	}
	if g.Slice != "" {
		k += "." + g.Slice
	}
	return k
}

// String reads the goal as a sentence: "f1.spam at least 0.9".
func (g Goal) String() string {
	return fmt.Sprintf("%s %s %s", g.MetricKey(), g.Comparator, FormatNumber(g.Threshold))
}

// Status is the state of a goal after evaluation.
type Status string

// Goal statuses.
const (
	Met       Status = "met"
	NotMet    Status = "not met"
	NoData    Status = "no data"
	Undefined Status = "undefined"
)

// Observation is one run's value of a goal's metric.
type Observation struct {
	RunID   string
	RunName string
	At      int64 // ms UTC, when the value was logged; orders the runs
	Value   Value
}

// Evaluation is a goal's state over the runs observed so far.
type Evaluation struct {
	Status    Status
	Latest    *Observation // the most recent observation, nil with no data
	Best      *Observation // the best defined value so far, nil if none
	Threshold float64
}

// Evaluate judges g on its observations. The status comes from the latest
// observation (a goal met once and then regressed is not met); the best
// value so far is reported beside it, so progress stays visible.
func Evaluate(g Goal, obs []Observation) Evaluation {
	e := Evaluation{Status: NoData, Threshold: g.Threshold}
	for i := range obs {
		o := &obs[i]
		if e.Latest == nil || o.At > e.Latest.At || (o.At == e.Latest.At && o.RunID > e.Latest.RunID) {
			e.Latest = o
		}
		if o.Value.Defined && (e.Best == nil || g.Comparator.Better(o.Value.V, e.Best.Value.V, g.Threshold)) {
			e.Best = o
		}
	}
	switch {
	case e.Latest == nil:
		e.Status = NoData
	case !e.Latest.Value.Defined:
		e.Status = Undefined
	case g.Comparator.Holds(e.Latest.Value.V, g.Threshold):
		e.Status = Met
	default:
		e.Status = NotMet
	}
	return e
}
