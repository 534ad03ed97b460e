package tracking

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/project"
)

// DemoExperiment is the tracking experiment of the demo project.
const DemoExperiment = "balloon-detector"

// demoRun is one training run of the demo story: the item it belongs to (by
// the item's title in work.SeedDemo), where its recall and precision end,
// and when it ran.
type demoRun struct {
	item      string // title of the demo item the run mentions
	name      string // run name after the item key
	params    map[string]string
	recall    float64
	precision float64
	latency   float64 // p95 ms; 0 when not measured
	daysAgo   int
	running   bool
	data      string // the balloons version it trained on: "" is v3
}

var demoRuns = []demoRun{
	{item: "Mosaic augmentation", name: "baseline 640px", params: map[string]string{"input_px": "640", "augment": "flip", "loss": "bce", "lr": "0.001", "epochs": "30"},
		recall: 0.71, precision: 0.88, latency: 120, daysAgo: 16},
	{item: "Mosaic augmentation", name: "mosaic 640px", params: map[string]string{"input_px": "640", "augment": "flip+mosaic", "loss": "bce", "lr": "0.001", "epochs": "30"},
		recall: 0.76, precision: 0.88, latency: 121, daysAgo: 13},
	{item: "Train on grayscale images", name: "grayscale 640px", params: map[string]string{"input_px": "640", "augment": "flip+mosaic", "loss": "bce", "lr": "0.001", "epochs": "30", "channels": "1"},
		recall: 0.58, precision: 0.81, latency: 95, daysAgo: 11},
	{item: "Focal loss against class imbalance", name: "focal loss gamma 2", params: map[string]string{"input_px": "640", "augment": "flip+mosaic", "loss": "focal", "gamma": "2", "lr": "0.001", "epochs": "30"},
		recall: 0.79, precision: 0.87, latency: 121, daysAgo: 3},
	{item: "Retrain on the July photo drop", name: "retrain july drop", params: map[string]string{"input_px": "640", "augment": "flip+mosaic", "loss": "bce", "lr": "0.0005", "epochs": "20", "data": "balloons-v3+july"},
		recall: 0.78, precision: 0.89, latency: 120, daysAgo: 2, data: "v3+july"},
	{item: "Higher input resolution (1024 px)", name: "1024px", params: map[string]string{"input_px": "1024", "augment": "flip+mosaic", "loss": "bce", "lr": "0.001", "epochs": "30"},
		recall: 0.81, precision: 0.88, latency: 231, daysAgo: 1},
	{item: "Higher input resolution (1024 px)", name: "1024px fp16", params: map[string]string{"input_px": "1024", "augment": "flip+mosaic", "loss": "bce", "lr": "0.001", "epochs": "30", "precision": "fp16"},
		recall: 0.80, precision: 0.88, daysAgo: 0, running: true},
}

// demoSteps is the length of each demo run's metric series.
const demoSteps = 30

// ArtifactWriter is where SeedDemo writes the demo runs' artifact bytes:
// the server's blob store (blob.Store has this method), under the keys the
// artifact proxy and the run page read (RunArtifactRoot).
type ArtifactWriter interface {
	Put(ctx context.Context, key string, r io.Reader) error
}

