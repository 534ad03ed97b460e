package goal

import (
	"context"
	"math"

	"github.com/trellisml/trellis/internal/goal/speccheck"
)

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

// LaterRun is the rule "the latest run decides a goal": a run that started
// at startA with id idA is later than one that started at startB with idB
// when it started later, or at the same millisecond with the greater id
// (run ids start with their creation time). Evaluate and the spec step
// "the latest run of item" apply it in Go; the store projects it into SQL
// (store.latestRunDecides: ORDER BY run start DESC, run id DESC), and
// storetest's randomized goal test keeps the two in step.
func LaterRun(startA int64, idA string, startB int64, idB string) bool {
	return startA > startB || (startA == startB && idA > idB)
}

// Evaluate judges g on its observations. The status comes from the latest
// observation (LaterRun; a goal met once and then regressed is not met);
// the best value so far is reported beside it, so progress stays visible.
func Evaluate(g Goal, obs []Observation) Evaluation {
	e := Evaluation{Status: NoData, Threshold: g.Threshold}
	for i := range obs {
		o := &obs[i]
		if e.Latest == nil || LaterRun(o.At, o.RunID, e.Latest.At, e.Latest.RunID) {
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

// LinkedRun is one active run linked to an item, with the latest value of
// each metric it logged.
type LinkedRun struct {
	ID        string
	StartTime int64 // ms UTC; orders the runs, as the latest-run spec step does
	Metrics   map[string]float64
}

// ItemRuns reads the runs linked to an item. The server implements it over
// the tracking service (run↔item links, then each run's latest metrics);
// deleted runs are left out.
type ItemRuns interface {
	LinkedRuns(ctx context.Context, itemKey string) ([]LinkedRun, error)
}

// GoalResult is one goal judged against an item's linked runs.
type GoalResult struct {
	ID   string // the stored goal's id; empty for goals sent with a request
	Goal Goal
	Evaluation
	// Observations are the runs that logged the goal's metric, oldest
	// first: the points of the item page's chart.
	Observations []Observation
}

// ItemEvaluation is the state of an item's goals.
type ItemEvaluation struct {
	Item  string
	Runs  int // linked runs considered
	Goals []GoalResult
}

// EvaluateItem judges goals against the runs linked to item: for each goal
// the runs that logged its metric (under Goal.MetricKey) are its
// observations, ordered by run start, so the status is that of the latest
// run that measured it — met, not met, or no data when none did — with the
// best value so far and the run that achieved it.
func EvaluateItem(ctx context.Context, src ItemRuns, item string, goals []Goal) (*ItemEvaluation, error) {
	runs, err := src.LinkedRuns(ctx, item)
	if err != nil {
		return nil, err
	}
	out := &ItemEvaluation{Item: item, Runs: len(runs), Goals: make([]GoalResult, len(goals))}
	for i, g := range goals {
		var obs []Observation
		for _, r := range runs {
			v, ok := r.Metrics[g.MetricKey()]
			switch {
			case !ok:
			case math.IsNaN(v): // MLflow accepts NaN; it is no measurement
				obs = append(obs, Observation{RunID: r.ID, At: r.StartTime, Value: speccheck.Undefined("logged as NaN")})
			default:
				obs = append(obs, Observation{RunID: r.ID, At: r.StartTime, Value: speccheck.Defined(v)})
			}
		}
		out.Goals[i] = GoalResult{Goal: g, Evaluation: Evaluate(g, obs), Observations: obs}
	}
	return out, nil
}

// CheckGoal returns a spec's check as a goal, so a spec's Then steps and
// the goals kept on items share one evaluation: Evaluate(CheckGoal(c), observations).
func CheckGoal(c speccheck.Check) Goal {
	return Goal{Metric: c.Metric, Class: c.Class, Comparator: c.Comparator, Threshold: c.Threshold}
}

// SpecGoals returns the distinct goals the spec's Then steps state, in file
// order: the acceptance criteria a spec uploaded for an item stands for.
func SpecGoals(s *speccheck.Spec) []Goal {
	var out []Goal
	seen := map[Goal]bool{}
	for _, sc := range s.Scenarios {
		for _, st := range sc.Steps {
			if st.Check == nil {
				continue
			}
			g := CheckGoal(*st.Check)
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	return out
}
