package mlflowapi

import (
	"net/http"
	"strconv"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
)

type experimentIDReq struct {
	ExperimentID string `json:"experiment_id"`
}

func (api *API) createExperiment(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		Name             string    `json:"name"`
		ArtifactLocation string    `json:"artifact_location"`
		Tags             []wireTag `json:"tags"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("name", req.Name != ""); err != nil {
		return err
	}
	e, err := api.tracking.CreateExperiment(r.Context(), proj, req.Name, req.ArtifactLocation, tagsIn(req.Tags))
	if err != nil {
		return err
	}
	return ok(w, map[string]string{"experiment_id": strconv.FormatInt(e.ID, 10)})
}

func (api *API) getExperiment(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req experimentIDReq
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("experiment_id", req.ExperimentID != ""); err != nil {
		return err
	}
	e, err := api.tracking.Experiment(r.Context(), proj, req.ExperimentID)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"experiment": toWireExperiment(e)})
}

func (api *API) getExperimentByName(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		Name string `json:"experiment_name"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	e, err := api.tracking.ExperimentByName(r.Context(), proj, req.Name)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"experiment": toWireExperiment(e)})
}

func (api *API) searchExperiments(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req searchReq
	if err := decode(r, &req); err != nil {
		return err
	}
	es, next, err := api.tracking.SearchExperiments(r.Context(), proj, tracking.SearchInput{View: req.ViewType, Filter: req.Filter,
		OrderBy: req.OrderBy, MaxResults: req.MaxResults.V, PageToken: req.PageToken})
	if err != nil {
		return err
	}
	out := struct {
		Experiments   []wireExperiment `json:"experiments,omitempty"`
		NextPageToken string           `json:"next_page_token,omitempty"`
	}{NextPageToken: next}
	for _, e := range es {
		out.Experiments = append(out.Experiments, toWireExperiment(e))
	}
	return ok(w, out)
}

func (api *API) updateExperiment(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		ExperimentID string `json:"experiment_id"`
		NewName      string `json:"new_name"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("experiment_id", req.ExperimentID != ""); err != nil {
		return err
	}
	if err := api.tracking.RenameExperiment(r.Context(), proj, req.ExperimentID, req.NewName); err != nil {
		return err
	}
	return ok(w, empty{})
}

func (api *API) experimentStage(stage string) func(http.ResponseWriter, *http.Request, *project.Project) error {
	return func(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
		var req experimentIDReq
		if err := decode(r, &req); err != nil {
			return err
		}
		if err := required("experiment_id", req.ExperimentID != ""); err != nil {
			return err
		}
		if err := api.tracking.SetExperimentStage(r.Context(), proj, req.ExperimentID, stage); err != nil {
			return err
		}
		return ok(w, empty{})
	}
}

func (api *API) setExperimentTag(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		ExperimentID string  `json:"experiment_id"`
		Key          string  `json:"key"`
		Value        *string `json:"value"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("experiment_id", req.ExperimentID != ""); err != nil {
		return err
	}
	if err := required("value", req.Value != nil); err != nil {
		return err
	}
	if err := api.tracking.SetExperimentTag(r.Context(), proj, req.ExperimentID, tracking.Tag{Key: req.Key, Value: *req.Value}); err != nil {
		return err
	}
	return ok(w, empty{})
}

func (api *API) deleteExperimentTag(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		ExperimentID string `json:"experiment_id"`
		Key          string `json:"key"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("experiment_id", req.ExperimentID != ""); err != nil {
		return err
	}
	if err := api.tracking.DeleteExperimentTag(r.Context(), proj, req.ExperimentID, req.Key); err != nil {
		return err
	}
	return ok(w, empty{})
}
