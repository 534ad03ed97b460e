package storetest

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// trackingFixture makes a user and a project and returns the tracking
// service acting as that user.
func trackingFixture(t *testing.T, db *store.DB) (context.Context, *tracking.Service, *project.Project) {
	t.Helper()
	ctx := context.Background()
	as := auth.NewService(db, FastHash)
	ps := project.NewService(db, as)
	ada := must[*auth.User](t)(as.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw}))
	ctx = As(ctx, ada)
	p := must[*project.Project](t)(ps.CreateProject(ctx, project.NewProject{Key: "BAL", Name: "Balloons"}))
	return ctx, tracking.NewService(db), p
}

func testTrackingRuns(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "exp", "", nil))
	eid := fmt.Sprint(e.ID)
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid, StartTime: 1000,
		Tags: []tracking.Tag{{Key: tracking.TagRunName, Value: "try BAL-7"}, {Key: tracking.TagNote, Value: "fixes BAL-9 and GPT-4"}}}))
	if len(r.Info.ID) != 32 || r.Info.Name != "try BAL-7" || r.Info.UserID != "ada" || r.Info.Status != "RUNNING" {
		t.Fatalf("run info %+v", r.Info)
	}
	if want := "mlflow-artifacts:/" + eid + "/" + r.Info.ID + "/artifacts"; r.Info.ArtifactURI != want {
		t.Fatalf("artifact uri %q", r.Info.ArtifactURI)
	}
	id := r.Info.ID
	inf := math.Inf(1)
	b := tracking.Batch{
		Params:  []tracking.Param{{Key: "lr", Value: "0.1"}, {Key: "depth", Value: "3"}},
		Tags:    []tracking.Tag{{Key: "team", Value: "ml"}},
		Metrics: []tracking.Metric{{Key: "loss", Value: 0.5, Timestamp: 10, Step: 1}, {Key: "loss", Value: 0.3, Timestamp: 20, Step: 2}, {Key: "loss", Value: 0.9, Timestamp: 5, Step: 0}, {Key: "nan", Value: math.NaN(), Timestamp: 1, Step: 0}, {Key: "inf", Value: inf, Timestamp: 1, Step: 0}, {Key: "ninf", Value: -inf, Timestamp: 1, Step: 0}},
	}
	if err := svc.LogBatch(ctx, p, id, b); err != nil {
		t.Fatal(err)
	}
	// Same value again is a no-op; a different value refuses the whole batch.
	if err := svc.LogBatch(ctx, p, id, tracking.Batch{Params: []tracking.Param{{Key: "lr", Value: "0.1"}}}); err != nil {
		t.Fatal(err)
	}
	err := svc.LogBatch(ctx, p, id, tracking.Batch{Params: []tracking.Param{{Key: "new", Value: "x"}, {Key: "lr", Value: "0.2"}}, Metrics: []tracking.Metric{{Key: "loss", Value: 0, Timestamp: 99, Step: 99}}, Tags: []tracking.Tag{{Key: "team", Value: "changed"}}})
	wantCode(t, err, trellis.EINVALID)
	got := must[*tracking.Run](t)(svc.Run(ctx, p, id))
	if len(got.Params) != 2 || tagOf(got.Tags, "team") != "ml" {
		t.Fatalf("refused batch left writes: params %v tags %v", got.Params, got.Tags)
	}
	latest := map[string]tracking.Metric{}
	for _, m := range got.Metrics {
		latest[m.Key] = m
	}
	if m := latest["loss"]; m.Value != 0.3 || m.Step != 2 {
		t.Fatalf("latest loss %+v", m)
	}
	if !math.IsNaN(latest["nan"].Value) || !math.IsInf(latest["inf"].Value, 1) || !math.IsInf(latest["ninf"].Value, -1) {
		t.Fatalf("special values: %+v", got.Metrics)
	}
	hist, _ := history(t, ctx, svc, p, id, "loss", 0, "")
	if len(hist) != 3 || hist[0].Step != 0 || hist[2].Value != 0.3 {
		t.Fatalf("history %+v", hist)
	}
	// Limits.
	big := tracking.Batch{Metrics: make([]tracking.Metric, 1001)}
	for i := range big.Metrics {
		big.Metrics[i] = tracking.Metric{Key: "m", Value: 1}
	}
	wantCode(t, svc.LogBatch(ctx, p, id, big), trellis.EINVALID)
	for _, bad := range []tracking.Batch{
		{Params: []tracking.Param{{Key: "../x", Value: "1"}}},
		{Params: []tracking.Param{{Key: "x", Value: string(make([]byte, 6001))}}},
		{Tags: []tracking.Tag{{Key: "t", Value: string(make([]byte, 8001))}}},
		{Params: []tracking.Param{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}}},
		{Metrics: []tracking.Metric{{Key: string(make([]byte, 251))}}},
	} {
		wantCode(t, svc.LogBatch(ctx, p, id, bad), trellis.EINVALID)
	}
	// Run name via tag, update, links.
	if err := svc.LogBatch(ctx, p, id, tracking.Batch{Tags: []tracking.Tag{{Key: tracking.TagRunName, Value: "renamed"}, {Key: tracking.TagItem, Value: "BAL-12"}}}); err != nil {
		t.Fatal(err)
	}
	status, end := "FINISHED", int64(5000)
	info := must[*tracking.RunInfo](t)(svc.UpdateRun(ctx, p, id, tracking.RunUpdate{Status: &status, EndTime: &end}))
	if info.Name != "renamed" || info.Status != "FINISHED" || *info.EndTime != 5000 {
		t.Fatalf("updated %+v", info)
	}
	links := must[[]tracking.ItemLink](t)(svc.RunItems(ctx, p, id))
	if len(links) != 3 || links[0].ItemKey != "BAL-7" || links[1].ItemKey != "BAL-9" || links[2].ItemKey != "BAL-12" {
		t.Fatalf("links %+v", links)
	}
	must[*tracking.ItemLink](t)(svc.LinkItem(ctx, p, id, "BAL-100"))
	// The links of a page of runs in one call; unknown runs map to nothing.
	byRun := must[map[string][]string](t)(svc.RunsItems(ctx, p, []string{id, "0123456789abcdef0123456789abcdef"}))
	if len(byRun) != 1 || strings.Join(byRun[id], ",") != "BAL-7,BAL-9,BAL-12,BAL-100" {
		t.Fatalf("runs items %v", byRun)
	}
	_, err = svc.LinkItem(ctx, p, id, "CAT-1")
	wantCode(t, err, trellis.EINVALID)
	if rs := must[[]tracking.ItemLink](t)(svc.ItemRuns(ctx, p, "BAL-100")); len(rs) != 1 || rs[0].RunID != id || rs[0].Source != "manual" {
		t.Fatalf("item runs %+v", rs)
	}
	if err := svc.UnlinkItem(ctx, p, id, "BAL-100"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.UnlinkItem(ctx, p, id, "BAL-100"), trellis.ENOTFOUND)
	// Delete, restore, writes to deleted runs refused.
	if err := svc.SetRunStage(ctx, p, id, tracking.StageDeleted); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.LogBatch(ctx, p, id, tracking.Batch{Tags: []tracking.Tag{{Key: "a", Value: "b"}}}), trellis.EINVALID)
	if err := svc.SetRunStage(ctx, p, id, tracking.StageActive); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.DeleteRunTag(ctx, p, id, "nope"), trellis.ENOTFOUND)
	if err := svc.DeleteRunTag(ctx, p, id, "team"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Run(ctx, p, "0123456789abcdef0123456789abcdef")
	wantCode(t, err, trellis.ENOTFOUND)
}

