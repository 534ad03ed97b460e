package storetest

import (
	"fmt"
	"math"
	"sync"
	"testing"

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
