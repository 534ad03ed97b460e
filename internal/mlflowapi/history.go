package mlflowapi

import (
	"encoding/json"
	"net/http"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
)

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
