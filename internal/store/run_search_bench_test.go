package store_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/tracking"
)

// BenchmarkSearchRuns runs the search over 2,000 and 100,000 runs
// (the larger corpus only with TRELLIS_BENCH_100K set: seeding takes minutes).
// Runs are created by 8 concurrent writers through the service.
func BenchmarkSearchRuns(b *testing.B) {
	sizes := []int{2000}
	if os.Getenv("TRELLIS_BENCH_100K") != "" {
		sizes = append(sizes, 100000)
	}
	b.Run("sqlite", func(b *testing.B) { benchSearchRuns(b, OpenSQLite(b), sizes, func() {}) })
	b.Run("postgres", func(b *testing.B) {
		dsn := storetest.PostgresDSN(b)
		// Statistics as autovacuum would have gathered them on a corpus
		// this size; without them the planner guesses one row per table.
		benchSearchRuns(b, openMigrated(b, dsn), sizes, func() {
			storetest.Analyze(b, dsn)
		})
	})
}

func benchSearchRuns(b *testing.B, db *store.DB, sizes []int, analyze func()) {
	{
		ctx, svc, p := benchFixture(b, db)
		for _, n := range sizes {
			e, err := svc.CreateExperiment(ctx, p, fmt.Sprintf("search%d", n), "", nil)
			if err != nil {
				b.Fatal(err)
			}
			eid := fmt.Sprint(e.ID)
			seedSearch(b, ctx, svc, p, eid, n)
			analyze()
			in := tracking.SearchRunsInput{ExperimentIDs: []string{eid}, SearchInput: tracking.SearchInput{
				Filter: "metrics.m0 > 0.5 and params.p0 = 'x'", OrderBy: []string{"metrics.m0 DESC"}, MaxResults: 100}}
			b.Run(fmt.Sprintf("runs=%d", n), func(b *testing.B) {
				reportCPU(b)
				for range b.N {
					rs, _, err := svc.SearchRuns(ctx, p, in)
					if err != nil || len(rs) != 100 {
						b.Fatal(len(rs), err)
					}
				}
			})
			if n != sizes[0] {
				continue
			}
			// The same search with another experiment as large, logging
			// the same keys, in the database (as bench/tracking's full
			// run leaves its create workload's runs).
			other, err := svc.CreateExperiment(ctx, p, fmt.Sprintf("other%d", n), "", nil)
			if err != nil {
				b.Fatal(err)
			}
			seedSearch(b, ctx, svc, p, fmt.Sprint(other.ID), n)
			analyze()
			b.Run(fmt.Sprintf("runs=%d,other=%d", n, n), func(b *testing.B) {
				reportCPU(b)
				for range b.N {
					rs, _, err := svc.SearchRuns(ctx, p, in)
					if err != nil || len(rs) != 100 {
						b.Fatal(len(rs), err)
					}
				}
			})
		}
	}
}

func seedSearch(b *testing.B, ctx context.Context, svc *tracking.Service, p *project.Project, eid string, n int) {
	b.Helper()
	errs := make(chan error, 8)
	for w := range 8 {
		go func() {
			for i := w; i < n; i += 8 {
				r, err := svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid})
				if err != nil {
					errs <- err
					return
				}
				bt := tracking.Batch{Params: []tracking.Param{{Key: "p0", Value: []string{"x", "y"}[i%2]}}}
				for j := range 10 {
					bt.Metrics = append(bt.Metrics, tracking.Metric{Key: fmt.Sprintf("m%d", j), Value: float64((i*7919+j*104729)%1000) / 1000})
				}
				if err := svc.LogBatch(ctx, p, r.Info.ID, bt); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}
