package mlflowapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// jint is an int64 as MLflow's protobuf JSON accepts it: a number or a
// numeric string (query strings are always strings).
type jint struct {
	V   int64
	Set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *jint) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) {
			return errors.New("not an integer")
		}
		v = int64(f)
	}
	n.V, n.Set = v, true
	return nil
}

// jfloat is a double as MLflow sends it: a number, or the strings "NaN",
// "Infinity" and "-Infinity" that protobuf JSON uses for the special values.
type jfloat struct {
	V   float64
	Set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *jfloat) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	switch s {
	case "null":
		return nil
	case "NaN", "nan":
		f.V = math.NaN()
	case "Infinity", "inf", "Inf":
		f.V = math.Inf(1)
	case "-Infinity", "-inf", "-Inf":
		f.V = math.Inf(-1)
	default:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return errors.New("not a number")
		}
		f.V = v
	}
	f.Set = true
	return nil
}

// jval writes a double as MLflow does.
type jval float64

// MarshalJSON implements json.Marshaler.
func (v jval) MarshalJSON() ([]byte, error) { return appendValue(nil, float64(v)), nil }

// appendValue appends a metric value as MLflow writes it.
func appendValue(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// repeated are the request fields that are lists; in a query string they
// may appear several times.
var repeated = map[string]bool{"experiment_ids": true, "order_by": true, "run_ids": true}

// decode reads a request as MLflow's handlers do: GET from the query
// string, anything else from a JSON body; unknown fields are ignored.
// Errors: EINVALID naming the field whose type is wrong.
func decode(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return unmarshal(body, v)
}

// readBody returns a request's JSON: the query string as an object for GET
// and DELETE, else the body ("{}" when empty). Errors: ETOOLARGE, EINVALID.
func readBody(r *http.Request) ([]byte, error) {
	if r.Method == http.MethodGet || r.Method == http.MethodDelete {
		m := map[string]any{}
		for k, vs := range r.URL.Query() {
			if repeated[k] {
				m[k] = vs
			} else if len(vs) > 0 {
				m[k] = vs[0]
			}
		}
		body, _ := json.Marshal(m)
		return body, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, trellis.Errorf(trellis.ETOOLARGE, "The request body exceeds the limit of %d bytes.", mbe.Limit)
		}
		return nil, trellis.Invalid("body", "could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return body, nil
}

// unmarshal decodes a request's JSON into v. Errors: EINVALID naming the
// field whose type is wrong.
func unmarshal(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return trellis.Invalid(te.Field, "Invalid value for parameter '%s': expected %s.", te.Field, te.Type)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return trellis.Invalid("body", "Malformed JSON at byte %d: %v", se.Offset, err)
		}
		return trellis.Invalid("body", "Invalid request: %v", err)
	}
	return nil
}

func required(field string, ok bool) error {
	if !ok {
		return trellis.Invalid(field, "Missing value for required parameter '%s'.", field)
	}
	return nil
}

type wireTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type wireMetricIn struct {
	Key       string `json:"key"`
	Value     jfloat `json:"value"`
	Timestamp jint   `json:"timestamp"`
	Step      jint   `json:"step"`
}

type wireMetric struct {
	Key       string `json:"key"`
	Value     jval   `json:"value"`
	Timestamp int64  `json:"timestamp"`
	Step      int64  `json:"step"`
}

type wireExperiment struct {
	ExperimentID     string    `json:"experiment_id"`
	Name             string    `json:"name"`
	ArtifactLocation string    `json:"artifact_location"`
	LifecycleStage   string    `json:"lifecycle_stage"`
	LastUpdateTime   int64     `json:"last_update_time"`
	CreationTime     int64     `json:"creation_time"`
	Tags             []wireTag `json:"tags,omitempty"`
}

func toWireExperiment(e *tracking.Experiment) wireExperiment {
	w := wireExperiment{ExperimentID: strconv.FormatInt(e.ID, 10), Name: e.Name, ArtifactLocation: tracking.ExperimentArtifactLocation(e),
		LifecycleStage: e.LifecycleStage, LastUpdateTime: e.UpdatedAt, CreationTime: e.CreatedAt}
	for _, t := range e.Tags {
		w.Tags = append(w.Tags, wireTag(t))
	}
	return w
}

type wireRunInfo struct {
	RunID          string `json:"run_id"`
	RunUUID        string `json:"run_uuid"`
	RunName        string `json:"run_name"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	StartTime      int64  `json:"start_time"`
	EndTime        *int64 `json:"end_time,omitempty"`
	ArtifactURI    string `json:"artifact_uri"`
	LifecycleStage string `json:"lifecycle_stage"`
}

// wireRunInputs is MLflow's RunInputs: always present, {} without inputs.
type wireRunInputs struct {
	DatasetInputs []wireDatasetInput `json:"dataset_inputs,omitempty"`
}

type wireDatasetInput struct {
	Tags    []wireTag   `json:"tags,omitempty"`
	Dataset wireDataset `json:"dataset"`
}

// wireDataset is MLflow's Dataset; schema and profile are left out when
// the client did not send them, as protobuf JSON leaves out unset fields.
type wireDataset struct {
	Name       string  `json:"name"`
	Digest     string  `json:"digest"`
	SourceType string  `json:"source_type"`
	Source     string  `json:"source"`
	Schema     *string `json:"schema,omitempty"`
	Profile    *string `json:"profile,omitempty"`
}

func toWireRunInfo(i *tracking.RunInfo) wireRunInfo {
	return wireRunInfo{RunID: i.ID, RunUUID: i.ID, RunName: i.Name, ExperimentID: strconv.FormatInt(i.ExperimentID, 10), UserID: i.UserID,
		Status: i.Status, StartTime: i.StartTime, EndTime: i.EndTime, ArtifactURI: i.ArtifactURI, LifecycleStage: i.LifecycleStage}
}

func toWireRunInputs(ins []tracking.DatasetInput) wireRunInputs {
	var w wireRunInputs
	for _, in := range ins {
		d := in.Dataset
		wi := wireDatasetInput{Dataset: wireDataset{Name: d.Name, Digest: d.Digest, SourceType: d.SourceType, Source: d.Source, Schema: d.Schema, Profile: d.Profile}}
		for _, t := range in.Tags {
			wi.Tags = append(wi.Tags, wireTag(t))
		}
		w.DatasetInputs = append(w.DatasetInputs, wi)
	}
	return w
}

func toWireMetric(m tracking.Metric) wireMetric {
	return wireMetric{Key: m.Key, Value: jval(m.Value), Timestamp: m.Timestamp, Step: m.Step}
}

func tagsIn(ts []wireTag) []tracking.Tag {
	out := make([]tracking.Tag, len(ts))
	for i, t := range ts {
		out[i] = tracking.Tag(t)
	}
	return out
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