func tagOf(tags []tracking.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// testTrackingArtifactLocation checks the operator's rule for a
// client-chosen artifact_location: denied by default, allowed under an
// allowed prefix (on a path boundary) and then kept and returned.
func testTrackingArtifactLocation(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	_, err := svc.CreateExperiment(ctx, p, "denied", "s3://team/mlflow/x", nil)
	wantCode(t, err, trellis.EINVALID)
	svc.AllowArtifactLocations([]string{"s3://team/mlflow", "file:///mnt/shared/"})
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "allowed", "s3://team/mlflow/churn", nil))
	got := must[*tracking.Experiment](t)(svc.Experiment(ctx, p, fmt.Sprint(e.ID)))
	if tracking.ExperimentArtifactLocation(got) != "s3://team/mlflow/churn" {
		t.Fatalf("artifact location %q", got.ArtifactLocation)
	}
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: fmt.Sprint(e.ID)}))
	if r.Info.ArtifactURI != "s3://team/mlflow/churn/"+r.Info.ID+"/artifacts" {
		t.Fatalf("run artifact uri %q", r.Info.ArtifactURI)
	}
	must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "shared", "file:///mnt/shared/churn", nil))
	// Schemes are case-insensitive (RFC 3986), as clients resolve them.
	must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "upper", "S3://team/mlflow/x", nil))
	for _, bad := range []string{"s3://team/mlflow-other", "s3://team/mlflow/../secrets", "s3://other/mlflow/x", "file:///mnt/sharedx",
		"mlflow-artifacts:/1", "runs:/abc/x", "/mnt/shared/x", "file:///mnt/shared/%2e%2e/etc", "file:///mnt/shared/a%2f..%2f..%2fetc"} {
		_, err := svc.CreateExperiment(ctx, p, "bad "+fmt.Sprint(len(bad)), bad, nil)
		wantCode(t, err, trellis.EINVALID)
	}
}

