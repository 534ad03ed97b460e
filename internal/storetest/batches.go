package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
)

func testTrackingConcurrentBatches(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{}))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				ms := make([]tracking.Metric, 200)
				for j := range 100 {
					ms[j] = tracking.Metric{Key: fmt.Sprintf("w%d", w), Value: float64(j), Timestamp: int64(i), Step: int64(i*100 + j)}
					// A series every writer logs the same steps of: its
					// rollup blocks are updated by all at once.
					ms[100+j] = tracking.Metric{Key: "shared", Value: float64(w*1000 + j), Timestamp: int64(i), Step: int64(i*100 + j)}
				}
				// Each writer also re-logs a shared param with the same value.
				if err := svc.LogBatch(ctx, p, r.Info.ID, tracking.Batch{Metrics: ms, Params: []tracking.Param{{Key: "shared", Value: "v"}}}); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for w := range errs {
		ms, _ := history(t, ctx, svc, p, r.Info.ID, fmt.Sprintf("w%d", w), 0, "")
		if len(ms) != 1000 {
			t.Fatalf("writer %d: %d points", w, len(ms))
		}
	}
	for _, n := range []int{1, 10} {
		bs := must[[]tracking.Bucket](t)(svc.ChartSeries(ctx, p, r.Info.ID, "shared", nil, nil, n))
		var count int64
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, b := range bs {
			count, lo, hi = count+b.Count, min(lo, b.Min), max(hi, b.Max)
		}
		if count != 8000 || lo != 0 || hi != 7099 || bs[0].FirstStep != 0 || bs[len(bs)-1].LastStep != 999 {
			t.Fatalf("shared series in %d buckets: %d points from %v to %v, %+v", n, count, lo, hi, bs)
		}
	}
}

// BatchAllOrNothing checks that every write to a run is one transaction,
// whatever it touches: a log-batch's params, tags, points, the rename its
// mlflow.runName tag makes and the item links its name and note mention;
// an update-run's rename and status; a create-run's run and links. It makes
// the last of those writes, the links, fail in the database (a trigger
// planted with raw SQL, hence its own store at dsn, a SQLite path or a
// PostgreSQL URL) and checks that nothing of the failed write is visible;
// then, without the trigger, that all of it is.
func BatchAllOrNothing(t *testing.T, dsn string) {
	db := OpenMigrated(t, dsn)
	ctx, svc, p := trackingFixture(t, db)
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{Name: "plain"}))
	id := r.Info.ID
	failLinks(t, db.Dialect(), dsn, true)

	b := tracking.Batch{
		Params: []tracking.Param{{Key: "lr", Value: "0.1"}},
		Tags:   []tracking.Tag{{Key: tracking.TagRunName, Value: "try BAL-3"}, {Key: tracking.TagNote, Value: "see BAL-4"}, {Key: "team", Value: "x"}},
	}
	for i := range 50 {
		b.Metrics = append(b.Metrics, tracking.Metric{Key: "loss", Value: float64(i), Timestamp: 1, Step: int64(i)})
	}
	if err := svc.LogBatch(ctx, p, id, b); err == nil {
		t.Fatal("log-batch succeeded although its links could not be written")
	}
	wantRun(t, ctx, svc, p, id, "plain", "RUNNING", 0)
	done, name := "FINISHED", "final BAL-5"
	if _, err := svc.UpdateRun(ctx, p, id, tracking.RunUpdate{Name: &name, Status: &done}); err == nil {
		t.Fatal("update-run succeeded although its links could not be written")
	}
	wantRun(t, ctx, svc, p, id, "plain", "RUNNING", 0)
	if _, err := svc.CreateRun(ctx, p, tracking.NewRun{Name: "new BAL-6"}); err == nil {
		t.Fatal("create-run succeeded although its links could not be written")
	}
	runs, _, err := svc.SearchRuns(ctx, p, tracking.SearchRunsInput{ExperimentIDs: []string{fmt.Sprint(r.Info.ExperimentID)}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("%d runs after a failed create-run (%v), want 1", len(runs), err)
	}

	failLinks(t, db.Dialect(), dsn, false)
	if err := svc.LogBatch(ctx, p, id, b); err != nil {
		t.Fatal(err)
	}
	wantRun(t, ctx, svc, p, id, "try BAL-3", "RUNNING", 50, "BAL-3", "BAL-4")
	if _, err := svc.UpdateRun(ctx, p, id, tracking.RunUpdate{Name: &name, Status: &done}); err != nil {
		t.Fatal(err)
	}
	wantRun(t, ctx, svc, p, id, name, done, 50, "BAL-3", "BAL-4", "BAL-5")
}

// wantRun checks a run's name (and mlflow.runName tag), status, number of
// loss points and item links; with no points it also wants no params and
// no tags but the name.
func wantRun(t *testing.T, ctx context.Context, svc *tracking.Service, p *project.Project, id, name, status string, points int, links ...string) {
	t.Helper()
	r := must[*tracking.Run](t)(svc.Run(ctx, p, id))
	if r.Info.Name != name || r.Info.Status != status {
		t.Errorf("run is %q %s, want %q %s", r.Info.Name, r.Info.Status, name, status)
	}
	if !hasTag(r.Tags, tracking.TagRunName, name) {
		t.Errorf("tags %v, want %s=%q", r.Tags, tracking.TagRunName, name)
	}
	if ms, _ := history(t, ctx, svc, p, id, "loss", 0, ""); len(ms) != points {
		t.Errorf("%d loss points, want %d", len(ms), points)
	}
	if points == 0 && (len(r.Params) != 0 || len(r.Tags) != 1 || len(r.Metrics) != 0) {
		t.Errorf("a failed write left params %v, tags %v, metrics %v", r.Params, r.Tags, r.Metrics)
	}
	var got []string
	for _, l := range must[[]tracking.ItemLink](t)(svc.RunItems(ctx, p, id)) {
		got = append(got, l.ItemKey)
	}
	if fmt.Sprint(got) != fmt.Sprint(links) {
		t.Errorf("links %v, want %v", got, links)
	}
}

func hasTag(tags []tracking.Tag, key, value string) bool {
	for _, tg := range tags {
		if tg.Key == key && tg.Value == value {
			return true
		}
	}
	return false
}

// failLinks plants (or removes) a trigger that makes every insert into
// tracking_run_items fail, on the database at dsn.
func failLinks(t *testing.T, d store.Dialect, dsn string, on bool) {
	t.Helper()
	driver, stmts := "sqlite", []string{`CREATE TRIGGER fail_links BEFORE INSERT ON tracking_run_items BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
	if !on {
		stmts = []string{`DROP TRIGGER fail_links`}
	}
	if d == store.Postgres {
		driver, stmts = "pgx", []string{`CREATE FUNCTION fail_links() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			`CREATE TRIGGER fail_links BEFORE INSERT ON tracking_run_items FOR EACH ROW EXECUTE FUNCTION fail_links()`}
		if !on {
			stmts = []string{`DROP TRIGGER fail_links ON tracking_run_items`, `DROP FUNCTION fail_links()`}
		}
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}
