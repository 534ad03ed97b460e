package tracking

import (
	"context"

	"github.com/trellisml/trellis/internal/project"
)

// RunFinished tells that a run reached a terminal status (FINISHED, FAILED
// or KILLED). Other capabilities react to it — the goal capability re-runs
// the specs of the items the run is linked to — without tracking importing
// them: internal/cli wires the reaction with OnRunFinished.
type RunFinished struct {
	Project *project.Project
	RunID   string
	Status  string
}

// terminal holds the statuses after which a run logs nothing more.
var terminal = map[string]bool{"FINISHED": true, "FAILED": true, "KILLED": true}

// OnRunFinished registers fn to be called after a run's change to a
// terminal status is committed, on the goroutine of the request that made
// it, so the reaction is visible when the client's update returns. Register
// before serving; fn must handle its own errors.
func (s *Service) OnRunFinished(fn func(context.Context, RunFinished)) {
	s.runFinished = append(s.runFinished, fn)
}

func (s *Service) finished(ctx context.Context, ev RunFinished) {
	for _, fn := range s.runFinished {
		fn(ctx, ev)
	}
}
