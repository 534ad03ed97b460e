package speccheck

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// RunSource gives the metrics logged to a tracking server's runs; the
// run-based steps read from it. Offline checks have none.
type RunSource interface {
	// RunMetrics returns the latest value of every metric logged to run id.
	RunMetrics(ctx context.Context, runID string) (map[string]float64, error)
	// LatestRunOfItem returns the id of the latest run linked to the item
	// and its metrics.
	LatestRunOfItem(ctx context.Context, itemKey string) (string, map[string]float64, error)
}

// ErrNoServer is the error of a run-based step checked without a server.
var ErrNoServer = errors.New("needs a Trellis server: pass --server or set TRELLIS_SERVER")

// Options configure a check.
type Options struct {
	Labels      string    // overrides every "Given labels from" path (relative to the working directory)
	Predictions string    // overrides every "Given predictions from" path
	Runs        RunSource // nil offline: run-based steps are input errors
	RunID       string    // overrides the run every run-based step reads
	Tags        *TagExpr  // nil: every scenario
	Progress    Progress  // told how far through big input files loading is
	Now         func() time.Time
}

// Outcome is the result of a step or scenario.
type Outcome string

// Outcomes. An error is an input problem (a missing file, a bad row, a
// run step without a server), distinct from a check that failed.
const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Errored Outcome = "error"
	Skipped Outcome = "skipped"
)

// StepResult is a checked step.
type StepResult struct {
	Step
	Outcome   Outcome  `json:"outcome"`
	Metric    string   `json:"metric,omitempty"`    // the metric's logged name, for checks
	Measured  *Value   `json:"-"`                   // the measured value, for checks
	Threshold *float64 `json:"threshold,omitempty"` // for checks
	Message   string   `json:"message,omitempty"`   // why it failed or errored
}

// ScenarioResult is a checked scenario.
type ScenarioResult struct {
	*Scenario
	Outcome   Outcome          `json:"outcome"`
	Steps     []StepResult     `json:"steps"`
	Task      Task             `json:"task,omitempty"`
	Items     int64            `json:"items,omitempty"`
	Confusion *Confusion       `json:"-"`
	Metrics   map[string]Value `json:"-"` // every metric the scenario computed or read, by logged name
	RunID     string           `json:"run_id,omitempty"`
	Duration  time.Duration    `json:"-"`
}

// FeatureResult is a checked spec.
type FeatureResult struct {
	Path      string            `json:"path"`
	Feature   string            `json:"feature"`
	Scenarios []*ScenarioResult `json:"scenarios"`
	Duration  time.Duration     `json:"-"`
}

// Report is the result of checking specs.
type Report struct {
	Features []*FeatureResult `json:"features"`
	Passed   int              `json:"passed"`
	Failed   int              `json:"failed"`
	Errors   int              `json:"errors"`
	Duration time.Duration    `json:"-"`
}

// Checker runs specs. It caches scored inputs, so scenarios (and outline
// rows) that read the same files score them once.
type Checker struct {
	opts  Options
	cache map[scoreKey]scoreResult
}

type scoreKey struct {
	labels, preds string
	cols          Columns
	task          Task
}

type scoreResult struct {
	s   *Scores
	err error
}

// NewChecker returns a checker with opts.
func NewChecker(opts Options) *Checker {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Checker{opts: opts, cache: map[scoreKey]scoreResult{}}
}

// Check runs every scenario of specs that matches the tag filter.
func (c *Checker) Check(ctx context.Context, specs []*Spec) *Report {
	rep := &Report{}
	start := c.opts.Now()
	for _, sp := range specs {
		fr := &FeatureResult{Path: sp.Path, Feature: sp.Feature, Scenarios: []*ScenarioResult{}}
		fstart := c.opts.Now()
		for _, sc := range sp.Scenarios {
			if c.opts.Tags != nil && !c.opts.Tags.Match(sc.Tags) {
				continue
			}
			sr := c.scenario(ctx, sp, sc)
			switch sr.Outcome {
			case Passed:
				rep.Passed++
			case Failed:
				rep.Failed++
			default:
				rep.Errors++
			}
			fr.Scenarios = append(fr.Scenarios, sr)
		}
		fr.Duration = c.opts.Now().Sub(fstart)
		rep.Features = append(rep.Features, fr)
	}
	rep.Duration = c.opts.Now().Sub(start)
	return rep
}

