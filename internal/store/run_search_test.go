package store_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
)

// TestSplitSearchMatchesOneQuery orders random runs by metrics, params and
// tags (values missing, NaN, repeated; start times tied) and compares every
// page of the split search (FindRuns) with the single query that sorts on
// "(value IS NULL)" first, on SQLite and PostgreSQL.
func TestSplitSearchMatchesOneQuery(t *testing.T) {
	// The slowest tests of the package (randomized, long under -race):
	// in parallel with each other they use both cores of a small machine.
	t.Parallel()
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", OpenSQLite}, {"postgres", OpenPostgres}} {
		t.Run(backend.name, func(t *testing.T) {
			db := backend.open(t)
			ctx, svc, p := benchFixture(t, db)
			rng := rand.New(rand.NewPCG(7, 11))
			runsPerExperiment, sizes := 150, []int{7, 50, 1000}
			if raceEnabled {
				runsPerExperiment, sizes = 60, []int{7, 1000}
			}
			var eids []int64
			for e := range 2 {
				exp, err := svc.CreateExperiment(ctx, p, fmt.Sprintf("exp%d", e), "", nil)
				if err != nil {
					t.Fatal(err)
				}
				eids = append(eids, exp.ID)
				for i := range runsPerExperiment {
					r, err := svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: fmt.Sprint(exp.ID), StartTime: int64(1000 + rng.IntN(40))})
					if err != nil {
						t.Fatal(err)
					}
					var bt tracking.Batch
					if rng.IntN(4) != 0 {
						bt.Params = append(bt.Params, tracking.Param{Key: "p", Value: fmt.Sprintf("v%d", rng.IntN(12))})
					}
					if rng.IntN(3) != 0 {
						bt.Tags = append(bt.Tags, tracking.Tag{Key: "t", Value: []string{"a", "b", "ab", "B", ""}[rng.IntN(5)]})
					}
					switch rng.IntN(5) {
					case 0:
					case 1:
						bt.Metrics = append(bt.Metrics, tracking.Metric{Key: "m", Value: math.NaN()})
					default:
						bt.Metrics = append(bt.Metrics, tracking.Metric{Key: "m", Value: float64(rng.IntN(9)) / 4})
					}
					if len(bt.Params)+len(bt.Tags)+len(bt.Metrics) > 0 {
						if err := svc.LogBatch(ctx, p, r.Info.ID, bt); err != nil {
							t.Fatal(err)
						}
					}
					if i%17 == 0 {
						if err := svc.SetRunStage(ctx, p, r.Info.ID, tracking.StageDeleted); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			orders := [][]string{
				{"params.p ASC"}, {"params.p DESC"}, {"tags.t ASC"}, {"tags.t DESC"},
				{"metrics.m DESC"}, {"metrics.m ASC"}, {"params.p DESC", "metrics.m ASC"},
				{"tags.t ASC", "params.p DESC"}, {"params.nope ASC"}, {"params.p ASC", "attributes.start_time ASC"},
			}
			filters := []string{"", "params.p != 'v3'", "metrics.m > 0.5", "tags.t LIKE 'a%'",
				"metrics.m > 0.2 AND params.p != 'v3' AND tags.t LIKE 'a%'", "metrics.m < 0.3 OR params.p = 'v1'", "metrics.m IS NOT NULL AND params.p IS NULL"}
			for _, o := range orders {
				keys, err := tracking.ParseOrderBy(o)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range filters {
					filter, err := tracking.ParseFilter(f)
					if err != nil {
						t.Fatal(err)
					}
					for _, view := range []string{tracking.ViewActive, tracking.ViewAll} {
						for _, exps := range [][]int64{eids[:1], eids} {
							q := tracking.RunQuery{ProjectID: p.ID, ExperimentIDs: exps, View: view, Filter: filter, OrderBy: keys}
							q.Limit = 1000
							want, err := db.FindRunsOneQuery(ctx, q)
							if err != nil {
								t.Fatal(err)
							}
							for _, size := range sizes {
								for off := 0; off <= len(want)+size; off += size {
									q.Limit, q.Offset = size, off
									got, err := db.FindRuns(ctx, q)
									if err != nil {
										t.Fatal(err)
									}
									w := want[min(off, len(want)):min(off+size, len(want))]
									if ids(got) != ids(w) {
										t.Fatalf("%v %q %s %v, page of %d at %d:\n got %v\nwant %v", o, f, view, exps, size, off, ids(got), ids(w))
									}
								}
							}
						}
					}
				}
			}
		})
	}
}

func ids(rs []*tracking.Run) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.Info.ID
	}
	return fmt.Sprint(s)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
