package mlflowapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// Version is what /version answers: the MLflow REST protocol version this
// surface follows.
const Version = "2.22.0"

type empty struct{}

func ok(w http.ResponseWriter, v any) error {
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (api *API) trackingEndpoints() []endpoint {
	eps := []endpoint{
		{"POST", "/experiments/create", true, api.createExperiment},
		{"GET", "/experiments/get", false, api.getExperiment},
		{"GET", "/experiments/get-by-name", false, api.getExperimentByName},
		{"GET", "/experiments/search", false, api.searchExperiments},
		{"POST", "/experiments/search", false, api.searchExperiments},
		{"POST", "/experiments/update", true, api.updateExperiment},
		{"POST", "/experiments/delete", true, api.experimentStage(tracking.StageDeleted)},
		{"POST", "/experiments/restore", true, api.experimentStage(tracking.StageActive)},
		{"POST", "/experiments/set-experiment-tag", true, api.setExperimentTag},
		{"POST", "/experiments/delete-experiment-tag", true, api.deleteExperimentTag},
		{"POST", "/runs/create", true, api.createRun},
		{"GET", "/runs/get", false, api.getRun},
		{"POST", "/runs/update", true, api.updateRun},
		{"POST", "/runs/delete", true, api.runStage(tracking.StageDeleted)},
		{"POST", "/runs/restore", true, api.runStage(tracking.StageActive)},
		{"POST", "/runs/search", false, api.searchRuns},
		{"GET", "/runs/search", false, api.searchRuns},
		{"POST", "/runs/log-metric", true, api.logMetric},
		{"POST", "/runs/log-parameter", true, api.logParam},
		{"POST", "/runs/set-tag", true, api.setTag},
		{"POST", "/runs/delete-tag", true, api.deleteTag},
		{"POST", "/runs/log-batch", true, api.logBatch},
		{"POST", "/runs/log-inputs", true, api.logInputs},
		{"POST", "/runs/log-model", true, api.logModel},
		{"GET", "/metrics/get-history", false, api.getHistory},
		{"GET", "/metrics/get-history-bulk-interval", false, api.bulkInterval},
		{"GET", "/artifacts/list", false, api.listRunArtifacts},
	}
	return eps
}

func (api *API) bulkEndpoints() []endpoint {
	return []endpoint{{"GET", "/metrics/get-history-bulk-interval", false, api.bulkInterval}}
}

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

type searchReq struct {
	MaxResults jint     `json:"max_results"`
	PageToken  string   `json:"page_token"`
	Filter     string   `json:"filter"`
	OrderBy    []string `json:"order_by"`
	ViewType   string   `json:"view_type"`
	RunView    string   `json:"run_view_type"`
	ExpIDs     []string `json:"experiment_ids"`
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

func metricIn(m wireMetricIn) (tracking.Metric, error) {
	if err := required("key", m.Key != ""); err != nil {
		return tracking.Metric{}, err
	}
	if err := required("value", m.Value.Set); err != nil {
		return tracking.Metric{}, err
	}
	if err := required("timestamp", m.Timestamp.Set); err != nil {
		return tracking.Metric{}, err
	}
	return tracking.Metric{Key: m.Key, Value: m.Value.V, Timestamp: m.Timestamp.V, Step: m.Step.V}, nil
}

func (api *API) logMetric(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		runIDReq
		wireMetricIn
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := req.id()
	if err != nil {
		return err
	}
	m, err := metricIn(req.wireMetricIn)
	if err != nil {
		return err
	}
	if err := api.tracking.LogBatch(r.Context(), proj, id, tracking.Batch{Metrics: []tracking.Metric{m}}); err != nil {
		return err
	}
	return ok(w, empty{})
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

func (api *API) logParam(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req keyValueReq
	if err := decode(r, &req); err != nil {
		return err
	}
	id, kv, err := req.parse()
	if err != nil {
		return err
	}
	if err := api.tracking.LogBatch(r.Context(), proj, id, tracking.Batch{Params: []tracking.Param{tracking.Param(kv)}}); err != nil {
		return err
	}
	return ok(w, empty{})
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

func (api *API) logBatch(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req logBatchReq
	if !decodeLogBatchFast(body, &req) {
		req = logBatchReq{}
		if err := unmarshal(body, &req); err != nil {
			return err
		}
	}
	id, err := req.id()
	if err != nil {
		return err
	}
	b := tracking.Batch{Metrics: make([]tracking.Metric, 0, len(req.Metrics)), Tags: tagsIn(req.Tags)}
	for _, m := range req.Metrics {
		mm, err := metricIn(m)
		if err != nil {
			return err
		}
		b.Metrics = append(b.Metrics, mm)
	}
	for _, p := range req.Params {
		b.Params = append(b.Params, tracking.Param(p))
	}
	if err := api.tracking.LogBatch(r.Context(), proj, id, b); err != nil {
		return err
	}
	return ok(w, empty{})
}

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

func (api *API) getHistory(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		runIDReq
		MetricKey  string `json:"metric_key"`
		MaxResults jint   `json:"max_results"`
		PageToken  string `json:"page_token"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := req.id()
	if err != nil {
		return err
	}
	ms, next, err := api.tracking.MetricHistory(r.Context(), proj, id, req.MetricKey, req.MaxResults.V, req.PageToken)
	if err != nil {
		return err
	}
	// A page holds up to a million points: encode it by hand, which is
	// several times faster than encoding/json with a marshaler per value.
	buf := make([]byte, 0, 64+len(ms)*(len(req.MetricKey)+64))
	buf = append(buf, '{')
	if len(ms) > 0 {
		key := appendString(nil, req.MetricKey)
		buf = append(buf, `"metrics":[`...)
		for i, m := range ms {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendMetric(buf, key, m)
		}
		buf = append(buf, ']')
	}
	if next != "" {
		if len(ms) > 0 {
			buf = append(buf, ',')
		}
		tok, _ := json.Marshal(next)
		buf = append(buf, `"next_page_token":`...)
		buf = append(buf, tok...)
	}
	return writeRaw(w, append(buf, '}', '\n'))
}

func (api *API) bulkInterval(w http.ResponseWriter, r *http.Request, proj *project.Project) error {
	var req struct {
		RunIDs     []string `json:"run_ids"`
		MetricKey  string   `json:"metric_key"`
		StartStep  jint     `json:"start_step"`
		EndStep    jint     `json:"end_step"`
		MaxResults jint     `json:"max_results"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	in := tracking.IntervalQuery{RunIDs: req.RunIDs, Key: req.MetricKey, MaxResults: req.MaxResults.V}
	if req.StartStep.Set {
		in.StartStep = &req.StartStep.V
	}
	if req.EndStep.Set {
		in.EndStep = &req.EndStep.V
	}
	ms, err := api.tracking.MetricIntervals(r.Context(), proj, in)
	if err != nil {
		return err
	}
	type point struct {
		wireMetric
		RunID string `json:"run_id"`
	}
	out := struct {
		Metrics []point `json:"metrics,omitempty"`
	}{}
	for _, m := range ms {
		out.Metrics = append(out.Metrics, point{toWireMetric(m.Metric), m.RunID})
	}
	return ok(w, out)
}
