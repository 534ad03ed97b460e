package goal

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// StoredGoal is a goal attached to an item, or to its project when ItemID
// is empty, in the order the team listed them.
type StoredGoal struct {
	ID         string `json:"id"`
	ProjectID  string `json:"-"`
	ItemID     string `json:"-"`
	ItemNumber int64  `json:"-"`              // filled by the store; the service turns it into Item
	Item       string `json:"item,omitempty"` // the item key; empty for a project goal
	Position   int    `json:"position"`
	Goal
	Key       string    `json:"key"`  // Goal.MetricKey, the logged name the goal reads
	Text      string    `json:"text"` // Goal.String
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Level picks which goals of a project a query is about.
type Level int

// Goal levels.
const (
	AllGoals     Level = iota // item and project goals
	ItemGoals                 // goals attached to items
	ProjectGoals              // goals attached to the project itself
)

// GoalFilter selects goals of one project.
type GoalFilter struct {
	ProjectID string
	ItemID    string // only this item's goals (implies ItemGoals)
	Level     Level
	// SprintID and Kind narrow item goals to the items of a sprint or of
	// a kind, as a sprint board or the experiment board shows them.
	SprintID string
	Kind     string // a work.Kind
}

// GoalObservation is one active run's latest value of a stored goal's
// metric: the row the batch evaluation query returns.
type GoalObservation struct {
	GoalID     string
	RunID      string
	RunName    string
	StartTime  int64    // ms UTC
	Value      *float64 // nil when the run logged NaN
	Unfinished bool     // the run is RUNNING or SCHEDULED
}

// GoalLatest is an item goal's criterion with the observation that decides
// its status: what a board's badge needs, without the goal's other fields.
type GoalLatest struct {
	GoalID     string
	ItemNumber int64
	Goal       Goal             // metric, class, slice, comparator and threshold
	Latest     *GoalObservation // nil when no active linked run logged the metric
}

// RunValue is one active run's latest value of a metric key.
type RunValue struct {
	RunID      string
	RunName    string
	StartTime  int64 // ms UTC
	Key        string
	Value      *float64 // nil when the run logged NaN
	Unfinished bool     // the run is RUNNING or SCHEDULED
}

// RunQuery selects the latest values of metric keys over the active runs
// of a project linked to ItemKey.
type RunQuery struct {
	ProjectID string
	ItemKey   string
	Keys      []string
}

// GoalStore keeps goals attached to items and projects, and answers the
// queries that evaluate them: each is one SQL statement whatever the number
// of items, runs and goals, so a board evaluates every card's goals in a
// constant number of queries.
type GoalStore interface {
	// FindItemRef returns an item of a project by number. Errors: ENOTFOUND.
	FindItemRef(ctx context.Context, projectID string, number int64) (*ItemRef, error)
	// CreateGoal inserts g last in its item's (or project's) list, setting
	// its Position.
	CreateGoal(ctx context.Context, g *StoredGoal) error
	// FindGoal returns a goal of a project. Errors: ENOTFOUND.
	FindGoal(ctx context.Context, projectID, id string) (*StoredGoal, error)
	// FindGoals lists goals in item number then list order, project goals
	// first.
	FindGoals(ctx context.Context, f GoalFilter) ([]*StoredGoal, error)
	// UpdateGoal saves a goal's criterion and note. Errors: ENOTFOUND.
	UpdateGoal(ctx context.Context, g *StoredGoal) error
	// DeleteGoal removes a goal. Errors: ENOTFOUND.
	DeleteGoal(ctx context.Context, projectID, id string) error
	// FindGoalObservations returns, for the item goals f selects, the latest
	// value of each goal's metric in every active run (of an active tracking
	// experiment) linked to the goal's item and used by the goal
	// (Goal.UsedBy), unfinished runs included and marked.
	FindGoalObservations(ctx context.Context, f GoalFilter) ([]GoalObservation, error)
	// FindLatestGoalObservations returns each item goal f selects with only
	// the observation that decides its status: the latest (LaterRun)
	// finished (FinishedRunsDecide) active linked run used by the goal
	// (Goal.UsedBy) that logged the goal's metric. One statement for a
	// whole board.
	FindLatestGoalObservations(ctx context.Context, f GoalFilter) ([]GoalLatest, error)
	// FindRunValues returns the latest values of q.Keys in the active runs
	// linked to q.ItemKey, unfinished runs included and marked.
	FindRunValues(ctx context.Context, q RunQuery) ([]RunValue, error)
	// CountLinkedRuns counts the active runs linked to an item key.
	CountLinkedRuns(ctx context.Context, projectID, itemKey string) (int, error)
	// SaveGoalSnapshot keeps the goal results of a decided item. A second
	// snapshot of the same decision replaces the first.
	SaveGoalSnapshot(ctx context.Context, itemID string, ev EvaluationJSON, at time.Time) error
	// FindGoalSnapshots returns the snapshots of a project's decided items
	// by item id.
	FindGoalSnapshots(ctx context.Context, projectID string) (map[string]*Snapshot, error)
}

// Snapshot is the goal results kept with a decision, as evidence.
type Snapshot struct {
	TakenAt time.Time      `json:"taken_at"`
	Results EvaluationJSON `json:"results"`
}

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
	// Experiment and RunTag choose the runs the goal is judged on (Chooses):
	// the runs of one tracking experiment, by name, and the runs carrying
	// a tag KEY=VALUE. A project goal needs at least one.
	Experiment string `json:"experiment,omitempty"`
	RunTag     string `json:"run_tag,omitempty"`
	Note       string `json:"note,omitempty"`
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
	if isRate(g.Metric) && (g.Threshold < 0 || g.Threshold > 1) {
		return trellis.Invalid("threshold", "%s is a rate from 0 to 1 (0%% to 100%%), so a threshold of %s can never be judged",
			g.Metric, speccheck.FormatNumber(g.Threshold))
	}
	if g.RunTag != "" {
		if k, _, ok := strings.Cut(g.RunTag, "="); !ok || strings.TrimSpace(k) == "" {
			return trellis.Invalid("run_tag", "run tag must read KEY=VALUE, like stage=candidate; not %q", g.RunTag)
		}
	}
	for _, f := range []struct{ name, v string }{{"class", g.Class}, {"slice", g.Slice}, {"dataset", g.Dataset}, {"dataset_version", g.DatasetVersion},
		{"experiment", g.Experiment}, {"run_tag", g.RunTag}} {
		if len(f.v) > 250 {
			return trellis.Invalid(f.name, "%s must be at most 250 characters", f.name)
		}
	}
	if len(g.Note) > 4000 {
		return trellis.Invalid("note", "note must be at most 4000 characters")
	}
	return nil
}

