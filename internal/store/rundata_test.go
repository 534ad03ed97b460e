package store_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/tracking"
)

// TestRunDataCacheAcrossHandles searches through one store handle, which
// keeps the runs' data in its cache, while a second handle on the same
// database (another server process) changes the data by every write path
// that can: each change must show in the first handle's next search, and a
// rejected batch must change nothing.
func TestRunDataCacheAcrossHandles(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "trellis.db")
		testRunDataCache(t, openMigrated(t, path), openMigrated(t, path))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		testRunDataCache(t, openMigrated(t, dsn), openMigrated(t, dsn))
	})
}

func testRunDataCache(t *testing.T, dbA, dbB *store.DB) {
	ctx, svcA, p := benchFixture(t, dbA)
	svcB := tracking.NewService(dbB)
	e, err := svcA.CreateExperiment(ctx, p, "cache", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	eid := fmt.Sprint(e.ID)
	r, err := svcA.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid, Name: "first"})
	if err != nil {
		t.Fatal(err)
	}
	id := r.Info.ID
	if err := svcA.LogBatch(ctx, p, id, tracking.Batch{Params: []tracking.Param{{Key: "lr", Value: "0.1"}},
		Tags: []tracking.Tag{{Key: "team", Value: "a"}}, Metrics: []tracking.Metric{{Key: "loss", Value: 1, Timestamp: 1}}}); err != nil {
		t.Fatal(err)
	}
	search := func() string {
		t.Helper()
		rs, _, err := svcA.SearchRuns(ctx, p, tracking.SearchRunsInput{ExperimentIDs: []string{eid}})
		if err != nil || len(rs) != 1 {
			t.Fatalf("search: %d runs, %v", len(rs), err)
		}
		var b strings.Builder
		for _, q := range rs[0].Params {
			fmt.Fprintf(&b, "param %s=%s; ", q.Key, q.Value)
		}
		for _, g := range rs[0].Tags {
			fmt.Fprintf(&b, "tag %s=%s; ", g.Key, g.Value)
		}
		for _, m := range rs[0].Metrics {
			fmt.Fprintf(&b, "metric %s=%g@%d; ", m.Key, m.Value, m.Step)
		}
		// A caller changing what it got must not change the cache.
		for i := range rs[0].Params {
			rs[0].Params[i].Value = "scribbled"
		}
		rs[0].Tags = append(rs[0].Tags[:0], tracking.Tag{Key: "scribbled"})
		return b.String()
	}
	want := func(step string, must ...string) {
		t.Helper()
		for range 2 { // the second search is served from the cache
			got := search()
			for _, m := range must {
				if strings.HasPrefix(m, "!") {
					if strings.Contains(got, m[1:]) {
						t.Fatalf("after %s: search shows %q: %s", step, m[1:], got)
					}
				} else if !strings.Contains(got, m) {
					t.Fatalf("after %s: search lacks %q: %s", step, m, got)
				}
			}
		}
	}
	want("the first batch", "param lr=0.1", "tag team=a", "metric loss=1@0", "tag mlflow.runName=first")

	if err := svcB.LogBatch(ctx, p, id, tracking.Batch{Metrics: []tracking.Metric{{Key: "loss", Value: 0.5, Timestamp: 2, Step: 1}}}); err != nil {
		t.Fatal(err)
	}
	want("a metric", "metric loss=0.5@1", "!loss=1@")
	if err := svcB.LogBatch(ctx, p, id, tracking.Batch{Params: []tracking.Param{{Key: "depth", Value: "4"}}, Tags: []tracking.Tag{{Key: "team", Value: "b"}}}); err != nil {
		t.Fatal(err)
	}
	want("a param and a tag", "param depth=4", "tag team=b", "!team=a")
	err = svcB.LogBatch(ctx, p, id, tracking.Batch{Params: []tracking.Param{{Key: "lr", Value: "0.2"}}, Tags: []tracking.Tag{{Key: "team", Value: "c"}}})
	if err == nil {
		t.Fatal("a changed param value was accepted")
	}
	want("a rejected batch", "param lr=0.1", "tag team=b")
	if err := svcB.DeleteRunTag(ctx, p, id, "team"); err != nil {
		t.Fatal(err)
	}
	want("a deleted tag", "!tag team=")
	name := "renamed"
	if _, err := svcB.UpdateRun(ctx, p, id, tracking.RunUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	want("a rename", "tag mlflow.runName=renamed")
}

// TestLatestMetricExperimentBackfill logs runs in two experiments, undoes
// migration 00018 (the series rows lose their experiment) and applies it
// again: the backfill must give every series its run's experiment, or a
// search ordered by a metric, which filters on it, loses runs.
func TestLatestMetricExperimentBackfill(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testLatestMetricBackfill(t, OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { testLatestMetricBackfill(t, OpenPostgres(t)) })
}

func testLatestMetricBackfill(t *testing.T, db *store.DB) {
	ctx, svc, p := benchFixture(t, db)
	var eids []string
	for _, name := range []string{"a", "b"} {
		e, err := svc.CreateExperiment(ctx, p, name, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		eid := fmt.Sprint(e.ID)
		eids = append(eids, eid)
		for i := range 5 {
			r, err := svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.LogBatch(ctx, p, r.Info.ID, tracking.Batch{Metrics: []tracking.Metric{{Key: "acc", Value: float64(i), Timestamp: 1}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	search := func(ids ...string) int {
		t.Helper()
		rs, _, err := svc.SearchRuns(ctx, p, tracking.SearchRunsInput{ExperimentIDs: ids,
			SearchInput: tracking.SearchInput{Filter: "metrics.acc >= 1", OrderBy: []string{"metrics.acc DESC"}}})
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	if n := search(eids[0]); n != 4 {
		t.Fatalf("before: %d runs, want 4", n)
	}
	if err := db.MigrateDownTo(ctx, 17); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n, m, both := search(eids[0]), search(eids[1]), search(eids...); n != 4 || m != 4 || both != 8 {
		t.Fatalf("after the backfill: %d, %d and %d runs, want 4, 4 and 8", n, m, both)
	}
}
