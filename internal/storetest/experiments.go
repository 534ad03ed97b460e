package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

func testTrackingExperiments(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "churn BAL-3", "", []tracking.Tag{{Key: "team", Value: "ml"}}))
	_, err := svc.CreateExperiment(ctx, p, "churn BAL-3", "", nil)
	wantCode(t, err, trellis.ECONFLICT)
	_, err = svc.CreateExperiment(ctx, p, string(make([]byte, 501)), "", nil)
	wantCode(t, err, trellis.EINVALID)
	_, err = svc.CreateExperiment(ctx, p, "x", "file:///etc", nil)
	wantCode(t, err, trellis.EINVALID)
	id := fmt.Sprint(e.ID)
	got := must[*tracking.Experiment](t)(svc.Experiment(ctx, p, id))
	if got.Name != "churn BAL-3" || len(got.Tags) != 1 || got.Tags[0].Value != "ml" || got.LifecycleStage != tracking.StageActive {
		t.Fatalf("experiment %+v", got)
	}
	if loc := tracking.ExperimentArtifactLocation(got); loc != "mlflow-artifacts:/"+id {
		t.Fatalf("artifact location %q", loc)
	}
	def := must[*tracking.Experiment](t)(svc.Experiment(ctx, p, "0"))
	if def.Name != tracking.DefaultExperimentName {
		t.Fatalf("experiment 0 is %q", def.Name)
	}
	if again := must[*tracking.Experiment](t)(svc.Experiment(ctx, p, "0")); again.ID != def.ID {
		t.Fatal("experiment 0 created twice")
	}
	_, err = svc.Experiment(ctx, p, "999999")
	wantCode(t, err, trellis.ENOTFOUND)
	_, err = svc.Experiment(ctx, p, "abc")
	wantCode(t, err, trellis.EINVALID)

	if err := svc.SetExperimentTag(ctx, p, id, tracking.Tag{Key: "stage", Value: "dev"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.DeleteExperimentTag(ctx, p, id, "nope"), trellis.ENOTFOUND)
	if err := svc.RenameExperiment(ctx, p, id, "churn v2"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.RenameExperiment(ctx, p, id, tracking.DefaultExperimentName), trellis.ECONFLICT)

	// Search with filter, order and paging.
	for i := range 5 {
		must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, fmt.Sprintf("exp-%d", i), "", nil))
	}
	es, next := searchExperiments(t, ctx, svc, p, tracking.SearchInput{Filter: "name LIKE 'exp-%'", OrderBy: []string{"name DESC"}, MaxResults: 3})
	if len(es) != 3 || es[0].Name != "exp-4" || next == "" {
		t.Fatalf("page 1: %d %v", len(es), next)
	}
	es, next = searchExperiments(t, ctx, svc, p, tracking.SearchInput{Filter: "name LIKE 'exp-%'", OrderBy: []string{"name DESC"}, MaxResults: 3, PageToken: next})
	if len(es) != 2 || es[1].Name != "exp-0" || next != "" {
		t.Fatalf("page 2: %d %q", len(es), next)
	}
	es, _ = searchExperiments(t, ctx, svc, p, tracking.SearchInput{Filter: "tags.stage = 'dev' OR name = 'exp-1'"})
	if len(es) != 2 {
		t.Fatalf("OR search found %d", len(es))
	}
	// Delete hides it and its runs; the name stays taken.
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: id}))
	if err := svc.SetExperimentStage(ctx, p, id, tracking.StageDeleted); err != nil {
		t.Fatal(err)
	}
	if got := must[*tracking.Run](t)(svc.Run(ctx, p, r.Info.ID)); got.Info.LifecycleStage != tracking.StageDeleted {
		t.Fatalf("run of deleted experiment is %s", got.Info.LifecycleStage)
	}
	_, err = svc.CreateExperiment(ctx, p, "churn v2", "", nil)
	wantCode(t, err, trellis.ECONFLICT)
	_, err = svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: id})
	wantCode(t, err, trellis.EINVALID)
	es, _ = searchExperiments(t, ctx, svc, p, tracking.SearchInput{View: tracking.ViewDeleted})
	if len(es) != 1 || es[0].ID != e.ID {
		t.Fatalf("deleted view: %v", es)
	}
	if err := svc.SetExperimentStage(ctx, p, id, tracking.StageActive); err != nil {
		t.Fatal(err)
	}
	_, _, err = svc.SearchExperiments(ctx, p, tracking.SearchInput{Filter: "name = 'a' AND"})
	wantCode(t, err, trellis.EINVALID)
}

func searchExperiments(t *testing.T, ctx context.Context, svc *tracking.Service, p *project.Project, in tracking.SearchInput) ([]*tracking.Experiment, string) {
	t.Helper()
	es, next, err := svc.SearchExperiments(ctx, p, in)
	if err != nil {
		t.Fatal(err)
	}
	return es, next
}
