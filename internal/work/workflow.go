package work

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// Status categories: where in the flow a status sits. Readiness rules apply
// when an item leaves the todo category.
const (
	CategoryTodo  = "todo"
	CategoryDoing = "doing"
	CategoryDone  = "done"
)

// Status is one column of a project's workflow.
type Status struct {
	Name     string `json:"name"`
	Category string `json:"category"`
	// WIPLimit is the flow board's work-in-progress limit; 0 means none.
	WIPLimit int `json:"wip_limit"`
}

// DefaultStatuses is the workflow a project starts with.
var DefaultStatuses = []Status{
	{Name: "Backlog", Category: CategoryTodo},
	{Name: "To do", Category: CategoryTodo},
	{Name: "In progress", Category: CategoryDoing},
	{Name: "In review", Category: CategoryDoing},
	{Name: "Done", Category: CategoryDone},
}

// Point scales. A T-shirt size maps to points so that sprints can add them up.
const (
	ScaleFibonacci = "fibonacci"
	ScaleTShirt    = "tshirt"
)

// FibonacciPoints are the points a Fibonacci project accepts.
var FibonacciPoints = []int{1, 2, 3, 5, 8, 13, 21}

// TShirtSizes are the sizes a T-shirt project accepts, smallest first.
var TShirtSizes = []string{"XS", "S", "M", "L", "XL"}

// TShirtPoints maps each T-shirt size to its points.
var TShirtPoints = map[string]int{"XS": 1, "S": 2, "M": 3, "L": 5, "XL": 8}

// Planning is a project's planning settings.
type Planning struct {
	PointScale string     `json:"point_scale"`
	Allocation Allocation `json:"allocation"`
}

// Allocation is the sprint allocation guideline in percent per category.
type Allocation struct {
	Committed   int `json:"committed"`   // development + maintenance
	Experiments int `json:"experiments"` // experiment + research
	Learning    int `json:"learning"`    // items labelled "learning"
}

// DefaultPlanning is what a project starts with.
var DefaultPlanning = Planning{PointScale: ScaleFibonacci, Allocation: Allocation{Committed: 60, Experiments: 30, Learning: 10}}

// WorkflowStore is the persistence of workflows and planning settings.
type WorkflowStore interface {
	// FindStatuses returns the stored workflow, empty when never set.
	FindStatuses(ctx context.Context, projectID string) ([]Status, error)
	SetStatuses(ctx context.Context, projectID string, ss []Status) error
	// FindPlanning returns DefaultPlanning when never set.
	FindPlanning(ctx context.Context, projectID string) (Planning, error)
	SetPlanning(ctx context.Context, projectID string, p Planning) error
}

// Statuses returns the project's workflow: its own, or the defaults.
func (s *Service) Statuses(ctx context.Context, proj *project.Project) ([]Status, error) {
	ss, err := s.store.FindStatuses(ctx, proj.ID)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return slices.Clone(DefaultStatuses), nil
	}
	return ss, nil
}

// StatusError is the refusal of one status of a workflow: Row is its index
// in the statuses given, for a form to show the message beside it. It
// unwraps to the *trellis.Error (code, field, message) the API answers.
type StatusError struct {
	Row int
	Err error
}

func (e *StatusError) Error() string { return e.Err.Error() }

func (e *StatusError) Unwrap() error { return e.Err }

// SetStatuses replaces the project's workflow. Items in a status that
// disappears are refused (ECONFLICT) rather than silently moved.
// A refused status is a *StatusError naming its row.
// Errors: EINVALID, ECONFLICT.
func (s *Service) SetStatuses(ctx context.Context, proj *project.Project, ss []Status) ([]Status, error) {
	if len(ss) < 2 || len(ss) > 20 {
		return nil, trellis.Invalid("statuses", "a workflow has 2–20 statuses")
	}
	seen := map[string]bool{}
	hasDone := false
	for i := range ss {
		ss[i].Name = strings.TrimSpace(ss[i].Name)
		if err := checkText("statuses.name", ss[i].Name, 40, true); err != nil {
			return nil, &StatusError{Row: i, Err: err}
		}
		if seen[strings.ToLower(ss[i].Name)] {
			return nil, &StatusError{Row: i, Err: trellis.Invalid("statuses.name", "status %q appears twice", ss[i].Name)}
		}
		seen[strings.ToLower(ss[i].Name)] = true
		if err := oneOf("statuses.category", ss[i].Category, []string{CategoryTodo, CategoryDoing, CategoryDone}); err != nil || ss[i].Category == "" {
			return nil, &StatusError{Row: i, Err: trellis.Invalid("statuses.category", "category of %q must be todo, doing or done", ss[i].Name)}
		}
		if ss[i].WIPLimit < 0 || ss[i].WIPLimit > 1000 {
			return nil, &StatusError{Row: i, Err: trellis.Invalid("statuses.wip_limit", "wip_limit must be 0 (none) to 1000")}
		}
		hasDone = hasDone || ss[i].Category == CategoryDone
	}
	if ss[0].Category != CategoryTodo || !hasDone {
		return nil, trellis.Invalid("statuses", "a workflow starts with a todo status and has a done status")
	}
	old, err := s.Statuses(ctx, proj)
	if err != nil {
		return nil, err
	}
	for _, o := range old {
		if !seen[strings.ToLower(o.Name)] {
			items, err := s.store.FindItems(ctx, ItemFilter{ProjectID: proj.ID, Status: o.Name, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(items) > 0 {
				return nil, &trellis.Error{Code: trellis.ECONFLICT, Field: "statuses", Message: fmt.Sprintf("Items are still in status %q; move them first.", o.Name)}
			}
		}
	}
	if err := s.store.SetStatuses(ctx, proj.ID, ss); err != nil {
		return nil, err
	}
	return ss, nil
}

// Planning returns the project's planning settings.
func (s *Service) Planning(ctx context.Context, proj *project.Project) (Planning, error) {
	return s.store.FindPlanning(ctx, proj.ID)
}

// SetPlanning changes the point scale and allocation guideline.
// Errors: EINVALID.
func (s *Service) SetPlanning(ctx context.Context, proj *project.Project, p Planning) (Planning, error) {
	if err := oneOf("point_scale", p.PointScale, []string{ScaleFibonacci, ScaleTShirt}); err != nil || p.PointScale == "" {
		return p, trellis.Invalid("point_scale", "point_scale must be fibonacci or tshirt")
	}
	a := p.Allocation
	if a.Committed < 0 || a.Experiments < 0 || a.Learning < 0 || a.Committed+a.Experiments+a.Learning != 100 {
		return p, trellis.Invalid("allocation", "the allocation percentages must be non-negative and add up to 100; they add up to %d", a.Committed+a.Experiments+a.Learning)
	}
	return p, s.store.SetPlanning(ctx, proj.ID, p)
}

func statusByName(ss []Status, name string) (Status, bool) {
	for _, st := range ss {
		if strings.EqualFold(st.Name, name) {
			return st, true
		}
	}
	return Status{}, false
}
