package store_test

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/tracking"
)

// rawBackends open a migrated store together with a plain connection to
// the same database, for tests that check the tables underneath.
var rawBackends = []struct {
	name string
	open func(testing.TB) (*store.DB, *sql.DB)
}{
	{"sqlite", func(tb testing.TB) (*store.DB, *sql.DB) {
		path := filepath.Join(tb.TempDir(), "trellis.db")
		db := openMigrated(tb, path)
		return db, openRaw(tb, "sqlite", "file:"+path+"?_pragma=foreign_keys(ON)&_pragma=busy_timeout(10000)")
	}},
	{"postgres", func(tb testing.TB) (*store.DB, *sql.DB) {
		dsn := storetest.PostgresDSN(tb)
		db := openMigrated(tb, dsn)
		return db, openRaw(tb, "pgx", dsn)
	}},
}

// TestMetricBlocksMatchPoints logs random series (steps out of order,
// re-logged, negative and sparse; NaN and both infinities among the values)
// and compares chart buckets read from the rollup blocks with the grouped
// scan of the points over the same boundaries: whole views, zooms with ends
// inside blocks, every bucket count. Then it rebuilds the blocks with the
// migration's backfill and compares again, and deletes a run to check that
// its blocks go with it. On SQLite and PostgreSQL.
func TestMetricBlocksMatchPoints(t *testing.T) {
	// The slowest tests of the package (randomized, long under -race):
	// in parallel with each other they use both cores of a small machine.
	t.Parallel()
	for _, backend := range rawBackends {
		t.Run(backend.name, func(t *testing.T) {
			db, raw := backend.open(t)
			ctx, svc, p := benchFixture(t, db)
			rng := rand.New(rand.NewPCG(3, 5))
			run, err := svc.CreateRun(ctx, p, tracking.NewRun{})
			if err != nil {
				t.Fatal(err)
			}
			value := func() float64 {
				switch n := rng.IntN(1000); {
				case n < 5:
					return math.NaN()
				case n < 7:
					return math.Inf(1)
				case n < 9:
					return math.Inf(-1)
				}
				return rng.NormFloat64() * 100
			}
			// "big" spans 100,000 steps, so every level serves some
			// request; its batches come in shuffled order with shuffled
			// points, some steps logged twice.
			var pending []tracking.Metric
			bigChunks, draws, counts := 100, 3, []int{1, 2, 5, 37, 1000, 4000}
			if raceEnabled {
				// Still past 65,536 steps, so one bucket takes the coarsest level.
				bigChunks, draws, counts = 67, 1, []int{1, 37, 4000}
			}
			chunks := rng.Perm(bigChunks)
			for _, c := range chunks {
				for _, j := range rng.Perm(1000) {
					s := int64(c*1000 + j)
					pending = append(pending, tracking.Metric{Key: "big", Value: value(), Step: s})
					if rng.IntN(50) == 0 {
						pending = append(pending, tracking.Metric{Key: "big", Value: value(), Step: s})
					}
				}
			}
			for range 20000 / (1 + 4*btoi(raceEnabled)) {
				pending = append(pending, tracking.Metric{Key: "neg", Value: value(), Step: int64(rng.IntN(6001) - 3000)})
			}
			for range 3000 {
				pending = append(pending, tracking.Metric{Key: "sparse", Value: value(), Step: rng.Int64N(2e12) - 1e12})
			}
			for s := range int64(600) {
				v := []float64{math.Inf(1), math.Inf(-1), math.NaN(), 1, -2}[rng.IntN(5)]
				pending = append(pending, tracking.Metric{Key: "inf", Value: v, Step: s * 7})
			}
			// Keys interleave within batches of random sizes.
			var bigs, others []tracking.Metric
			for _, m := range pending {
				if m.Key == "big" {
					bigs = append(bigs, m)
				} else {
					others = append(others, m)
				}
			}
			rng.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
			for len(bigs)+len(others) > 0 {
				var batch []tracking.Metric
				n := 1 + rng.IntN(1000)
				for range n {
					if len(others) > 0 && (len(bigs) == 0 || rng.IntN(4) == 0) {
						batch, others = append(batch, others[0]), others[1:]
					} else if len(bigs) > 0 {
						batch, bigs = append(batch, bigs[0]), bigs[1:]
					}
				}
				if err := svc.LogBatch(ctx, p, run.Info.ID, tracking.Batch{Metrics: batch}); err != nil {
					t.Fatal(err)
				}
			}
			series := map[string][2]int64{"big": {0, int64(bigChunks)*1000 - 1}, "neg": {-3000, 3000}, "sparse": {-1e12, 1e12}, "inf": {0, 600 * 7}}
			compare := func(stage string) {
				t.Helper()
				for key, span := range series {
					for _, n := range counts {
						qs := []tracking.BucketQuery{{RunID: run.Info.ID, Key: key, Buckets: n}}
						for range draws {
							a := span[0] + rng.Int64N(span[1]-span[0]+1)
							b := a + rng.Int64N(span[1]-a+1) + rng.Int64N(3) - 1
							if rng.IntN(3) == 0 {
								a -= 1000
							}
							qs = append(qs, tracking.BucketQuery{RunID: run.Info.ID, Key: key, Buckets: n, StartStep: &a, EndStep: &b})
							end := b
							qs = append(qs, tracking.BucketQuery{RunID: run.Info.ID, Key: key, Buckets: n, EndStep: &end})
						}
						for _, q := range qs {
							got, err := db.FindMetricBuckets(ctx, q)
							if err != nil {
								t.Fatal(err)
							}
							want, err := db.FindMetricBucketsFromPoints(ctx, q)
							if err != nil {
								t.Fatal(err)
							}
							if msg := diffBuckets(got, want); msg != "" {
								t.Fatalf("%s: %s in %d buckets from %v to %v: %s", stage, key, n, deref(q.StartStep), deref(q.EndStep), msg)
							}
						}
					}
				}
			}
			compare("logged")

			// The migration's backfill builds the same blocks. It reads
			// tracking_metrics, which 00016 replaced by chunks: undo that
			// first (which checks the way down and up of 00016 too).
			var before int
			if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM tracking_metric_blocks`).Scan(&before); err != nil {
				t.Fatal(err)
			}
			if err := db.MigrateDownTo(ctx, 15); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{`DROP TABLE tracking_metric_blocks`, `DELETE FROM goose_db_version WHERE version_id = 14`} {
				if _, err := raw.ExecContext(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var after int
			if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM tracking_metric_blocks`).Scan(&after); err != nil {
				t.Fatal(err)
			}
			if before == 0 || after != before {
				t.Fatalf("%d blocks logged, %d backfilled", before, after)
			}
			compare("backfilled")

			// Points go only with their run (or series): so do the blocks.
			if _, err := raw.ExecContext(ctx, `DELETE FROM tracking_runs WHERE id = $1`, run.Info.ID); err != nil {
				t.Fatal(err)
			}
			if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM tracking_metric_blocks`).Scan(&after); err != nil || after != 0 {
				t.Fatalf("%d blocks left after their run was deleted (%v)", after, err)
			}
		})
	}
}

func openRaw(tb testing.TB, driver, dsn string) *sql.DB {
	tb.Helper()
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

func deref(p *int64) any {
	if p == nil {
		return "-"
	}
	return *p
}

// diffBuckets describes how two bucket lists differ: steps, extremes and
// counts exactly, means up to the rounding of a different summation order.
func diffBuckets(got, want []tracking.Bucket) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d buckets, want %d", len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		sameMean := g.Mean == w.Mean || (math.IsNaN(g.Mean) && math.IsNaN(w.Mean)) ||
			math.Abs(g.Mean-w.Mean) <= 1e-9*(1+math.Abs(w.Mean))
		if g.FirstStep != w.FirstStep || g.LastStep != w.LastStep || g.Count != w.Count || g.Min != w.Min || g.Max != w.Max || !sameMean {
			return fmt.Sprintf("bucket %d: got %+v, want %+v", i, g, w)
		}
	}
	return ""
}
