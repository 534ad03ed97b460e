package mlflowapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
)

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
