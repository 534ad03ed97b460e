package mlflowapi

import (
	"net/http"
	"strconv"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// logInputs records MLflow's dataset inputs of a run (mlflow.log_input),
// which runs/get and runs/search then return under inputs.dataset_inputs.
func (api *API) logInputs(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		runIDReq
		Datasets []struct {
			Tags    []wireTag `json:"tags"`
			Dataset *struct {
				Name       string  `json:"name"`
				Digest     string  `json:"digest"`
				SourceType *string `json:"source_type"`
				Source     *string `json:"source"`
				Schema     *string `json:"schema"`
				Profile    *string `json:"profile"`
			} `json:"dataset"`
		} `json:"datasets"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := req.id()
	if err != nil {
		return err
	}
	inputs := make([]tracking.DatasetInput, 0, len(req.Datasets))
	for i, d := range req.Datasets {
		f := "datasets[" + strconv.Itoa(i) + "].dataset"
		if d.Dataset == nil {
			return trellis.Invalid(f, "Missing value for required parameter '%s'.", f)
		}
		if d.Dataset.SourceType == nil {
			return trellis.Invalid(f+".source_type", "Missing value for required parameter '%s.source_type'.", f)
		}
		if d.Dataset.Source == nil {
			return trellis.Invalid(f+".source", "Missing value for required parameter '%s.source'.", f)
		}
		inputs = append(inputs, tracking.DatasetInput{Tags: tagsIn(d.Tags), Dataset: tracking.Dataset{Name: d.Dataset.Name, Digest: d.Dataset.Digest,
			SourceType: *d.Dataset.SourceType, Source: *d.Dataset.Source, Schema: d.Dataset.Schema, Profile: d.Dataset.Profile}})
	}
	if err := api.tracking.LogInputs(r.Context(), proj, id, inputs); err != nil {
		return err
	}
	return ok(w, empty{})
}
