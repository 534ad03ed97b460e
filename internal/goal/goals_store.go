package goal

import (
	"context"
	"time"
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
	GoalID    string
	RunID     string
	RunName   string
	StartTime int64    // ms UTC
	Value     *float64 // nil when the run logged NaN
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
	RunID     string
	RunName   string
	StartTime int64 // ms UTC
	Key       string
	Value     *float64 // nil when the run logged NaN
}

// RunQuery selects the latest values of metric keys over a project's
// active runs: the runs linked to ItemKey, or every run when it is empty.
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
	// experiment) linked to the goal's item.
	FindGoalObservations(ctx context.Context, f GoalFilter) ([]GoalObservation, error)
	// FindLatestGoalObservations returns each item goal f selects with only
	// the observation that decides its status: the latest (by run start
	// time, then run id) active linked run that logged the goal's metric.
	// One statement for a whole board.
	FindLatestGoalObservations(ctx context.Context, f GoalFilter) ([]GoalLatest, error)
	// FindRunValues returns the latest values of q.Keys in the active runs q
	// selects.
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
