package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// testTrackingSearchDatasets filters runs by their dataset inputs with
// MLflow's semantics: a condition holds when one of the run's inputs
// satisfies it, so a run without inputs matches none, "!=" and NOT IN
// match a run having some other dataset too, and context compares the
// input's mlflow.data.context tag, which an input may lack.
func testTrackingSearchDatasets(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "datasets", "", nil))
	eid := fmt.Sprint(e.ID)
	ds := func(name, digest string) tracking.Dataset {
		return tracking.Dataset{Name: name, Digest: digest, SourceType: "local", Source: "{}"}
	}
	in := func(d tracking.Dataset, context string) tracking.DatasetInput {
		if context == "" {
			return tracking.DatasetInput{Dataset: d}
		}
		return tracking.DatasetInput{Dataset: d, Tags: []tracking.Tag{{Key: tracking.TagDataContext, Value: context}}}
	}
	train, eval, big, raw := ds("train", "d1"), ds("eval", "d2"), ds("Train-big", "d3"), ds("raw", "d4")
	runs := []struct {
		name   string
		inputs []tracking.DatasetInput
	}{
		{"a", []tracking.DatasetInput{in(train, "training"), in(eval, "evaluation")}},
		{"b", []tracking.DatasetInput{in(train, "training")}},
		{"c", []tracking.DatasetInput{in(eval, ""), in(big, "Training")}},
		{"d", nil},
		{"e", []tracking.DatasetInput{in(eval, "evaluation")}},
		{"f", []tracking.DatasetInput{in(raw, "")}},
	}
	for i, r := range runs {
		run := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid, Name: r.name, StartTime: int64(1000 + i)}))
		if r.inputs != nil {
			if err := svc.LogInputs(ctx, p, run.Info.ID, r.inputs); err != nil {
				t.Fatal(err)
			}
		}
		if r.name == "e" {
			if err := svc.LogBatch(ctx, p, run.Info.ID, tracking.Batch{Params: []tracking.Param{{Key: "p", Value: "x"}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A run of another experiment with the same dataset stays out.
	other := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "other", "", nil))
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: fmt.Sprint(other.ID), Name: "z"}))
	if err := svc.LogInputs(ctx, p, r.Info.ID, []tracking.DatasetInput{in(train, "training")}); err != nil {
		t.Fatal(err)
	}
	search := func(filter string, order ...string) ([]string, error) {
		rs, _, err := svc.SearchRuns(ctx, p, tracking.SearchRunsInput{ExperimentIDs: []string{eid}, SearchInput: tracking.SearchInput{Filter: filter, OrderBy: order}})
		var ns []string
		for _, r := range rs {
			ns = append(ns, r.Info.Name)
		}
		slices.Sort(ns)
		return ns, err
	}
	tests := []struct{ filter, want string }{
		{"datasets.name = 'train'", "[a b]"},
		{"dataset.name IN ('train', 'eval')", "[a b c e]"},
		{"datasets.name != 'train'", "[a c e f]"},
		{"datasets.name NOT IN ('train')", "[a c e f]"},
		{"datasets.name NOT IN ('train', 'eval')", "[c f]"},
		{"datasets.digest = 'd2'", "[a c e]"},
		{"datasets.digest IN ('d3', 'd4')", "[c f]"},
		{"datasets.name LIKE 'tr%'", "[a b]"},
		{"datasets.name ILIKE 'tr%'", "[a b c]"},
		{"datasets.name LIKE '_aw'", "[f]"},
		{"datasets.context = 'training'", "[a b]"},
		{"datasets.context != 'training'", "[a c e]"},
		{"datasets.context NOT IN ('training', 'evaluation')", "[c]"},
		{"datasets.context LIKE 'Train%'", "[c]"},
		{"datasets.context ILIKE 'train%'", "[a b c]"},
		{"datasets.context IN ('x', 'y')", "[]"},
		{"datasets.context != 'nothing'", "[a b c e]"},
		// Each condition looks for its own input: a has a train input and
		// an evaluation input, though not a train input for evaluation.
		{"datasets.name = 'train' AND datasets.context = 'evaluation'", "[a]"},
		{"datasets.name = 'train' AND datasets.name = 'eval'", "[a]"},
		{"datasets.name = 'train' OR params.p = 'x'", "[a b e]"},
		{"(datasets.digest = 'd3' OR datasets.name = 'train') AND datasets.context != 'training'", "[a c]"},
		{"datasets.name = 'eval' AND run_name != 'a'", "[c e]"},
		{"datasets.name = 'x'' OR 1=1 --'", "[]"},
	}
	for _, tt := range tests {
		got, err := search(tt.filter)
		if err != nil {
			t.Errorf("%q: %v", tt.filter, err)
			continue
		}
		if fmt.Sprint(got) != tt.want {
			t.Errorf("%q: got %v, want %s", tt.filter, got, tt.want)
		}
	}
	for _, bad := range []string{"datasets.source = 'x'", "datasets.name > 'a'", "datasets.digest = 1", "datasets.context IS NULL"} {
		_, err := search(bad)
		wantCode(t, err, trellis.EINVALID)
	}
	_, err := search("", "datasets.name")
	wantCode(t, err, trellis.EINVALID)
	_, _, err = svc.SearchExperiments(ctx, p, tracking.SearchInput{Filter: "datasets.name = 'train'"})
	wantCode(t, err, trellis.EINVALID)
}

