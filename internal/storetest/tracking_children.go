package storetest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
)

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
