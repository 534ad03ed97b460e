package store_test

import (
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
)

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