// SeedDemo logs the demo project's training runs in the experiment
// "balloon-detector" through the Service, so every rule applies: each run
// names its item's key, which links it to the item, and logs params and
// loss/recall/precision series that improve over the steps. keys are the
// demo project's item keys by title (from work.SeedDemo); a demo item that
// is missing is an error, since the story would not hold together. Each
// finished run gets the artifacts a training script would upload (a
// precision-recall PNG, metrics.json and a model folder), written to
// files; nil files seeds no artifacts.
func (s *Service) SeedDemo(ctx context.Context, proj *project.Project, keys map[string]string, files ArtifactWriter) error {
	e, err := s.CreateExperiment(ctx, proj, DemoExperiment, "", []Tag{{Key: TagNote, Value: "Training runs of the balloon detector on balloons v3."}})
	if err != nil {
		return err
	}
	exp := strconv.FormatInt(e.ID, 10)
	now := s.now().UTC()
	for _, d := range demoRuns {
		key, ok := keys[d.item]
		if !ok {
			return fmt.Errorf("demo runs: no demo item %q", d.item)
		}
		start := now.AddDate(0, 0, -d.daysAgo).Add(-3 * time.Hour)
		if d.running {
			start = now.Add(-40 * time.Minute)
		}
		r, err := s.CreateRun(ctx, proj, NewRun{ExperimentID: exp, Name: key + " " + d.name, StartTime: start.UnixMilli(), UserID: "ada"})
		if err != nil {
			return err
		}
		steps := demoSteps
		if d.running {
			steps = demoSteps * 2 / 3
		}
		var b Batch
		for k, v := range d.params {
			b.Params = append(b.Params, Param{Key: k, Value: v})
		}
		for i := 0; i < steps; i++ {
			// Exponential approach to the final value, with a small
			// deterministic wobble so the charts look like training.
			f := (1 - math.Exp(-4*float64(i+1)/demoSteps)) / (1 - math.Exp(-4))
			wobble := 0.01 * math.Sin(float64(i)*1.7+float64(d.daysAgo))
			ts := start.Add(time.Duration(i) * 4 * time.Minute).UnixMilli()
			step := int64(i)
			b.Metrics = append(b.Metrics,
				Metric{Key: "loss", Value: round3(0.12 + 1.1*(1-f) + wobble), Timestamp: ts, Step: step},
				Metric{Key: "recall", Value: round3(0.3 + (d.recall-0.3)*f + wobble), Timestamp: ts, Step: step},
				Metric{Key: "precision", Value: round3(0.5 + (d.precision-0.5)*f - wobble), Timestamp: ts, Step: step})
		}
		if d.latency > 0 {
			b.Metrics = append(b.Metrics, Metric{Key: "p95_latency_ms", Value: d.latency, Timestamp: start.Add(2 * time.Hour).UnixMilli(), Step: 0})
		}
		if err := s.LogBatch(ctx, proj, r.Info.ID, b); err != nil {
			return err
		}
		if err := s.LogInputs(ctx, proj, r.Info.ID, []DatasetInput{demoDataset(d.data)}); err != nil {
			return err
		}
		if d.running {
			continue
		}
		if files != nil {
			if err := putDemoArtifacts(ctx, files, r, d); err != nil {
				return fmt.Errorf("demo run %s: artifacts: %w", d.name, err)
			}
		}
		status, end := "FINISHED", start.Add(2*time.Hour).UnixMilli()
		if _, err := s.UpdateRun(ctx, proj, r.Info.ID, RunUpdate{Status: &status, EndTime: &end}); err != nil {
			return err
		}
	}
	return nil
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// demoDataset is the training input of a demo run, as mlflow.log_input
// records it: the balloons dataset of the given version ("" is v3), its
// version also as the input's "version" tag, which goals scoped to a
// dataset version read.
func demoDataset(version string) DatasetInput {
	if version == "" {
		version = "v3"
	}
	digests := map[string]string{"v3": "3f9c2a1b", "v3+july": "7d41e0c5"}
	return DatasetInput{
		Dataset: Dataset{Name: "balloons", Digest: digests[version], SourceType: "local", Source: "data/balloons-" + version + ".parquet"},
		Tags:    []Tag{{Key: "mlflow.data.context", Value: "training"}, {Key: "version", Value: version}},
	}
}

// putDemoArtifacts writes a finished demo run's artifacts under its root.
func putDemoArtifacts(ctx context.Context, files ArtifactWriter, r *Run, d demoRun) error {
	root, ok := RunArtifactRoot(r)
	if !ok {
		return fmt.Errorf("run %s keeps its artifacts at %s", r.Info.ID, r.Info.ArtifactURI)
	}
	metrics, err := json.MarshalIndent(map[string]float64{"recall": d.recall, "precision": d.precision, "p95_latency_ms": d.latency}, "", "  ")
	if err != nil {
		return err
	}
	curve, err := demoCurvePNG(d.recall, d.precision)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		data []byte
	}{
		{"metrics.json", append(metrics, '\n')},
		{"pr_curve.png", curve},
		{"model/MLmodel", []byte("artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.pytorch\n    python_version: 3.12.4\n  pytorch:\n    pytorch_version: 2.5.1\nrun_id: " + r.Info.ID + "\n")},
		{"model/requirements.txt", []byte("mlflow==3.11.0\ntorch==2.5.1\ntorchvision==0.20.1\n")},
		{"model/data/model.pth", []byte(strings.Repeat("demo weights ", 64))},
	} {
		if err := files.Put(ctx, root+"/"+f.path, bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	return nil
}

// demoCurvePNG draws a small precision-recall curve ending at the run's
// recall and precision: a picture for the artifact browser's preview.
func demoCurvePNG(recall, precision float64) ([]byte, error) {
	const w, h = 240, 160
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	axis, line := color.RGBA{0x60, 0x60, 0x60, 0xff}, color.RGBA{0x25, 0x63, 0xeb, 0xff}
	for x := 10; x < w-10; x++ {
		img.Set(x, h-10, axis)
	}
	for y := 10; y < h-10; y++ {
		img.Set(10, y, axis)
	}
	// Precision falls from 1 to the run's precision as recall rises to the
	// run's recall, then drops.
	for x := 11; x < w-10; x++ {
		r := float64(x-10) / float64(w-20)
		p := 1 - (1-precision)*math.Pow(r/recall, 3)
		if r > recall {
			p = precision * math.Exp(-12*(r-recall))
		}
		y := h - 10 - int(p*float64(h-20))
		for dy := -1; dy <= 1; dy++ {
			img.Set(x, y+dy, line)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