// rates are the metrics that are fractions from 0 to 1 whatever the model:
// a threshold outside that range (a recall of 150 %) is a typing error.
var rates = map[string]bool{"accuracy": true, "balanced_accuracy": true, "precision": true, "recall": true, "f1": true,
	"f1_score": true, "auc": true, "roc_auc": true, "pr_auc": true, "average_precision": true, "specificity": true,
	"sensitivity": true, "iou": true, "dice": true, "jaccard": true, "top1_accuracy": true, "top5_accuracy": true}

// isRate reports whether metric names a rate, also with the split prefix
// people log it under (val_recall, test_accuracy).
func isRate(metric string) bool {
	m := strings.ToLower(metric)
	for _, p := range []string{"val_", "valid_", "validation_", "test_", "train_", "eval_"} {
		m = strings.TrimPrefix(m, p)
	}
	return rates[m]
}

// sameGoal reports whether two goals judge the same thing the same way:
// every field but the note.
func sameGoal(a, b Goal) bool {
	a.Note, b.Note = "", ""
	return a == b
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

// ParseGoal reads a goal sentence as people write it: "METRIC COMPARATOR
// NUMBER", e.g. "accuracy at least 0.9", "f1.spam more than 80%" (80% is
// 0.8), "loss < 0.2". The symbols >=, <=, >, < and = stand for at least, at
// most, more than, less than and exactly. Errors: EINVALID naming the part.
func ParseGoal(s string) (Goal, error) {
	words := strings.Fields(s)
	symbols := map[string]speccheck.Comparator{">=": speccheck.AtLeast, "≥": speccheck.AtLeast, "<=": speccheck.AtMost, "≤": speccheck.AtMost, ">": speccheck.MoreThan, "<": speccheck.LessThan, "=": speccheck.Exactly, "==": speccheck.Exactly}
	for i := 1; i < len(words); i++ {
		var cmp speccheck.Comparator
		n := 1
		if c, ok := symbols[words[i]]; ok {
			cmp = c
		} else if c, err := speccheck.ParseComparator(words[i]); err == nil {
			cmp = c
		} else if i+1 < len(words) {
			if c, err := speccheck.ParseComparator(words[i] + " " + words[i+1]); err == nil {
				cmp, n = c, 2
			}
		}
		if cmp == "" {
			continue
		}
		rest := words[i+n:]
		if len(rest) != 1 {
			return Goal{}, trellis.Invalid("threshold", "a goal reads METRIC COMPARATOR NUMBER, e.g. \"accuracy at least 0.9\"; after %q expected one number, got %q", cmp, strings.Join(rest, " "))
		}
		th, err := speccheck.ParseNumber(rest[0])
		if err != nil {
			return Goal{}, trellis.Invalid("threshold", "threshold: %v", err)
		}
		g := Goal{Metric: strings.Join(words[:i], " "), Comparator: cmp, Threshold: th}
		return g, g.Validate()
	}
	return Goal{}, trellis.Invalid("comparator", "a goal reads METRIC COMPARATOR NUMBER, e.g. \"accuracy at least 0.9\"; found no comparator (at least, at most, more than, less than, exactly) in %q", s)
}

// normalize trims the goal's text fields and spells its comparator the
// canonical way, then validates it.
func normalize(g Goal) (Goal, error) {
	g.Metric = strings.TrimSpace(g.Metric)
	g.Class, g.Slice = strings.TrimSpace(g.Class), strings.TrimSpace(g.Slice)
	g.Dataset, g.DatasetVersion = strings.TrimSpace(g.Dataset), strings.TrimSpace(g.DatasetVersion)
	g.Experiment = strings.TrimSpace(g.Experiment)
	if k, v, ok := strings.Cut(g.RunTag, "="); ok {
		g.RunTag = strings.TrimSpace(k) + "=" + strings.TrimSpace(v)
	} else {
		g.RunTag = strings.TrimSpace(g.RunTag)
	}
	g.Note = strings.TrimSpace(g.Note)
	if strings.ContainsAny(g.Metric, " \t\n") {
		return g, trellis.Invalid("metric", "metric must be a logged metric name without spaces, like accuracy or macro_f1; not %q", g.Metric)
	}
	if err := g.Validate(); err != nil {
		return g, err
	}
	g.Comparator, _ = speccheck.ParseComparator(string(g.Comparator))
	return g, nil
}

// refuseDuplicate refuses g when another of the goals (not the one with
// id except) already judges the same thing the same way.
func refuseDuplicate(goals []*StoredGoal, except string, g Goal) error {
	for _, e := range goals {
		if e.ID != except && sameGoal(e.Goal, g) {
			return trellis.Invalid("metric", "the goal %q is already there; change its note or threshold instead", g.String())
		}
	}
	return nil
}

// errChooseRuns refuses a project goal that names no runs to judge it: it
// would otherwise be met or missed by any exploratory run in the project.
var errChooseRuns = trellis.Invalid("experiment", "a project goal is judged on the runs you choose: name a tracking experiment, a run tag KEY=VALUE, or both")

// maxGoals bounds the goals of one item or project: a list people read.
const maxGoals = 50

// item resolves an item reference of proj. Errors: ENOTFOUND.
func (s *Service) item(ctx context.Context, proj *project.Project, ref string) (*ItemRef, error) {
	n, err := project.ParseItemRef(proj.Key, ref)
	if err != nil { // a key of another project, or no key at all: no such item here
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Item %s not found in project %s.", ref, proj.Key)
	}
	return s.itemNumber(ctx, proj, n)
}

// itemNumber returns item n of proj with its key. Errors: ENOTFOUND.
func (s *Service) itemNumber(ctx context.Context, proj *project.Project, n int64) (*ItemRef, error) {
	it, err := s.store.FindItemRef(ctx, proj.ID, n)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Item %s not found.", project.ItemKey(proj.Key, n))
	}
	if err != nil {
		return nil, err
	}
	it.Key = project.ItemKey(proj.Key, it.Number)
	return it, nil
}

