// Package goal holds Trellis's goals and the acceptance specs stored on
// items: measurable criteria (a metric, a comparator, a threshold) kept on
// items and projects and judged against the runs the tracking service
// holds, and the versions of each item's Gherkin spec with the latest
// result of every scenario. Parsing and checking a spec is the offline
// engine's work, in package speccheck; this package stores specs and runs
// that engine against the server's runs.
package goal

import (
	"time"

	"github.com/trellisml/trellis/internal/tracking"
)

// Service keeps the goals and specs attached to items and projects, and
// judges them against the runs the tracking service holds. Callers (the
// HTTP surfaces) authorize the project first.
type Service struct {
	store Store
	track *tracking.Service
	now   func() time.Time
}

// ItemRef is what goals and specs need of a backlog item: which item it is.
// The backlog's own Item stays in package work, which goal does not import.
type ItemRef struct {
	ID     string
	Number int64
	Key    string // BAL-12
}

// Store is what the goal capability keeps in the database: goals, and
// specs with their versions and latest results.
type Store interface {
	GoalStore
	SpecStore
}

// NewService returns a Service over store, reading runs from track.
func NewService(store Store, track *tracking.Service) *Service {
	return &Service{store: store, track: track, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }
