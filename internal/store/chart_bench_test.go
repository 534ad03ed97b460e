package store_test

import (
	"math"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/tracking"
)

// BenchmarkChartSeries1M draws a 1,000,000-point metric the way the run
// page does: the whole series cut into at most 1,000 min/max buckets (one
// per pixel of a wide chart), then a zoom to 2,000 steps at full resolution.
// The series is logged through the service in batches of 1,000, as an
// MLflow client would; PostgreSQL is ANALYZEd afterwards as autovacuum
// would have been.
func BenchmarkChartSeries1M(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchChart(b, OpenSQLite(b), func() {}) })
	b.Run("postgres", func(b *testing.B) {
		dsn := storetest.PostgresDSN(b)
		benchChart(b, openMigrated(b, dsn), func() {
			storetest.Analyze(b, dsn)
		})
	})
}

func benchChart(b *testing.B, db *store.DB, analyze func()) {
	const points = 1_000_000
	ctx, svc, p := benchFixture(b, db)
	r, err := svc.CreateRun(ctx, p, tracking.NewRun{})
	if err != nil {
		b.Fatal(err)
	}
	ms := make([]tracking.Metric, 1000)
	for i := 0; i < points; i += len(ms) {
		for j := range ms {
			s := i + j
			ms[j] = tracking.Metric{Key: "loss", Value: math.Exp(-float64(s)/200000) + 0.05*math.Sin(float64(s)), Timestamp: int64(s), Step: int64(s)}
		}
		if err := svc.LogBatch(ctx, p, r.Info.ID, tracking.Batch{Metrics: ms}); err != nil {
			b.Fatal(err)
		}
	}
	analyze()
	id := r.Info.ID
	b.Run("whole/buckets=1000", func(b *testing.B) {
		for range b.N {
			bs, err := svc.ChartSeries(ctx, p, id, "loss", nil, nil, 1000)
			// Buckets are whole rollup blocks (256 steps here): 977.
			if err != nil || len(bs) < 900 || len(bs) > 1000 {
				b.Fatal(len(bs), err)
			}
		}
	})
	lo, hi := int64(500_000), int64(501_999)
	b.Run("zoom=2000steps/buckets=4000", func(b *testing.B) {
		for range b.N {
			bs, err := svc.ChartSeries(ctx, p, id, "loss", &lo, &hi, 4000)
			if err != nil || len(bs) != 2000 || bs[0].Count != 1 {
				b.Fatal(len(bs), err)
			}
		}
	})
}
