package storetest

import (
	"context"
	"testing"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

func history(t *testing.T, ctx context.Context, svc *tracking.Service, p *project.Project, run, key string, max int64, tok string) ([]tracking.Metric, string) {
	t.Helper()
	ms, next, err := svc.MetricHistory(ctx, p, run, key, max, tok)
	if err != nil {
		t.Fatal(err)
	}
	return ms, next
}

func testTrackingHistoryPaging(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{}))
	// 2,500 points with many equal (step, timestamp) positions.
	var all []tracking.Metric
	for i := range 2500 {
		all = append(all, tracking.Metric{Key: "m", Value: float64(i), Timestamp: int64(i / 7), Step: int64(i / 7)})
	}
	for start := 0; start < len(all); start += 1000 {
		if err := svc.LogBatch(ctx, p, r.Info.ID, tracking.Batch{Metrics: all[start:min(len(all), start+1000)]}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[float64]bool{}
	tok, pages := "", 0
	for {
		ms, next := history(t, ctx, svc, p, r.Info.ID, "m", 333, tok)
		pages++
		for _, m := range ms {
			if seen[m.Value] {
				t.Fatalf("point %v repeated", m.Value)
			}
			seen[m.Value] = true
		}
		if next == "" {
			break
		}
		tok = next
	}
	if len(seen) != 2500 || pages != 8 {
		t.Fatalf("%d points in %d pages", len(seen), pages)
	}
	_, _, err := svc.MetricHistory(ctx, p, r.Info.ID, "m", 10, "garbage!")
	wantCode(t, err, trellis.EINVALID)

	// Downsampling: buckets cover every point once, with the right extremes.
	bs := must[[]tracking.Bucket](t)(svc.ChartSeries(ctx, p, r.Info.ID, "m", nil, nil, 10))
	var n int64
	for _, b := range bs {
		n += b.Count
	}
	if len(bs) == 0 || len(bs) > 10 || n != 2500 || bs[0].Min != 0 || bs[len(bs)-1].Max != 2499 || bs[len(bs)-1].LastStep != 357 {
		t.Fatalf("buckets %d, %d points: first %+v last %+v", len(bs), n, bs[0], bs[len(bs)-1])
	}
	lo, hi := int64(10), int64(12)
	bs = must[[]tracking.Bucket](t)(svc.ChartSeries(ctx, p, r.Info.ID, "m", &lo, &hi, 1000))
	if len(bs) != 3 || bs[0].FirstStep != 10 || bs[0].Count != 7 || bs[0].Min != 70 || bs[0].Max != 76 {
		t.Fatalf("zoomed buckets %+v", bs)
	}
	_, err = svc.ChartSeries(ctx, p, r.Info.ID, "m", nil, nil, 0)
	wantCode(t, err, trellis.EINVALID)
}
