package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/tracking"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU resets the timer and reports the process's CPU time per op when
// the benchmark ends: on a machine shared with other work, wall time per op
// moves with the load and CPU time much less. (On PostgreSQL the server's
// own CPU is not included.)
func reportCPU(b *testing.B) {
	b.ResetTimer()
	start := cpuTime()
	b.Cleanup(func() {
		b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
}

func benchBackends(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, OpenSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, OpenPostgres(b)) })
}

func benchFixture(b testing.TB, db *store.DB) (context.Context, *tracking.Service, *project.Project) {
	b.Helper()
	ctx := context.Background()
	as := auth.NewService(db, storetest.FastHash)
	u, err := as.CreateUser(ctx, auth.NewUser{Name: "bench", Password: "a long enough bench password"})
	if err != nil {
		b.Fatal(err)
	}
	ctx = storetest.As(ctx, u)
	p, err := project.NewService(db, as).CreateProject(ctx, project.NewProject{Key: "BEN", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	return ctx, tracking.NewService(db), p
}

// BenchmarkLogBatch1000 logs batches of 1,000 points of one metric to one
// run through the service (validation, one transaction, commit).
func BenchmarkLogBatch1000(b *testing.B) {
	benchBackends(b, func(b *testing.B, db *store.DB) {
		ctx, svc, p := benchFixture(b, db)
		r, err := svc.CreateRun(ctx, p, tracking.NewRun{})
		if err != nil {
			b.Fatal(err)
		}
		ms := make([]tracking.Metric, 1000)
		reportCPU(b)
		for i := range b.N {
			for j := range ms {
				ms[j] = tracking.Metric{Key: "loss", Value: float64(j), Timestamp: int64(i), Step: int64(i*1000 + j)}
			}
			if err := svc.LogBatch(ctx, p, r.Info.ID, tracking.Batch{Metrics: ms}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "points/s")
	})
}

// BenchmarkLogBatchPerStep logs as an MLflow client calling log_metrics
// at every step does: one point of each of 1 or 10 keys per batch, to one
// run, so each batch extends the series' last chunk.
func BenchmarkLogBatchPerStep(b *testing.B) {
	for _, keys := range []int{1, 10} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			benchBackends(b, func(b *testing.B, db *store.DB) {
				ctx, svc, p := benchFixture(b, db)
				r, err := svc.CreateRun(ctx, p, tracking.NewRun{})
				if err != nil {
					b.Fatal(err)
				}
				ms := make([]tracking.Metric, keys)
				reportCPU(b)
				for i := range b.N {
					for j := range ms {
						ms[j] = tracking.Metric{Key: "m" + strconv.Itoa(j), Value: float64(i), Timestamp: int64(i), Step: int64(i)}
					}
					if err := svc.LogBatch(ctx, p, r.Info.ID, tracking.Batch{Metrics: ms}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkRawSQLiteInsert1000 is the ceiling for BenchmarkLogBatch1000 on
// SQLite: the same 1,000 rows per transaction into the same table shape,
// written with one prepared multi-row INSERT and no service, no checks, no
// upsert.
func BenchmarkRawSQLiteInsert1000(b *testing.B) {
	path := filepath.Join(b.TempDir(), "raw.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE points (series_id INTEGER NOT NULL, step INTEGER NOT NULL, timestamp INTEGER NOT NULL, value REAL, is_nan INTEGER NOT NULL DEFAULT 0) STRICT;
		CREATE INDEX points_series ON points (series_id, step, timestamp)`); err != nil {
		b.Fatal(err)
	}
	const rows = 1000
	ph := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", rows), ", ")
	if os.Getenv("RAW_DOLLAR") != "" {
		var sb strings.Builder
		for r := range rows {
			if r > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "($%d, $%d, $%d, $%d, $%d)", 5*r+1, 5*r+2, 5*r+3, 5*r+4, 5*r+5)
		}
		ph = sb.String()
	}
	// Prepared once, as SQLite's own C API would be used for bulk loading:
	// the ceiling is running the statement, not parsing it.
	stmt, err := db.Prepare(`INSERT INTO points (series_id, step, timestamp, value, is_nan) VALUES ` + ph)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	args := make([]any, 0, 5*rows)
	reportCPU(b)
	for i := range b.N {
		args = args[:0]
		for j := range rows {
			args = append(args, 1, i*rows+j, i, float64(j), 0)
		}
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Stmt(stmt).Exec(args...); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "points/s")
}

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

// BenchmarkMetricHistory200k reads a 200,000-point series through the
// service in pages of 25,000, as bench/tracking's get-history workload does
// over HTTP (without the JSON).
func BenchmarkMetricHistory200k(b *testing.B) {
	benchBackends(b, func(b *testing.B, db *store.DB) {
		ctx, svc, p := benchFixture(b, db)
		r, err := svc.CreateRun(ctx, p, tracking.NewRun{})
		if err != nil {
			b.Fatal(err)
		}
		const points = 200000
		ms := make([]tracking.Metric, 1000)
		for start := 0; start < points; start += len(ms) {
			for j := range ms {
				ms[j] = tracking.Metric{Key: "curve", Value: float64(start+j) / 7, Timestamp: int64(start + j), Step: int64(start + j)}
			}
			if err := svc.LogBatch(ctx, p, r.Info.ID, tracking.Batch{Metrics: ms}); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b)
		for range b.N {
			got, tok := 0, ""
			for {
				page, next, err := svc.MetricHistory(ctx, p, r.Info.ID, "curve", 25000, tok)
				if err != nil {
					b.Fatal(err)
				}
				got += len(page)
				if tok = next; tok == "" {
					break
				}
			}
			if got != points {
				b.Fatalf("read %d points, want %d", got, points)
			}
		}
	})
}
