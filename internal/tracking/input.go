package tracking

import (
	"context"
	"strconv"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// loadInputs fills the dataset inputs of runs that answer a client.
func (s *Service) loadInputs(ctx context.Context, runs []*Run) error {
	if len(runs) == 0 {
		return nil
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.Info.ID
	}
	in, err := s.store.FindRunInputs(ctx, ids)
	if err != nil {
		return err
	}
	for _, r := range runs {
		r.Inputs = in[r.Info.ID]
	}
	return nil
}

// CheckInputs applies MLflow's dataset input rules: every input names a
// dataset with a name, digest, source type and source, within MLflow's
// length limits, and input tags within theirs. Errors name the field with
// its index, such as datasets[0].dataset.digest.
func CheckInputs(inputs []DatasetInput) error {
	if len(inputs) > MaxDatasetsPerBatch {
		return trellis.Invalid("datasets", "A log-inputs request can contain at most %d datasets. Got %d.", MaxDatasetsPerBatch, len(inputs))
	}
	long := func(field string, v string, max int) error {
		if len(v) > max {
			return trellis.Invalid(field, "'%s' exceeds the maximum length of %d characters (got %d)", field, max, len(v))
		}
		return nil
	}
	for i, in := range inputs {
		f := "datasets[" + strconv.Itoa(i) + "].dataset."
		d := in.Dataset
		for _, c := range []struct {
			field string
			v     string
			max   int
		}{{"name", d.Name, MaxDatasetName}, {"digest", d.Digest, MaxDatasetDigest}, {"source", d.Source, MaxDatasetSource}} {
			if err := long(f+c.field, c.v, c.max); err != nil {
				return err
			}
		}
		if d.Name == "" || d.Digest == "" {
			return trellis.Invalid(f+"name", "A dataset input needs a dataset with a name and a digest.")
		}
		if d.Schema != nil {
			if err := long(f+"schema", *d.Schema, MaxDatasetSchema); err != nil {
				return err
			}
		}
		if d.Profile != nil {
			if err := long(f+"profile", *d.Profile, MaxDatasetProfile); err != nil {
				return err
			}
		}
		for j, t := range in.Tags {
			tf := "datasets[" + strconv.Itoa(i) + "].tags[" + strconv.Itoa(j) + "]."
			if t.Key == "" {
				return trellis.Invalid(tf+"key", "An input tag needs a key.")
			}
			if err := long(tf+"key", t.Key, MaxInputTagKey); err != nil {
				return err
			}
			if err := long(tf+"value", t.Value, MaxInputTagValue); err != nil {
				return err
			}
		}
	}
	return nil
}

// LogInputs records the datasets an active run of proj used, with their
// input tags. Inputs naming the same dataset (name and digest) twice keep
// the first, and a dataset the run already has is left as it is, as in
// MLflow. Errors: EINVALID (limits, a missing name or digest), ENOTFOUND.
func (s *Service) LogInputs(ctx context.Context, proj *project.Project, runID string, inputs []DatasetInput) error {
	if err := CheckInputs(inputs); err != nil {
		return err
	}
	r, err := s.activeRun(ctx, proj, runID)
	if err != nil {
		return err
	}
	type key struct{ name, digest string }
	seen := map[key]bool{}
	var keep []DatasetInput
	for _, in := range inputs {
		k := key{in.Dataset.Name, in.Dataset.Digest}
		if !seen[k] {
			seen[k] = true
			in.Tags = dedupTags(in.Tags)
			keep = append(keep, in)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return s.store.LogRunInputs(ctx, r.Info.ExperimentID, runID, keep)
}
