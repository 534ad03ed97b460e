package goal

import (
	"context"
	"math"
	"strings"

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
	// Unfinished says the run is still RUNNING or SCHEDULED: its value is
	// shown as provisional and never decides the goal (FinishedRunsDecide).
	Unfinished bool
}

// Evaluation is a goal's state over the runs observed so far.
type Evaluation struct {
	Status Status
	Latest *Observation // the most recent observation, nil with no data
	Best   *Observation // the best defined value so far, nil if none
	// Provisional is the latest unfinished run's value when it is later
	// than Latest: shown beside the verdict, never deciding it.
	Provisional *Observation
	Threshold   float64
}

// FinishedRunsDecide is the rule "unfinished runs never decide a verdict":
// a run still RUNNING or SCHEDULED is mid-training, and its latest value is
// not its result. Evaluate applies it to observations; the store's
// latestRunDecides query leaves such runs out of the board's verdicts.
func FinishedRunsDecide(status string) bool {
	return status != "RUNNING" && status != "SCHEDULED"
}

// DatasetInput is a dataset a run used, as MLflow's log_input records it:
// the dataset's name and digest, and the input's "version" tag if it has
// one (mlflow.log_input(ds, tags={"version": "v3"})).
type DatasetInput struct {
	Name, Digest, Version string
}

// UsedBy is the rule "a goal scoped to a dataset is judged only on the
// runs that used it": with no dataset, every run counts; with one, a run
// counts when it logged an input of that name and, if the goal names a
// version, whose digest or "version" tag is that version. The store
// projects it into SQL (store.goalDatasetRule); storetest's randomized
// goal test keeps the two in step.
func (g Goal) UsedBy(inputs []DatasetInput) bool {
	if g.Dataset == "" {
		return true
	}
	for _, in := range inputs {
		if in.Name == g.Dataset && (g.DatasetVersion == "" || in.Digest == g.DatasetVersion || in.Version == g.DatasetVersion) {
			return true
		}
	}
	return false
}

// Chooses is the rule "a goal is judged on the runs chosen for it": a run
// of tracking experiment experiment with tags counts when the goal names
// no experiment or that one, and no run tag or one the run carries. The
// store projects it into SQL (store.goalRunsRule); storetest's randomized
// goal test keeps the two in step.
func (g Goal) Chooses(experiment string, tags map[string]string) bool {
	if g.Experiment != "" && g.Experiment != experiment {
		return false
	}
	if k, v := g.RunTagPair(); k != "" && tags[k] != v {
		return false
	}
	return true
}

// ChoosesRuns reports whether the goal names its runs (an experiment or a
// run tag), which a project goal must: a project holds exploratory runs
// too, and one of them should not flip the project's goals.
func (g Goal) ChoosesRuns() bool { return g.Experiment != "" || g.RunTag != "" }

// RunTagPair splits RunTag into its key and value; both are "" without one.
func (g Goal) RunTagPair() (key, value string) {
	k, v, _ := strings.Cut(g.RunTag, "=")
	return k, v
}

// JudgedOn says which runs judge g, as the goal shows it: "finished runs
// linked to BAL-3 that used balloons v3"; item is "" for a project goal.
func (g Goal) JudgedOn(item string) string {
	s := "finished runs linked to " + item
	switch {
	case item == "" && !g.ChoosesRuns():
		return "no runs yet: choose a tracking experiment or a run tag for this project goal"
	case item == "":
		s = "finished runs"
	}
	if g.Experiment != "" {
		s += " of experiment " + g.Experiment
	}
	if g.RunTag != "" {
		s += " tagged " + g.RunTag
	}
	if d := g.DatasetText(); d != "" {
		s += " that used " + d
	}
	return s
}

// NoDataText says what a goal without a deciding run waits for: "no run
// on balloons v3 yet".
func (g Goal) NoDataText() string {
	if d := g.DatasetText(); d != "" {
		return "no run on " + d + " yet"
	}
	return "no finished run has logged " + g.MetricKey() + " yet"
}

// DatasetText names the goal's dataset as people say it: "balloons v3",
// "balloons", or "" when the goal has none.
func (g Goal) DatasetText() string {
	if g.DatasetVersion == "" {
		return g.Dataset
	}
	return g.Dataset + " " + g.DatasetVersion
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
		if o.Unfinished {
			if e.Provisional == nil || LaterRun(o.At, o.RunID, e.Provisional.At, e.Provisional.RunID) {
				e.Provisional = o
			}
			continue
		}
		if e.Latest == nil || LaterRun(o.At, o.RunID, e.Latest.At, e.Latest.RunID) {
			e.Latest = o
		}
		if o.Value.Defined && (e.Best == nil || g.Comparator.Better(o.Value.V, e.Best.Value.V, g.Threshold)) {
			e.Best = o
		}
	}
	if e.Provisional != nil && e.Latest != nil && !LaterRun(e.Provisional.At, e.Provisional.RunID, e.Latest.At, e.Latest.RunID) {
		e.Provisional = nil // an older unfinished run says nothing new
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
	ID         string
	StartTime  int64  // ms UTC; orders the runs, as the latest-run spec step does
	Status     string // RUNNING, SCHEDULED, FINISHED, FAILED or KILLED
	Experiment string // the tracking experiment's name
	Tags       map[string]string
	Metrics    map[string]float64
	Datasets   []DatasetInput
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
			if !ok || !g.UsedBy(r.Datasets) || !g.Chooses(r.Experiment, r.Tags) {
				continue
			}
			o := Observation{RunID: r.ID, At: r.StartTime, Value: speccheck.Defined(v), Unfinished: !FinishedRunsDecide(r.Status)}
			if math.IsNaN(v) { // MLflow accepts NaN; it is no measurement
				o.Value = speccheck.Undefined("logged as NaN")
			}
			obs = append(obs, o)
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
