package tracking

import (
	"context"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// DefaultExperimentName names the experiment MLflow's experiment id "0"
// stands for in each project.
const DefaultExperimentName = "Default"

// ParseExperimentID parses MLflow's string experiment id.
func ParseExperimentID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return 0, trellis.Invalid("experiment_id", "Invalid experiment ID: '%s'", s)
	}
	return id, nil
}

func checkExperimentName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return trellis.Invalid("name", "Invalid experiment name: '%s'. An experiment name must be a non-empty string.", name)
	case len(name) > MaxExperimentName:
		return trellis.Invalid("name", "Experiment name exceeds the maximum length of %d characters", MaxExperimentName)
	}
	return nil
}

// CreateExperiment creates a tracking experiment in proj. Clients may
// choose an artifact location only under a prefix the operator allowed
// (AllowArtifactLocations); otherwise artifacts go through the server's
// proxy and blob store. Errors: EINVALID, ECONFLICT (name taken, also by a
// deleted experiment).
func (s *Service) CreateExperiment(ctx context.Context, proj *project.Project, name, artifactLocation string, tags []Tag) (*Experiment, error) {
	if err := checkExperimentName(name); err != nil {
		return nil, err
	}
	if err := s.checkArtifactLocation(artifactLocation); err != nil {
		return nil, err
	}
	for _, t := range tags {
		if err := checkTag(t, MaxExpTagValueLength); err != nil {
			return nil, err
		}
	}
	now := s.nowMs()
	e := &Experiment{ProjectID: proj.ID, Name: name, ArtifactLocation: artifactLocation, LifecycleStage: StageActive, CreatedAt: now, UpdatedAt: now, Tags: dedupTags(tags)}
	if err := s.store.CreateExperiment(ctx, e); err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			return nil, trellis.Errorf(trellis.ECONFLICT, "Experiment '%s' already exists.", name)
		}
		return nil, err
	}
	return e, nil
}

// Experiment returns an experiment of proj by MLflow id. Id "0" is the
// project's Default experiment, created on first use, because MLflow clients
// log to experiment 0 when none is set. Errors: EINVALID, ENOTFOUND.
func (s *Service) Experiment(ctx context.Context, proj *project.Project, id string) (*Experiment, error) {
	n, err := ParseExperimentID(id)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return s.defaultExperiment(ctx, proj)
	}
	e, err := s.store.FindExperiment(ctx, proj.ID, n)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, trellis.Errorf(trellis.ENOTFOUND, "No Experiment with id=%s exists", id)
	}
	return e, err
}

func (s *Service) defaultExperiment(ctx context.Context, proj *project.Project) (*Experiment, error) {
	e, err := s.store.FindExperimentByName(ctx, proj.ID, DefaultExperimentName)
	if trellis.ErrorCode(err) != trellis.ENOTFOUND {
		return e, err
	}
	now := s.nowMs()
	e = &Experiment{ProjectID: proj.ID, Name: DefaultExperimentName, LifecycleStage: StageActive, CreatedAt: now, UpdatedAt: now}
	err = s.store.CreateExperiment(ctx, e)
	if trellis.ErrorCode(err) == trellis.ECONFLICT { // created concurrently
		return s.store.FindExperimentByName(ctx, proj.ID, DefaultExperimentName)
	}
	return e, err
}

// ExperimentByName returns an experiment of proj. Errors: ENOTFOUND.
func (s *Service) ExperimentByName(ctx context.Context, proj *project.Project, name string) (*Experiment, error) {
	if name == "" {
		return nil, trellis.Invalid("experiment_name", "Missing value for required parameter 'experiment_name'.")
	}
	e, err := s.store.FindExperimentByName(ctx, proj.ID, name)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		if name == DefaultExperimentName {
			return s.defaultExperiment(ctx, proj)
		}
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Could not find experiment with name '%s'", name)
	}
	return e, err
}

