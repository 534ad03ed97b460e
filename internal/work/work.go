// Package work is the backlog capability of Trellis: items, sprints,
// boards, templates, decisions, comments and activity inside a project.
package work

import (
	"context"
	"time"

	"github.com/trellisml/trellis/internal/project"
)

// Store is the persistence work needs. Absent rows are ENOTFOUND.
type Store interface {
	ItemStore
	LinkStore
	WorkflowStore
	SearchStore
	SprintStore
	DecisionStore
	DoDStore
	CommentStore
	TemplateStore
	BulkStore
	FilterStore
	// FindProjectByKey returns a project. Errors: ENOTFOUND.
	FindProjectByKey(ctx context.Context, key string) (*project.Project, error)
	// FindMembers lists a project's members: assignees, mentions and
	// capacities must name one of them.
	FindMembers(ctx context.Context, projectID string) ([]*project.Member, error)
}

// Service applies the backlog rules. Its methods take a project the caller
// was authorized for (project.Service.Authorize).
type Service struct {
	store    Store
	projects *project.Service
	now      func() time.Time
	// decided are the reactions to a committed decision (OnDecided).
	decided []func(context.Context, Decided)
}

// NewService returns a Service; projects creates the demo project.
func NewService(store Store, projects *project.Service) *Service {
	return &Service{store: store, projects: projects, now: time.Now}
}

// SetClock replaces the clock, for tests that step a sprint through its
// days.
func (s *Service) SetClock(now func() time.Time) { s.now = now }
