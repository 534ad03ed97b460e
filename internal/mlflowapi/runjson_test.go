package mlflowapi

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trellisml/trellis/internal/tracking"
)

// wireRun is MLflow's Run message as encoding/json would write it: the
// reference appendRun is held to.
type wireRun struct {
	Info   wireRunInfo   `json:"info"`
	Data   wireRunData   `json:"data"`
	Inputs wireRunInputs `json:"inputs"`
}

type wireRunData struct {
	Metrics []wireMetric `json:"metrics,omitempty"`
	Params  []wireTag    `json:"params,omitempty"`
	Tags    []wireTag    `json:"tags,omitempty"`
}

func toWireRun(r *tracking.Run) wireRun {
	w := wireRun{Info: toWireRunInfo(&r.Info), Inputs: toWireRunInputs(r.Inputs)}
	for _, m := range r.Metrics {
		w.Data.Metrics = append(w.Data.Metrics, toWireMetric(m))
	}
	for _, p := range r.Params {
		w.Data.Params = append(w.Data.Params, wireTag(p))
	}
	for _, t := range r.Tags {
		w.Data.Tags = append(w.Data.Tags, wireTag(t))
	}
	return w
}

// TestRunJSONMatchesEncodingJSON compares the hand-written run encoding
// with encoding/json's for random runs: strings that need escaping
// (quotes, controls, HTML characters, U+2028, invalid UTF-8), NaN and
// infinite values, missing end times, empty and non-empty data and inputs.
func TestRunJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"", "a", "loss", `"`, `\`, "<b>", "&", "\n", "\t", "\x01", "\x7f", "é", "\u2028", "\xff", "日本", "mlflow.runName", " "}
	str := func() string {
		var b []byte
		for range rng.IntN(4) {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		return string(b)
	}
	values := []float64{0, 1, -1.5, 0.1, 1e21, 1e-7, 123456789, math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64}
	for n := range 2000 {
		r := &tracking.Run{Info: tracking.RunInfo{ID: str(), ExperimentID: rng.Int64N(1000), Name: str(), UserID: str(), Status: str(),
			StartTime: rng.Int64(), LifecycleStage: str(), ArtifactURI: str()}}
		if rng.IntN(2) == 0 {
			end := rng.Int64N(1 << 50)
			r.Info.EndTime = &end
		}
		for range rng.IntN(3) {
			r.Params = append(r.Params, tracking.Param{Key: str(), Value: str()})
		}
		for range rng.IntN(3) {
			r.Tags = append(r.Tags, tracking.Tag{Key: str(), Value: str()})
		}
		for range rng.IntN(3) {
			r.Metrics = append(r.Metrics, tracking.Metric{Key: str(), Value: values[rng.IntN(len(values))], Timestamp: rng.Int64N(1 << 45), Step: rng.Int64N(1<<20) - 5})
		}
		if rng.IntN(5) == 0 {
			schema := str()
			r.Inputs = append(r.Inputs, tracking.DatasetInput{Dataset: tracking.Dataset{Name: str(), Digest: str(), SourceType: str(), Source: str(), Schema: &schema},
				Tags: []tracking.Tag{{Key: "mlflow.data.context", Value: str()}}})
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(toWireRun(r)); err != nil {
			t.Fatal(err)
		}
		got := append(appendRun(nil, r), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("run %d:\n got %s\nwant %s", n, got, want.Bytes())
		}
	}
}

func BenchmarkSearchResponse100(b *testing.B) {
	runs := make([]*tracking.Run, 100)
	for i := range runs {
		r := &tracking.Run{Info: tracking.RunInfo{ID: "0123456789abcdef0123456789abcdef", ExperimentID: 7, Name: "bold-owl-12", Status: "FINISHED",
			StartTime: 1700000000000, LifecycleStage: "active", ArtifactURI: "mlflow-artifacts:/BAL/7/0123456789abcdef0123456789abcdef/artifacts"}}
		for j := range 5 {
			r.Params = append(r.Params, tracking.Param{Key: "p" + string(rune('0'+j)), Value: "y"})
		}
		for j := range 3 {
			r.Tags = append(r.Tags, tracking.Tag{Key: "t" + string(rune('0'+j)), Value: "v"})
		}
		for j := range 10 {
			r.Metrics = append(r.Metrics, tracking.Metric{Key: "m" + string(rune('0'+j)), Value: 0.123 * float64(j), Timestamp: 1700000000000})
		}
		runs[i] = r
	}
	b.Run("encoding-json", func(b *testing.B) {
		for range b.N {
			out := struct {
				Runs []wireRun `json:"runs"`
			}{}
			for _, r := range runs {
				out.Runs = append(out.Runs, toWireRun(r))
			}
			_ = json.NewEncoder(&bytes.Buffer{}).Encode(out)
		}
	})
	b.Run("by-hand", func(b *testing.B) {
		for range b.N {
			buf := []byte(`{"runs":[`)
			for i, r := range runs {
				if i > 0 {
					buf = append(buf, ',')
				}
				buf = appendRun(buf, r)
			}
			_ = append(buf, ']', '}', '\n')
		}
	})
}
