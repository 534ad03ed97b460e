package work

import (
	"context"

	"github.com/trellisml/trellis/internal/project"
)

// Decided tells that a decision on an experiment item was committed. Other
// capabilities react to it — the goal capability keeps the item's goal
// results as evidence — without work importing them: internal/cli wires
// the reaction with OnDecided.
type Decided struct {
	Project  *project.Project
	Decision *Decision
}

// OnDecided registers fn to be called after a decision is committed, on
// the goroutine of the request that made it, so the reaction is visible
// when the request returns. Register before serving; fn must handle its
// own errors (the decision stands whatever it does).
func (s *Service) OnDecided(fn func(context.Context, Decided)) {
	s.decided = append(s.decided, fn)
}