// testTrackingChildRuns finds a run's nested runs by their parent tag:
// newest first, bounded, only active runs of the parent's experiment, and
// none for a run without children.
func testTrackingChildRuns(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	exp := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "sweep", "", nil))
	other := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "other", "", nil))
	eid, oid := strconv.FormatInt(exp.ID, 10), strconv.FormatInt(other.ID, 10)
	parent := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid, Name: "parent", StartTime: 1000}))
	child := func(exp, name string, start int64) *tracking.Run {
		t.Helper()
		return must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: exp, Name: name, StartTime: start,
			Tags: []tracking.Tag{{Key: tracking.TagParentRun, Value: parent.Info.ID}}}))
	}
	c1, c2, c3 := child(eid, "c1", 2000), child(eid, "c2", 4000), child(eid, "c3", 3000)
	child(oid, "elsewhere", 5000)
	gone := child(eid, "deleted", 6000)
	if err := svc.SetRunStage(ctx, p, gone.Info.ID, tracking.StageDeleted); err != nil {
		t.Fatal(err)
	}
	// Unrelated runs with the tag key but another value.
	for i := range 5 {
		must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid, StartTime: int64(7000 + i),
			Tags: []tracking.Tag{{Key: tracking.TagParentRun, Value: c1.Info.ID}}}))
	}
	names := func(rs []*tracking.Run) string {
		var ns []string
		for _, r := range rs {
			ns = append(ns, r.Info.Name)
		}
		return strings.Join(ns, ",")
	}
	got := must[[]*tracking.Run](t)(svc.ChildRuns(ctx, p, parent, 100))
	if names(got) != "c2,c3,c1" || got[0].Info.ID != c2.Info.ID || got[1].Info.ID != c3.Info.ID {
		t.Errorf("children = %s, want c2,c3,c1", names(got))
	}
	// The deleted child does not take a place of the limit.
	if got := must[[]*tracking.Run](t)(svc.ChildRuns(ctx, p, parent, 2)); names(got) != "c2,c3" {
		t.Errorf("limit 2 gave %s, want c2,c3", names(got))
	}
	if got := must[[]*tracking.Run](t)(svc.ChildRuns(ctx, p, c2, 100)); len(got) != 0 {
		t.Errorf("a run without children has %s", names(got))
	}
	if got := must[[]*tracking.Run](t)(svc.ChildRuns(ctx, p, c1, 100)); len(got) != 5 {
		t.Errorf("c1 has %d children, want 5", len(got))
	}
}