// SearchExperiments lists experiments of proj. Errors: EINVALID (filter and
// order syntax, with the column).
func (s *Service) SearchExperiments(ctx context.Context, proj *project.Project, in SearchInput) ([]*Experiment, string, error) {
	q, err := in.parse(experimentAttributes)
	if err != nil {
		return nil, "", err
	}
	view, offset, limit, filter, order := q.view, q.offset, q.limit, q.filter, q.order
	for _, k := range order {
		if _, ok := experimentAttributes[k.Key]; k.Entity != EntityAttribute || !ok {
			return nil, "", trellis.Invalid("order_by", "Invalid order_by entity for experiments: %s.%s; use name, experiment_id, creation_time or last_update_time", k.Entity, k.Key)
		}
	}
	// MLflow always has a Default experiment; make sure the project's
	// exists before the first listing shows it.
	if _, err := s.defaultExperiment(ctx, proj); err != nil {
		return nil, "", err
	}
	es, err := s.store.FindExperiments(ctx, ExperimentQuery{ProjectID: proj.ID, View: view, Filter: filter, OrderBy: order, Offset: offset, Limit: limit + 1})
	if err != nil {
		return nil, "", err
	}
	es, next := trimPage(es, offset, limit)
	return es, next, nil
}

// RenameExperiment renames an experiment. Errors: EINVALID, ENOTFOUND, ECONFLICT.
func (s *Service) RenameExperiment(ctx context.Context, proj *project.Project, id, name string) error {
	if err := checkExperimentName(name); err != nil {
		return err
	}
	e, err := s.Experiment(ctx, proj, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageActive {
		return trellis.Invalid("experiment_id", "Cannot rename a non-active experiment.")
	}
	e.Name, e.UpdatedAt = name, s.nowMs()
	if err := s.store.UpdateExperiment(ctx, e); err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			return trellis.Errorf(trellis.ECONFLICT, "Experiment '%s' already exists.", name)
		}
		return err
	}
	return nil
}

// SetExperimentStage deletes (StageDeleted) or restores (StageActive) an
// experiment and its runs. Errors: ENOTFOUND, EINVALID.
func (s *Service) SetExperimentStage(ctx context.Context, proj *project.Project, id, stage string) error {
	e, err := s.Experiment(ctx, proj, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage == stage {
		if stage == StageActive {
			return trellis.Invalid("experiment_id", "Cannot restore an active experiment.")
		}
		return trellis.Invalid("experiment_id", "Cannot delete an already deleted experiment.")
	}
	e.LifecycleStage, e.UpdatedAt = stage, s.nowMs()
	return s.store.UpdateExperiment(ctx, e)
}

// SetExperimentTag sets a tag on an active experiment. Errors: EINVALID, ENOTFOUND.
func (s *Service) SetExperimentTag(ctx context.Context, proj *project.Project, id string, t Tag) error {
	if err := checkTag(t, MaxExpTagValueLength); err != nil {
		return err
	}
	e, err := s.Experiment(ctx, proj, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageActive {
		return trellis.Invalid("experiment_id", "The experiment %d must be in the 'active' state. Current state is %s.", e.ID, e.LifecycleStage)
	}
	return s.store.SetExperimentTag(ctx, e.ID, t, s.nowMs())
}

// DeleteExperimentTag removes a tag. Errors: ENOTFOUND (experiment or tag).
func (s *Service) DeleteExperimentTag(ctx context.Context, proj *project.Project, id, key string) error {
	e, err := s.Experiment(ctx, proj, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageActive {
		return trellis.Invalid("experiment_id", "The experiment %d must be in the 'active' state. Current state is %s.", e.ID, e.LifecycleStage)
	}
	if err := s.store.DeleteExperimentTag(ctx, e.ID, key); err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return trellis.Errorf(trellis.ENOTFOUND, "No tag with name: %s in experiment %d.", key, e.ID)
		}
		return err
	}
	return nil
}
