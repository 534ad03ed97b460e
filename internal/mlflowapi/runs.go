package mlflowapi

import (
	"encoding/json"
	"net/http"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

func (api *API) createRun(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		ExperimentID string    `json:"experiment_id"`
		UserID       string    `json:"user_id"`
		RunName      string    `json:"run_name"`
		StartTime    jint      `json:"start_time"`
		Tags         []wireTag `json:"tags"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	run, err := api.tracking.CreateRun(r.Context(), proj, tracking.NewRun{ExperimentID: req.ExperimentID, UserID: req.UserID,
		Name: req.RunName, StartTime: req.StartTime.V, Tags: tagsIn(req.Tags)})
	if err != nil {
		return err
	}
	return writeRunJSON(w, run)
}

// runIDReq accepts MLflow's run_id and its deprecated twin run_uuid.
type runIDReq struct {
	RunID   string `json:"run_id"`
	RunUUID string `json:"run_uuid"`
}

func (q runIDReq) id() (string, error) {
	if q.RunID != "" {
		return q.RunID, nil
	}
	if q.RunUUID != "" {
		return q.RunUUID, nil
	}
	return "", trellis.Invalid("run_id", "Missing value for required parameter 'run_id'.")
}

func (api *API) getRun(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req runIDReq
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := req.id()
	if err != nil {
		return err
	}
	run, err := api.tracking.Run(r.Context(), proj, id)
	if err != nil {
		return err
	}
	return writeRunJSON(w, run)
}

func (api *API) updateRun(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		runIDReq
		Status  *string `json:"status"`
		EndTime jint    `json:"end_time"`
		RunName *string `json:"run_name"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := req.id()
	if err != nil {
		return err
	}
	upd := tracking.RunUpdate{Status: req.Status, Name: req.RunName}
	if req.EndTime.Set {
		upd.EndTime = &req.EndTime.V
	}
	info, err := api.tracking.UpdateRun(r.Context(), proj, id, upd)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"run_info": toWireRunInfo(info)})
}

func (api *API) runStage(stage string) func(http.ResponseWriter, *http.Request, *project.Project) error {
	return func(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
		var req runIDReq
		if err := decode(r, &req); err != nil {
			return err
		}
		id, err := req.id()
		if err != nil {
			return err
		}
		if err := api.tracking.SetRunStage(r.Context(), proj, id, stage); err != nil {
			return err
		}
		return ok(w, empty{})
	}
}

func (api *API) searchRuns(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req searchReq
	if err := decode(r, &req); err != nil {
		return err
	}
	runs, next, err := api.tracking.SearchRuns(r.Context(), proj, tracking.SearchRunsInput{ExperimentIDs: req.ExpIDs,
		SearchInput: tracking.SearchInput{View: req.RunView, Filter: req.Filter, OrderBy: req.OrderBy, MaxResults: req.MaxResults.V, PageToken: req.PageToken}})
	if err != nil {
		return err
	}
	b := append(make([]byte, 0, 1024+1024*len(runs)), '{')
	if len(runs) > 0 {
		b = append(b, `"runs":[`...)
		for i, run := range runs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRun(b, run)
		}
		b = append(b, ']')
	}
	if next != "" {
		if len(runs) > 0 {
			b = append(b, ',')
		}
		b = append(b, `"next_page_token":`...)
		b = appendString(b, next)
	}
	return writeRaw(w, append(b, '}', '\n'))
}

type keyValueReq struct {
	runIDReq
	Key   string  `json:"key"`
	Value *string `json:"value"`
}

func (q keyValueReq) parse() (string, tracking.Tag, error) {
	id, err := q.id()
	if err != nil {
		return "", tracking.Tag{}, err
	}
	if err := required("key", q.Key != ""); err != nil {
		return "", tracking.Tag{}, err
	}
	if err := required("value", q.Value != nil); err != nil {
		return "", tracking.Tag{}, err
	}
	return id, tracking.Tag{Key: q.Key, Value: *q.Value}, nil
}

func (api *API) setTag(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req keyValueReq
	if err := decode(r, &req); err != nil {
		return err
	}
	id, kv, err := req.parse()
	if err != nil {
		return err
	}
	if err := api.tracking.LogBatch(r.Context(), proj, id, tracking.Batch{Tags: []tracking.Tag{kv}}); err != nil {
		return err
	}
	return ok(w, empty{})
}

func (api *API) deleteTag(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		runIDReq
		Key string `json:"key"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := req.id()
	if err != nil {
		return err
	}
	if err := api.tracking.DeleteRunTag(r.Context(), proj, id, req.Key); err != nil {
		return err
	}
	return ok(w, empty{})
}

// logModel appends the model's JSON to the run's mlflow.log-model.history
// tag, as MLflow's server does.
func (api *API) logModel(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		runIDReq
		ModelJSON string `json:"model_json"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := req.id()
	if err != nil {
		return err
	}
	var model map[string]any
	if err := json.Unmarshal([]byte(req.ModelJSON), &model); err != nil {
		return trellis.Invalid("model_json", "model_json must be a JSON object: %v", err)
	}
	if err := api.tracking.LogModel(r.Context(), proj, id, model); err != nil {
		return err
	}
	return ok(w, empty{})
}
