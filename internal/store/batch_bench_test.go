package store_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
)

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
