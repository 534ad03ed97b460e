package tracking

import (
	"context"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// CheckBatch applies MLflow's log-batch limits and key rules.
func CheckBatch(b Batch) error {
	if len(b.Metrics) > MaxMetricsPerBatch {
		return trellis.Invalid("metrics", "A batch logging request can contain at most %d metrics. Got %d metrics.", MaxMetricsPerBatch, len(b.Metrics))
	}
	if n := len(b.Params) + len(b.Tags); n > MaxParamsTagsPerBatch {
		return trellis.Invalid("params", "A batch logging request can contain at most %d params and tags combined. Got %d.", MaxParamsTagsPerBatch, n)
	}
	if n := len(b.Metrics) + len(b.Params) + len(b.Tags); n > MaxEntitiesPerBatch {
		return trellis.Invalid("metrics", "A batch logging request can contain at most %d metrics, params and tags in total. Got %d.", MaxEntitiesPerBatch, n)
	}
	for i, m := range b.Metrics {
		// A batch is mostly runs of points of one key: check each run once
		// (the name pattern took 6 % of a 1,000-point log-batch's CPU).
		if i > 0 && m.Key == b.Metrics[i-1].Key {
			continue
		}
		if err := checkKey("key", m.Key); err != nil {
			return err
		}
	}
	seen := map[string]string{}
	for _, p := range b.Params {
		if err := checkKey("key", p.Key); err != nil {
			return err
		}
		if len(p.Value) > MaxParamValueLength {
			return trellis.Invalid("value", "Param value of '%s' exceeds the maximum length of %d characters (got %d)", p.Key, MaxParamValueLength, len(p.Value))
		}
		if v, ok := seen[p.Key]; ok && v != p.Value {
			return trellis.Invalid("params", "Duplicate parameter keys have been submitted: %s with different values.", p.Key)
		}
		seen[p.Key] = p.Value
	}
	for _, t := range b.Tags {
		if err := checkTag(t, MaxTagValueLength); err != nil {
			return err
		}
	}
	return nil
}

// LogBatch writes params, tags and metric points to an active run of proj,
// with the rename its mlflow.runName tag makes and the item links its name,
// note and item tags mention, all in one transaction; it returns after the
// commit. Errors: EINVALID (limits, names, a param re-logged with a
// different value), ENOTFOUND.
func (s *Service) LogBatch(ctx context.Context, proj *project.Project, runID string, b Batch) error {
	_, err := s.logBatch(ctx, proj, runID, b, nil)
	return err
}

// logBatch is LogBatch; change, when set, also changes the run's info (its
// status, end time) in the batch's transaction, as that transaction reads
// it. It returns the run's info as written.
func (s *Service) logBatch(ctx context.Context, proj *project.Project, runID string, b Batch, change func(*RunInfo) error) (*RunInfo, error) {
	if err := CheckBatch(b); err != nil {
		return nil, err
	}
	if runID == "" {
		return nil, trellis.Invalid("run_id", "Missing value for required parameter 'run_id'.")
	}
	b.Params = dedupParams(b.Params)
	b.Tags = dedupTags(b.Tags)
	name, rename := tagValue(b.Tags, TagRunName)
	var texts []string
	for _, t := range b.Tags {
		if t.Key == TagRunName || t.Key == TagNote || t.Key == TagItem {
			texts = append(texts, t.Value)
		}
	}
	links := s.itemLinks(proj, runID, texts...)
	// The run is checked in the batch's write transaction, so a run
	// deleted meanwhile is not written to, and log-batch sends no read
	// of its own.
	var info RunInfo
	err := s.store.LogBatch(ctx, proj.ID, runID, func(i *RunInfo) ([]ItemLink, error) {
		if i.LifecycleStage != StageActive {
			return nil, trellis.Invalid("run_id", "The run %s must be in the 'active' state. Current state is %s.", runID, i.LifecycleStage)
		}
		if rename {
			i.Name = name
		}
		if change != nil {
			if err := change(i); err != nil {
				return nil, err
			}
		}
		info = *i
		return links, nil
	}, b)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Run '%s' not found", runID)
	}
	if err != nil {
		return nil, err
	}
	return &info, nil
}

func dedupParams(ps []Param) []Param {
	seen := map[string]bool{}
	var out []Param
	for _, p := range ps {
		if !seen[p.Key] {
			seen[p.Key] = true
			out = append(out, p)
		}
	}
	return out
}
