package store_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/tracking"
)

// TestPostgresStatisticsKeptCurrent logs runs into a fresh schema and
// waits for the tracking tables to be analyzed by the store itself: the
// test database's cluster may run without autovacuum, and even with it a
// table can wait a minute for its first analysis.
func TestPostgresStatisticsKeptCurrent(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	db := openMigrated(t, dsn)
	raw := openRaw(t, "pgx", dsn)
	ctx, svc, p := benchFixture(t, db)
	e, err := svc.CreateExperiment(ctx, p, "stats", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	analyzed := func() bool {
		var last sql.NullTime
		err := raw.QueryRow(`SELECT COALESCE(last_analyze, last_autoanalyze) FROM pg_stat_user_tables
			WHERE schemaname = current_schema() AND relname = 'tracking_latest_metrics'`).Scan(&last)
		if err != nil {
			t.Fatal(err)
		}
		return last.Valid
	}
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; !analyzed(); i++ {
		if time.Now().After(deadline) {
			t.Fatal("tracking_latest_metrics was not analyzed within 20 s of logging")
		}
		r, err := svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: fmt.Sprint(e.ID)})
		if err != nil {
			t.Fatal(err)
		}
		var ms []tracking.Metric
		for k := range 20 {
			ms = append(ms, tracking.Metric{Key: fmt.Sprintf("m%d", k), Value: float64(i), Timestamp: 1})
		}
		if err := svc.LogBatch(ctx, p, r.Info.ID, tracking.Batch{Metrics: ms}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