func (s *Service) finish(proj *project.Project, g *StoredGoal) *StoredGoal {
	if g.ItemNumber > 0 {
		g.Item = project.ItemKey(proj.Key, g.ItemNumber)
	}
	g.Key, g.Text = g.Goal.MetricKey(), g.Goal.String()
	return g
}

// filter returns the filter of an item's goals (ref not empty) or of the
// project's own goals.
func (s *Service) filter(ctx context.Context, proj *project.Project, ref string) (GoalFilter, *ItemRef, error) {
	if ref == "" {
		return GoalFilter{ProjectID: proj.ID, Level: ProjectGoals}, nil, nil
	}
	it, err := s.item(ctx, proj, ref)
	if err != nil {
		return GoalFilter{}, nil, err
	}
	return GoalFilter{ProjectID: proj.ID, ItemID: it.ID, Level: ItemGoals}, it, nil
}

// Goals lists the goals of an item of an authorized project, or the
// project's own goals when ref is empty. Errors: ENOTFOUND, EINVALID.
func (s *Service) Goals(ctx context.Context, proj *project.Project, ref string) ([]*StoredGoal, error) {
	f, _, err := s.filter(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	gs, err := s.store.FindGoals(ctx, f)
	for _, g := range gs {
		s.finish(proj, g)
	}
	return gs, err
}

// AddGoal attaches g to an item of an authorized project (the caller is an
// editor), or to the project itself when ref is empty, last in the list.
// Errors: EINVALID naming the field, ENOTFOUND, ECONFLICT (too many goals).
func (s *Service) AddGoal(ctx context.Context, proj *project.Project, ref string, g Goal) (*StoredGoal, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	g, err := normalize(g)
	if err != nil {
		return nil, err
	}
	f, it, err := s.filter(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	if it == nil && !g.ChoosesRuns() {
		return nil, errChooseRuns
	}
	existing, err := s.store.FindGoals(ctx, f)
	if err != nil {
		return nil, err
	}
	if len(existing) >= maxGoals {
		return nil, trellis.Errorf(trellis.ECONFLICT, "At most %d goals per item or project.", maxGoals)
	}
	if err := refuseDuplicate(existing, "", g); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	sg := &StoredGoal{ID: uuid.Must(uuid.NewV7()).String(), ProjectID: proj.ID, Goal: g, CreatedBy: p.User.Name, CreatedAt: now, UpdatedAt: now}
	if it != nil {
		sg.ItemID, sg.ItemNumber = it.ID, it.Number
	}
	if err := s.store.CreateGoal(ctx, sg); err != nil {
		return nil, err
	}
	return s.finish(proj, sg), nil
}

// GoalUpdate changes the fields of a goal that are not nil.
type GoalUpdate struct {
	Metric         *string               `json:"metric"`
	Comparator     *speccheck.Comparator `json:"comparator"`
	Threshold      *float64              `json:"threshold"`
	Class          *string               `json:"class"`
	Slice          *string               `json:"slice"`
	Dataset        *string               `json:"dataset"`
	DatasetVersion *string               `json:"dataset_version"`
	Experiment     *string               `json:"experiment"`
	RunTag         *string               `json:"run_tag"`
	Note           *string               `json:"note"`
}

// Goal returns one goal of an authorized project. Errors: ENOTFOUND.
func (s *Service) Goal(ctx context.Context, proj *project.Project, id string) (*StoredGoal, error) {
	g, err := s.store.FindGoal(ctx, proj.ID, id)
	if err != nil {
		return nil, err
	}
	return s.finish(proj, g), nil
}

// UpdateGoal changes a goal of an authorized project (the caller is an
// editor). Errors: ENOTFOUND, EINVALID naming the field.
func (s *Service) UpdateGoal(ctx context.Context, proj *project.Project, id string, upd GoalUpdate) (*StoredGoal, error) {
	g, err := s.store.FindGoal(ctx, proj.ID, id)
	if err != nil {
		return nil, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&g.Metric, upd.Metric)
	set(&g.Class, upd.Class)
	set(&g.Slice, upd.Slice)
	set(&g.Dataset, upd.Dataset)
	set(&g.DatasetVersion, upd.DatasetVersion)
	set(&g.Experiment, upd.Experiment)
	set(&g.RunTag, upd.RunTag)
	set(&g.Note, upd.Note)
	if upd.Comparator != nil {
		g.Comparator = *upd.Comparator
	}
	if upd.Threshold != nil {
		g.Threshold = *upd.Threshold
	}
	if g.Goal, err = normalize(g.Goal); err != nil {
		return nil, err
	}
	if g.ItemID == "" && !g.ChoosesRuns() {
		return nil, errChooseRuns
	}
	f := GoalFilter{ProjectID: proj.ID, ItemID: g.ItemID, Level: ProjectGoals}
	if g.ItemID != "" {
		f.Level = ItemGoals
	}
	siblings, err := s.store.FindGoals(ctx, f)
	if err != nil {
		return nil, err
	}
	if err := refuseDuplicate(siblings, g.ID, g.Goal); err != nil {
		return nil, err
	}
	g.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateGoal(ctx, g); err != nil {
		return nil, err
	}
	return s.finish(proj, g), nil
}

// DeleteGoal removes a goal of an authorized project (the caller is an
// editor). Errors: ENOTFOUND.
func (s *Service) DeleteGoal(ctx context.Context, proj *project.Project, id string) error {
	return s.store.DeleteGoal(ctx, proj.ID, id)
}

// observation turns a stored latest value into an Observation.
func observation(runID, name string, start int64, v *float64, unfinished bool) Observation {
	o := Observation{RunID: runID, RunName: name, At: start, Unfinished: unfinished}
	if v == nil || math.IsNaN(*v) {
		o.Value = speccheck.Undefined("logged as NaN")
	} else {
		o.Value = speccheck.Defined(*v)
	}
	return o
}

// judge evaluates stored goals against their observations by goal id.
func judge(goals []*StoredGoal, obs map[string][]Observation) []GoalResult {
	out := make([]GoalResult, len(goals))
	for i, g := range goals {
		o := obs[g.ID]
		sort.Slice(o, func(a, b int) bool { return o[a].At < o[b].At || (o[a].At == o[b].At && o[a].RunID < o[b].RunID) })
		out[i] = GoalResult{ID: g.ID, Goal: g.Goal, Evaluation: Evaluate(g.Goal, o), Observations: o}
	}
	return out
}

// EvaluateItemGoals judges an item's stored goals against the active runs
// linked to it: met, not met, no data or undefined from the latest run
// that logged each goal's metric, with the best value so far and its run.
// Errors: ENOTFOUND, EINVALID.
func (s *Service) EvaluateItemGoals(ctx context.Context, proj *project.Project, ref string) (*ItemEvaluation, error) {
	f, it, err := s.filter(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	goals, err := s.store.FindGoals(ctx, f)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.FindGoalObservations(ctx, f)
	if err != nil {
		return nil, err
	}
	n, err := s.store.CountLinkedRuns(ctx, proj.ID, it.Key)
	if err != nil {
		return nil, err
	}
	obs := map[string][]Observation{}
	for _, r := range rows {
		obs[r.GoalID] = append(obs[r.GoalID], observation(r.RunID, r.RunName, r.StartTime, r.Value, r.Unfinished))
	}
	return &ItemEvaluation{Item: it.Key, Runs: n, Goals: judge(goals, obs)}, nil
}

// EvaluateProjectGoals judges the project's own goals against the
// project's active runs they use (Goal.UsedBy): the latest finished run
// that logged a goal's metric decides.
func (s *Service) EvaluateProjectGoals(ctx context.Context, proj *project.Project) (*ItemEvaluation, error) {
	f := GoalFilter{ProjectID: proj.ID, Level: ProjectGoals}
	goals, err := s.store.FindGoals(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &ItemEvaluation{Goals: []GoalResult{}}
	if len(goals) == 0 {
		return out, nil
	}
	rows, err := s.store.FindGoalObservations(ctx, f)
	if err != nil {
		return nil, err
	}
	obs := map[string][]Observation{}
	runs := map[string]bool{}
	for _, r := range rows {
		obs[r.GoalID] = append(obs[r.GoalID], observation(r.RunID, r.RunName, r.StartTime, r.Value, r.Unfinished))
		runs[r.RunID] = true
	}
	out.Runs, out.Goals = len(runs), judge(goals, obs)
	return out, nil
}

// EvaluateGoals judges goals that are not stored (the Then steps of a spec
// sent with the request) against the active runs linked to an item key.
// The item need not exist: runs link to item keys as text. Errors:
// EINVALID (a key of another project or malformed).
func (s *Service) EvaluateGoals(ctx context.Context, proj *project.Project, itemKey string, goals []Goal) (*ItemEvaluation, error) {
	num, err := project.ParseItemRef(proj.Key, itemKey)
	if err != nil {
		return nil, trellis.Invalid("item", "item %q is not in project %s (keys look like %s-12)", itemKey, proj.Key, proj.Key)
	}
	itemKey = project.ItemKey(proj.Key, num)
	keys := make([]string, len(goals))
	for i, g := range goals {
		keys[i] = g.MetricKey()
	}
	vals, err := s.store.FindRunValues(ctx, RunQuery{ProjectID: proj.ID, ItemKey: itemKey, Keys: keys})
	if err != nil {
		return nil, err
	}
	n, err := s.store.CountLinkedRuns(ctx, proj.ID, itemKey)
	if err != nil {
		return nil, err
	}
	byKey := map[string][]Observation{}
	for _, v := range vals {
		byKey[v.Key] = append(byKey[v.Key], observation(v.RunID, v.RunName, v.StartTime, v.Value, v.Unfinished))
	}
	out := &ItemEvaluation{Item: itemKey, Runs: n, Goals: make([]GoalResult, len(goals))}
	for i, g := range goals {
		o := byKey[g.MetricKey()]
		out.Goals[i] = GoalResult{Goal: g, Evaluation: Evaluate(g, o), Observations: o}
	}
	return out, nil
}

// GoalProgress is how many of an item's goals are met: what a board card
// shows.
type GoalProgress struct {
	Met, Total int
}

// AllMet reports whether the item has goals and every one is met.
func (p GoalProgress) AllMet() bool { return p.Total > 0 && p.Met == p.Total }

// ItemProgress judges the item goals of a project at once, in one query
// whatever the number of items and runs, and returns the progress of each
// item that has goals, by item key. A sprint id or a kind narrows it to
// the items a sprint board or the experiment board shows. A goal's status
// depends only on its latest observation, so the store returns just that
// one per goal, and Evaluate judges it as it would the whole list.
func (s *Service) ItemProgress(ctx context.Context, proj *project.Project, sprintID string, kind string) (map[string]GoalProgress, error) {
	rows, err := s.store.FindLatestGoalObservations(ctx, GoalFilter{ProjectID: proj.ID, Level: ItemGoals, SprintID: sprintID, Kind: kind})
	if err != nil {
		return nil, err
	}
	out := map[string]GoalProgress{}
	for _, r := range rows {
		var obs []Observation
		if o := r.Latest; o != nil {
			obs = []Observation{observation(o.RunID, o.RunName, o.StartTime, o.Value, false)}
		}
		k := project.ItemKey(proj.Key, r.ItemNumber)
		p := out[k]
		p.Total++
		if Evaluate(r.Goal, obs).Status == Met {
			p.Met++
		}
		out[k] = p
	}
	return out, nil
}

// ResultsOf returns the evaluation's goal results keyed by stored goal id.
func (ev *ItemEvaluation) ResultsOf() map[string]GoalResult {
	m := make(map[string]GoalResult, len(ev.Goals))
	for _, g := range ev.Goals {
		m[g.ID] = g
	}
	return m
}

// SnapshotDecision keeps the goal results of an item decided at decidedAt
// as the decision's evidence; internal/cli calls it from
// work.Service.OnDecided. Items without goals keep no snapshot. It returns
// the error for the caller to log: the decision itself is already
// committed.
func (s *Service) SnapshotDecision(ctx context.Context, proj *project.Project, item ItemRef, decidedAt time.Time) error {
	ie, err := s.EvaluateItemGoals(ctx, proj, item.Key)
	if err != nil || len(ie.Goals) == 0 {
		return err
	}
	return s.store.SaveGoalSnapshot(ctx, item.ID, ie.JSON(), decidedAt)
}

// DecisionEvidence returns the goal snapshots kept with a project's
// decisions, by decided item id.
func (s *Service) DecisionEvidence(ctx context.Context, proj *project.Project) (map[string]*Snapshot, error) {
	return s.store.FindGoalSnapshots(ctx, proj.ID)
}

// Sentence reads a goal result as one line of evidence: "accuracy at least
// 0.9: not met (latest 0.88, best 0.93)".
func (r ResultJSON) Sentence() string {
	s := r.Text + ": " + string(r.Status)
	var parts []string
	if r.Latest != nil {
		parts = append(parts, "latest "+r.Latest.String())
	}
	if r.Best != nil {
		parts = append(parts, "best "+r.Best.String())
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

// String formats the observed value, or "undefined".
func (o *ObservationJSON) String() string {
	if o.Value == nil {
		return "undefined"
	}
	return speccheck.FormatNumber(*o.Value)
}

// EvidenceSentences reads the goal snapshots kept with a project's
// decisions as lines of evidence (ResultJSON.Sentence), by decided item
// id, for the hypothesis log and its exports.
func (s *Service) EvidenceSentences(ctx context.Context, proj *project.Project) (map[string][]string, error) {
	snaps, err := s.store.FindGoalSnapshots(ctx, proj.ID)
	if err != nil {
		return nil, err
	}
	m := make(map[string][]string, len(snaps))
	for id, sn := range snaps {
		lines := make([]string, len(sn.Results.Goals))
		for i, r := range sn.Results.Goals {
			lines[i] = r.Sentence()
		}
		m[id] = lines
	}
	return m, nil
}
