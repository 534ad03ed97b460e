package mlflowapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/trellisml/trellis/internal/tracking"
)

// A run search answers with up to 1,000 runs of a dozen or more params,
// tags and metrics each; encoding/json spent a quarter of a 100-run
// search's time on them (reflection, and a MarshalJSON call plus a
// validation pass per metric value). The functions here write the same
// bytes by hand; TestRunJSONMatchesEncodingJSON holds them to
// encoding/json's output for the wire structs.

// appendString appends s as encoding/json writes a string: strings of
// plain printable ASCII as they are, any other through encoding/json
// itself (HTML-safe escapes, invalid UTF-8 replaced).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendKV appends MLflow's params or tags: [{"key":…,"value":…},…].
func appendKV[T tracking.Param | tracking.Tag](b []byte, kvs []T) []byte {
	b = append(b, '[')
	for i, kv := range kvs {
		if i > 0 {
			b = append(b, ',')
		}
		t := tracking.Tag(kv)
		b = append(b, `{"key":`...)
		b = appendString(b, t.Key)
		b = append(b, `,"value":`...)
		b = appendString(b, t.Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendRun appends a run as MLflow's Run message: info, data (metrics,
// params and tags, each left out when empty) and inputs.
func appendRun(b []byte, r *tracking.Run) []byte {
	i := &r.Info
	b = append(b, `{"info":{"run_id":`...)
	b = appendString(b, i.ID)
	b = append(b, `,"run_uuid":`...)
	b = appendString(b, i.ID)
	b = append(b, `,"run_name":`...)
	b = appendString(b, i.Name)
	b = append(b, `,"experiment_id":"`...)
	b = strconv.AppendInt(b, i.ExperimentID, 10)
	b = append(b, `","user_id":`...)
	b = appendString(b, i.UserID)
	b = append(b, `,"status":`...)
	b = appendString(b, i.Status)
	b = append(b, `,"start_time":`...)
	b = strconv.AppendInt(b, i.StartTime, 10)
	if i.EndTime != nil {
		b = append(b, `,"end_time":`...)
		b = strconv.AppendInt(b, *i.EndTime, 10)
	}
	b = append(b, `,"artifact_uri":`...)
	b = appendString(b, i.ArtifactURI)
	b = append(b, `,"lifecycle_stage":`...)
	b = appendString(b, i.LifecycleStage)
	b = append(b, `},"data":{`...)
	sep := false
	if len(r.Metrics) > 0 {
		b = append(b, `"metrics":[`...)
		var key []byte
		for j, m := range r.Metrics {
			if j > 0 {
				b = append(b, ',')
			}
			key = appendString(key[:0], m.Key)
			b = appendMetric(b, key, m)
		}
		b = append(b, ']')
		sep = true
	}
	if len(r.Params) > 0 {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"params":`...)
		b = appendKV(b, r.Params)
		sep = true
	}
	if len(r.Tags) > 0 {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"tags":`...)
		b = appendKV(b, r.Tags)
	}
	b = append(b, `},"inputs":`...)
	if len(r.Inputs) == 0 {
		b = append(b, `{}`...)
	} else {
		in, _ := json.Marshal(toWireRunInputs(r.Inputs))
		b = append(b, in...)
	}
	return append(b, '}')
}

// appendMetric appends a metric point as MLflow's Metric; key is the
// point's key already encoded as a JSON string.
func appendMetric(b, key []byte, m tracking.Metric) []byte {
	b = append(b, `{"key":`...)
	b = append(b, key...)
	b = append(b, `,"value":`...)
	b = appendValue(b, m.Value)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, m.Timestamp, 10)
	b = append(b, `,"step":`...)
	b = strconv.AppendInt(b, m.Step, 10)
	return append(b, '}')
}

// writeRunJSON answers {"run": …} for one run.
func writeRunJSON(w http.ResponseWriter, r *tracking.Run) error {
	b := append(make([]byte, 0, 2048), `{"run":`...)
	b = appendRun(b, r)
	return writeRaw(w, append(b, '}', '\n'))
}

// writeRaw answers 200 with JSON already encoded.
func writeRaw(w http.ResponseWriter, b []byte) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(b)
	return err
}