// testTrackingInputs logs dataset inputs as MLflow's log-inputs does and
// reads them back through runs/get and runs/search: a dataset is kept once
// per experiment, an input once per run with the tags it was first logged
// with, and a bad input writes nothing.
func testTrackingInputs(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "inputs", "", nil))
	eid := fmt.Sprint(e.ID)
	r1 := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid}))
	r2 := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid}))
	schema := `{"mlflow_colspec":[{"name":"x","type":"double"}]}`
	train := tracking.Dataset{Name: "balloons", Digest: "abc", SourceType: "local", Source: `{"uri":"train.csv"}`, Schema: &schema}
	val := tracking.Dataset{Name: "balloons-val", Digest: "def", SourceType: "http", Source: "{}"}
	ctxTag := func(v string) []tracking.Tag { return []tracking.Tag{{Key: tracking.TagDataContext, Value: v}} }
	if err := svc.LogInputs(ctx, p, r1.Info.ID, []tracking.DatasetInput{{Dataset: train, Tags: ctxTag("train")}, {Dataset: train, Tags: ctxTag("dup")}, {Dataset: val}}); err != nil {
		t.Fatal(err)
	}
	// Logged again with other tags and fields: the run keeps what it had.
	other := train
	other.Source = "changed"
	if err := svc.LogInputs(ctx, p, r1.Info.ID, []tracking.DatasetInput{{Dataset: other, Tags: ctxTag("eval")}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.LogInputs(ctx, p, r2.Info.ID, []tracking.DatasetInput{{Dataset: other, Tags: ctxTag("test")}}); err != nil {
		t.Fatal(err)
	}
	got := must[*tracking.Run](t)(svc.Run(ctx, p, r1.Info.ID))
	if len(got.Inputs) != 2 {
		t.Fatalf("run 1 inputs: %+v", got.Inputs)
	}
	in := got.Inputs[0]
	if in.Dataset.Name != "balloons" || in.Dataset.Source != `{"uri":"train.csv"}` || in.Dataset.Schema == nil || *in.Dataset.Schema != schema ||
		in.Dataset.Profile != nil || len(in.Tags) != 1 || in.Tags[0].Value != "train" {
		t.Fatalf("first input: %+v %v", in, in.Tags)
	}
	if v := got.Inputs[1]; v.Dataset.Name != "balloons-val" || v.Dataset.Schema != nil || len(v.Tags) != 0 {
		t.Fatalf("second input: %+v", v)
	}
	rs, _, err := svc.SearchRuns(ctx, p, tracking.SearchRunsInput{ExperimentIDs: []string{eid}})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*tracking.Run{}
	for _, r := range rs {
		byID[r.Info.ID] = r
	}
	if r := byID[r2.Info.ID]; r == nil || len(r.Inputs) != 1 || r.Inputs[0].Dataset.Source != `{"uri":"train.csv"}` || r.Inputs[0].Tags[0].Value != "test" {
		t.Fatalf("run 2 in search: %+v", r)
	}
	if r := byID[r1.Info.ID]; r == nil || len(r.Inputs) != 2 {
		t.Fatalf("run 1 in search: %+v", r)
	}
	// Limits, checked before anything is written.
	long := string(make([]byte, 37))
	wantCode(t, svc.LogInputs(ctx, p, r2.Info.ID, []tracking.DatasetInput{{Dataset: val}, {Dataset: tracking.Dataset{Name: "x", Digest: long, SourceType: "s", Source: "s"}}}), trellis.EINVALID)
	wantCode(t, svc.LogInputs(ctx, p, r2.Info.ID, []tracking.DatasetInput{{Dataset: tracking.Dataset{Name: "x", Digest: "d"}, Tags: []tracking.Tag{{Key: "k", Value: string(make([]byte, 501))}}}}), trellis.EINVALID)
	wantCode(t, svc.LogInputs(ctx, p, r2.Info.ID, []tracking.DatasetInput{{Dataset: tracking.Dataset{Digest: "d"}}}), trellis.EINVALID)
	if r := must[*tracking.Run](t)(svc.Run(ctx, p, r2.Info.ID)); len(r.Inputs) != 1 {
		t.Fatalf("a rejected request wrote inputs: %+v", r.Inputs)
	}
	wantCode(t, svc.LogInputs(ctx, p, "0123456789abcdef0123456789abcdef", []tracking.DatasetInput{{Dataset: val}}), trellis.ENOTFOUND)
	// A deleted run takes no inputs.
	if err := svc.SetRunStage(ctx, p, r2.Info.ID, tracking.StageDeleted); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.LogInputs(ctx, p, r2.Info.ID, []tracking.DatasetInput{{Dataset: val}}), trellis.EINVALID)
}
