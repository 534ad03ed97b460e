// Package goal holds Trellis's goals and the acceptance specs stored on
// items: measurable criteria (a metric, a comparator, a threshold) kept on
// items and projects and judged against the runs the tracking service
// holds, and the versions of each item's Gherkin spec with the latest
// result of every scenario. Parsing and checking a spec is the offline
// engine's work, in package speccheck; this package stores specs and runs
// that engine against the server's runs.
package goal

import (
	"fmt"
	"math"
	"strings"

	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/trellis"
)

// Goal is a measurable criterion: Metric compared with Threshold by
// Comparator, optionally for one class or slice of the data, on a named
// dataset version. Goals attach to items and projects; this type is the
// domain piece the server stores and evaluates.
type Goal struct {
	Metric         string               `json:"metric"`
	Comparator     speccheck.Comparator `json:"comparator"`
	Threshold      float64              `json:"threshold"`
	Class          string               `json:"class,omitempty"`
	Slice          string               `json:"slice,omitempty"`
	Dataset        string               `json:"dataset,omitempty"`
	DatasetVersion string               `json:"dataset_version,omitempty"`
	Note           string               `json:"note,omitempty"`
}

// Validate checks the goal's fields, naming the field at fault.
func (g Goal) Validate() error {
	if strings.TrimSpace(g.Metric) == "" {
		return trellis.Invalid("metric", "metric is required")
	}
	if len(g.Metric) > 250 {
		return trellis.Invalid("metric", "metric must be at most 250 characters")
	}
	if _, err := speccheck.ParseComparator(string(g.Comparator)); err != nil {
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
	return fmt.Sprintf("%s %s %s", g.MetricKey(), g.Comparator, speccheck.FormatNumber(g.Threshold))
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
	Value   speccheck.Value
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