// resolve makes a spec's input path relative to the feature file.
func resolve(specPath, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(specPath), filepath.FromSlash(p))
}

func (c *Checker) scenario(ctx context.Context, sp *Spec, sc *Scenario) *ScenarioResult {
	start := c.opts.Now()
	sr := &ScenarioResult{Scenario: sc, Outcome: Passed, Metrics: map[string]Value{}}
	cols := DefaultColumns
	var labels, preds string
	var runMetrics map[string]float64
	var scores *Scores
	stop := false
	for _, st := range sc.Steps {
		r := StepResult{Step: st, Outcome: Passed}
		if stop {
			r.Outcome = Skipped
			sr.Steps = append(sr.Steps, r)
			continue
		}
		var err error
		switch st.Kind {
		case StepLabels:
			labels = resolve(sp.Path, st.Arg)
		case StepPredictions:
			preds = resolve(sp.Path, st.Arg)
		case StepIDColumn:
			cols.ID = st.Arg
		case StepLabelColumn:
			cols.Label = st.Arg
		case StepPredictionColumn:
			cols.Prediction = st.Arg
		case StepRun, StepLatestRun:
			runMetrics, sr.RunID, err = c.run(ctx, st)
			for k, v := range runMetrics {
				sr.Metrics[k] = Defined(v)
			}
		case StepScore:
			scores, err = c.score(labels, preds, cols, st.Task)
			if scores != nil {
				sr.Task, sr.Items, sr.Confusion = scores.Task, scores.N, scores.Confusion
				for k, v := range scores.Metrics() {
					sr.Metrics[k] = v
				}
			}
		case StepCheck:
			c.check(&r, scores, runMetrics, sr.Metrics)
		}
		if err != nil {
			r.Outcome, r.Message = Errored, err.Error()
			stop = true
		}
		switch {
		case r.Outcome == Errored:
			sr.Outcome = Errored
		case r.Outcome == Failed && sr.Outcome == Passed:
			sr.Outcome = Failed
		}
		sr.Steps = append(sr.Steps, r)
	}
	sr.Duration = c.opts.Now().Sub(start)
	return sr
}

func (c *Checker) run(ctx context.Context, st Step) (map[string]float64, string, error) {
	if c.opts.Runs == nil {
		return nil, "", fmt.Errorf("step %s %w", st.Text, ErrNoServer)
	}
	if c.opts.RunID != "" || st.Kind == StepRun {
		id := st.Arg
		if c.opts.RunID != "" {
			id = c.opts.RunID
		}
		m, err := c.opts.Runs.RunMetrics(ctx, id)
		return m, id, err
	}
	id, m, err := c.opts.Runs.LatestRunOfItem(ctx, st.Arg)
	return m, id, err
}

func (c *Checker) score(labels, preds string, cols Columns, task Task) (*Scores, error) {
	if c.opts.Labels != "" {
		labels = c.opts.Labels
	}
	if c.opts.Predictions != "" {
		preds = c.opts.Predictions
	}
	switch {
	case labels == "":
		return nil, errors.New(`no labels: add a step 'Given labels from "PATH"' or pass --labels`)
	case preds == "":
		return nil, errors.New(`no predictions: add a step 'Given predictions from "PATH"' or pass --predictions`)
	}
	k := scoreKey{labels, preds, cols, task}
	if r, ok := c.cache[k]; ok {
		return r.s, r.err
	}
	s, err := Score(labels, preds, cols, task, c.opts.Progress)
	c.cache[k] = scoreResult{s, err}
	return s, err
}

