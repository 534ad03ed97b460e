package store_test

import (
	"cmp"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/trellisml/trellis/internal/tracking"
)

// TestMetricChunksMatchSort logs random series in every shape the chunks
// have to cope with (in order, one point per call, out of order, all at
// one step, many equal positions, a batch of several chunks; NaN and both
// infinities among the values) and compares every read of them with a
// plain sort of all points logged: get-history paged with random page
// sizes through the service's page tokens, step ranges, and the chart's
// point path. Then it takes the database back before migration 00016
// (points in tracking_metrics, checked against the sort too) and up again,
// and compares once more. On SQLite and PostgreSQL.
func TestMetricChunksMatchSort(t *testing.T) {
	// The slowest tests of the package (randomized, long under -race):
	// in parallel with each other they use both cores of a small machine.
	t.Parallel()
	for _, backend := range rawBackends {
		t.Run(backend.name, func(t *testing.T) {
			db, raw := backend.open(t)
			ctx, svc, p := benchFixture(t, db)
			rng := rand.New(rand.NewPCG(7, 11))
			run, err := svc.CreateRun(ctx, p, tracking.NewRun{})
			if err != nil {
				t.Fatal(err)
			}
			value := func() float64 {
				switch n := rng.IntN(100); {
				case n < 5:
					return math.NaN()
				case n < 8:
					return math.Inf(1)
				case n < 11:
					return math.Inf(-1)
				case n < 20:
					return float64(rng.IntN(3)) // equal values at equal positions
				}
				return rng.NormFloat64() * 100
			}
			logged := map[string][]tracking.Metric{}
			logBatch := func(ms []tracking.Metric) {
				t.Helper()
				if err := db.LogBatch(ctx, p.ID, run.Info.ID, func(*tracking.RunInfo) ([]tracking.ItemLink, error) { return nil, nil }, tracking.Batch{Metrics: ms}); err != nil {
					t.Fatal(err)
				}
				for _, m := range ms {
					logged[m.Key] = append(logged[m.Key], m)
				}
			}
			point := func(key string, step, ts int64) tracking.Metric {
				return tracking.Metric{Key: key, Step: step, Timestamp: ts, Value: value()}
			}
			// In order, batches of random size.
			for step := int64(0); step < 3000; {
				var batch []tracking.Metric
				for range 1 + rng.IntN(400) {
					batch = append(batch, point("ordered", step, 1000+step))
					step++
				}
				logBatch(batch)
			}
			// One point per call, mostly in order, now and then one
			// behind, with another key in the same batch sometimes.
			for i := range int64(700) {
				step := i
				if rng.IntN(10) == 0 {
					step -= int64(rng.IntN(20))
				}
				batch := []tracking.Metric{point("percall", step, 5000+rng.Int64N(3))}
				if rng.IntN(3) == 0 {
					batch = append(batch, point("zero", 0, rng.Int64N(50)))
				}
				logBatch(batch)
			}
			// All at step 0, and steps and timestamps from small ranges:
			// overlapping chunks, many equal positions.
			for range 30 {
				var batch []tracking.Metric
				for range 1 + rng.IntN(300) {
					batch = append(batch, point("zero", 0, rng.Int64N(50)))
					batch = append(batch, point("tied", rng.Int64N(41)-20, rng.Int64N(4)))
				}
				logBatch(batch)
			}
			// Several chunks in one batch, shuffled, with extreme steps.
			var big []tracking.Metric
			for i := range int64(10_000) {
				big = append(big, point("big", i*1_000_000_000-5_000_000_000_000, int64(rng.Uint64())))
			}
			big = append(big, point("big", math.MaxInt64, 0), point("big", math.MinInt64, math.MinInt64))
			rng.Shuffle(len(big), func(i, j int) { big[i], big[j] = big[j], big[i] })
			logBatch(big)

			want := map[string][]tracking.Metric{}
			for key, ms := range logged {
				s := slices.Clone(ms)
				slices.SortStableFunc(s, historyOrder)
				want[key] = s
			}
			compare := func(stage string) {
				t.Helper()
				for key, w := range want {
					sizes := []int64{0, 7, 100, 1 + rng.Int64N(5000)}
					if key == "percall" {
						sizes = append(sizes, 1)
					}
					for _, size := range sizes {
						var got []tracking.Metric
						token := ""
						for {
							page, next, err := svc.MetricHistory(ctx, p, run.Info.ID, key, size, token)
							if err != nil {
								t.Fatal(err)
							}
							got = append(got, page...)
							if token = next; token == "" {
								break
							}
						}
						if msg := diffPoints(got, w); msg != "" {
							t.Fatalf("%s: %s in pages of %d: %s", stage, key, size, msg)
						}
					}
					for range 20 {
						a, b := w[rng.IntN(len(w))].Step, w[rng.IntN(len(w))].Step
						if a > b {
							a, b = b, a
						}
						got, err := db.FindMetricHistory(ctx, tracking.HistoryQuery{RunID: run.Info.ID, Key: key, Limit: 1 << 30, StartStep: &a, EndStep: &b})
						if err != nil {
							t.Fatal(err)
						}
						var in []tracking.Metric
						for _, m := range w {
							if m.Step >= a && m.Step <= b {
								in = append(in, m)
							}
						}
						if msg := diffPoints(got, in); msg != "" {
							t.Fatalf("%s: %s from step %d to %d: %s", stage, key, a, b, msg)
						}
					}
				}
				// The chart's point path against the same sort, one
				// bucket per step of a small series.
				got, err := db.FindMetricBucketsFromPoints(ctx, tracking.BucketQuery{RunID: run.Info.ID, Key: "tied", Buckets: 41})
				if err != nil {
					t.Fatal(err)
				}
				var buckets []tracking.Bucket
				for _, m := range want["tied"] {
					if math.IsNaN(m.Value) {
						continue
					}
					if n := len(buckets); n == 0 || buckets[n-1].FirstStep != m.Step {
						buckets = append(buckets, tracking.Bucket{FirstStep: m.Step, LastStep: m.Step, Min: m.Value, Max: m.Value})
					}
					b := &buckets[len(buckets)-1]
					b.Min, b.Max, b.Count = min(b.Min, m.Value), max(b.Max, m.Value), b.Count+1
				}
				if len(got) != len(buckets) {
					t.Fatalf("%s: %d buckets, want %d", stage, len(got), len(buckets))
				}
				for i := range got {
					g, w := got[i], buckets[i]
					if g.FirstStep != w.FirstStep || g.LastStep != w.LastStep || g.Min != w.Min || g.Max != w.Max || g.Count != w.Count {
						t.Fatalf("%s: bucket %d is %+v, want %+v", stage, i, g, w)
					}
				}
			}
			compare("logged")

			// Down before 00016: the points are rows again, in the order
			// of the sort.
			if err := db.MigrateDownTo(ctx, 15); err != nil {
				t.Fatal(err)
			}
			for key, w := range want {
				rows, err := raw.QueryContext(ctx, `SELECT m.step, m.timestamp, m.value, m.is_nan FROM tracking_metrics m
					JOIN tracking_latest_metrics l ON l.id = m.series_id WHERE l.key = $1 ORDER BY m.step, m.timestamp, m.is_nan, m.value`, key)
				if err != nil {
					t.Fatal(err)
				}
				var got []tracking.Metric
				for rows.Next() {
					m := tracking.Metric{Key: key}
					var v sql.NullFloat64
					var isNaN bool
					if err := rows.Scan(&m.Step, &m.Timestamp, &v, &isNaN); err != nil {
						t.Fatal(err)
					}
					m.Value = v.Float64
					if isNaN {
						m.Value = math.NaN()
					}
					got = append(got, m)
				}
				rows.Close()
				if msg := diffPoints(got, w); msg != "" {
					t.Fatalf("rows after migrating down: %s: %s", key, msg)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			compare("migrated")

			// Chunks go with their run.
			if _, err := raw.ExecContext(ctx, `DELETE FROM tracking_runs WHERE id = $1`, run.Info.ID); err != nil {
				t.Fatal(err)
			}
			var left int
			if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM tracking_metric_chunks`).Scan(&left); err != nil || left != 0 {
				t.Fatalf("%d chunks left after their run was deleted (%v)", left, err)
			}
		})
	}
}

// historyOrder is get-history's order: step, timestamp, non-NaN values
// before NaN, value.
func historyOrder(a, b tracking.Metric) int {
	if c := cmp.Compare(a.Step, b.Step); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Timestamp, b.Timestamp); c != 0 {
		return c
	}
	an, bn := math.IsNaN(a.Value), math.IsNaN(b.Value)
	if an || bn {
		return cmp.Compare(b2i(an), b2i(bn))
	}
	return cmp.Compare(a.Value, b.Value)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// diffPoints describes the first difference between two point lists; NaN
// equals NaN.
func diffPoints(got, want []tracking.Metric) string {
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		same := g.Value == w.Value || math.IsNaN(g.Value) && math.IsNaN(w.Value)
		if g.Key != w.Key || g.Step != w.Step || g.Timestamp != w.Timestamp || !same {
			return fmt.Sprintf("point %d is %+v, want %+v", i, g, w)
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d points, want %d", len(got), len(want))
	}
	return ""
}