// check judges a Then step, filling in the measured value.
func (c *Checker) check(r *StepResult, scores *Scores, run map[string]float64, all map[string]Value) {
	ck := r.Check
	th := ck.Threshold
	r.Threshold = &th
	r.Metric = ck.Key()
	var v Value
	switch {
	case ck.Logged:
		got, ok := all[ck.Metric]
		if !ok {
			r.Outcome = Failed
			r.Message = fmt.Sprintf("no data: no metric %q (have: %s)", ck.Metric, strings.Join(metricNames(all), ", "))
			return
		}
		v = got
	default:
		v = scores.Value(ck)
	}
	r.Measured = &v
	switch {
	case !v.Defined:
		r.Outcome = Failed
		r.Message = v.String()
	case !ck.Comparator.Holds(v.V, th):
		r.Outcome = Failed
		r.Message = fmt.Sprintf("%s is not %s %s", FormatNumber(v.V), ck.Comparator, FormatNumber(th))
	}
}

func metricNames(m map[string]Value) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) > 10 {
		names = append(names[:10], "…")
	}
	if len(names) == 0 {
		return []string{"none"}
	}
	return names
}

// Value returns the value of a check's metric from the scores.
func (s *Scores) Value(c *Check) Value {
	if s.Confusion != nil {
		m := s.Confusion
		switch c.Metric {
		case "accuracy":
			return m.Accuracy()
		case "precision":
			return m.Precision(c.Class)
		case "recall":
			return m.Recall(c.Class)
		case "f1":
			return m.F1(c.Class)
		case "macro_f1":
			return m.Macro(m.F1)
		case "macro_precision":
			return m.Macro(m.Precision)
		case "macro_recall":
			return m.Macro(m.Recall)
		case "tp":
			return Defined(float64(m.TP(c.Class)))
		case "fp":
			return Defined(float64(m.FP(c.Class)))
		case "fn":
			return Defined(float64(m.FN(c.Class)))
		case "predicted":
			return Defined(float64(m.Predicted(c.Class)))
		}
	}
	if s.Regression != nil {
		switch c.Metric {
		case "mae":
			return s.Regression.MAE()
		case "rmse":
			return s.Regression.RMSE()
		case "r2":
			return s.Regression.R2()
		}
	}
	return Undefined("metric %q is not computed for %s", c.Key(), s.Task)
}

// Metrics returns every metric the scores define, by the name it is logged
// under: accuracy, macro_f1, precision.CLASS, tp.CLASS, mae, ... Undefined
// metrics are included, so reports can say so.
func (s *Scores) Metrics() map[string]Value {
	out := map[string]Value{"items": Defined(float64(s.N))}
	if m := s.Confusion; m != nil {
		out["accuracy"] = m.Accuracy()
		out["macro_f1"] = m.Macro(m.F1)
		out["macro_precision"] = m.Macro(m.Precision)
		out["macro_recall"] = m.Macro(m.Recall)
		for _, cl := range m.Classes {
			out["precision."+cl] = m.Precision(cl)
			out["recall."+cl] = m.Recall(cl)
			out["f1."+cl] = m.F1(cl)
			out["tp."+cl] = Defined(float64(m.TP(cl)))
			out["fp."+cl] = Defined(float64(m.FP(cl)))
			out["fn."+cl] = Defined(float64(m.FN(cl)))
			out["predicted."+cl] = Defined(float64(m.Predicted(cl)))
		}
	}
	if r := s.Regression; r != nil {
		out["mae"], out["rmse"], out["r2"] = r.MAE(), r.RMSE(), r.R2()
	}
	return out
}

// ExitCode is the process exit code for the report: 2 when any scenario
// hit an input error, 1 when any check failed, 0 when all passed.
func (r *Report) ExitCode() int {
	switch {
	case r.Errors > 0:
		return 2
	case r.Failed > 0:
		return 1
	}
	return 0
}
