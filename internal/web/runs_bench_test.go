package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
)

// BenchmarkRunsPages renders the runs table, a run page and the compare
// view of a SQLite project holding n runs of one experiment (10 metrics,
// 2 params and a tag each), server-side through the real handlers, session
// lookup and store (each sub-benchmark is named after its page; the
// table pages show 50 runs). n is 2,000, and 100,000 with TRELLIS_BENCH_100K set
// (seeding that takes minutes).
func BenchmarkRunsPages(b *testing.B) {
	sizes := []int{2000}
	if os.Getenv("TRELLIS_BENCH_100K") != "" {
		sizes = append(sizes, 100000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("runs=%d", n), func(b *testing.B) {
			be := newRunsBench(b)
			be.seed(b, n)
			runs, second, err := be.tr.SearchRuns(be.ctx, be.p, tracking.SearchRunsInput{ExperimentIDs: []string{be.eid}, SearchInput: tracking.SearchInput{MaxResults: runsPageSize}})
			if err != nil || second == "" || len(runs) < 20 {
				b.Fatal(len(runs), second, err)
			}
			var ids []string
			for _, r := range runs {
				ids = append(ids, r.Info.ID)
			}
			compare := "/p/BIG/runs/compare?diff=1"
			for _, id := range ids[:20] {
				compare += "&run=" + id
			}
			for _, pg := range []struct{ name, url string }{
				{"table", "/p/BIG/runs"},
				{"table-page2", "/p/BIG/runs?page=" + url.QueryEscape(second)},
				{"table-by-metric", "/p/BIG/runs?order=metrics.m0+DESC"},
				{"table-filtered", "/p/BIG/runs?" + url.Values{"filter": {"metrics.m0 > 0.5 and params.p0 = 'x'"}, "order": {"metrics.m0 DESC"}}.Encode()},
				{"table-columns-by-param", "/p/BIG/runs?" + url.Values{"columns": {"metrics.m3,params.p1,tags.team"}, "order": {"params.p1 ASC"}}.Encode()},
				{"table-name-search", "/p/BIG/runs?name=trial+4242"},
				{"run", "/p/BIG/runs/" + ids[0]},
				{"compare-20", compare},
			} {
				b.Run(pg.name, func(b *testing.B) {
					for b.Loop() {
						be.get(b, pg.url)
					}
				})
			}
		})
	}
}

type runsBench struct {
	h       http.Handler
	session string
	ctx     context.Context
	tr      *tracking.Service
	p       *project.Project
	eid     string
}

// newRunsBench builds a SQLite store with project BIG and one tracking
// experiment, and a handler and a session for its admin.
func newRunsBench(b *testing.B) *runsBench {
	b.Helper()
	f := newBenchFixture(b, filepath.Join(b.TempDir(), "bench.db"))
	tr, actx, p := f.tr, f.ctx, f.p
	e, err := tr.CreateExperiment(actx, p, "sweep", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	return &runsBench{h: f.h, session: f.session, ctx: actx, tr: tr, p: p, eid: fmt.Sprint(e.ID)}
}

// seed logs n runs with 8 concurrent writers through the tracking service.
func (be *runsBench) seed(b *testing.B, n int) {
	b.Helper()
	errs := make(chan error, 8)
	for wr := range 8 {
		go func() {
			for i := wr; i < n; i += 8 {
				// The name links each run to one of 500 items, as the
				// runs table's Items column shows.
				r, err := be.tr.CreateRun(be.ctx, be.p, tracking.NewRun{ExperimentID: be.eid, StartTime: int64(1_700_000_000_000 + i*1000),
					Name: fmt.Sprintf("BIG-%d trial %d", i%500+1, i),
					Tags: []tracking.Tag{{Key: "team", Value: []string{"vision", "nlp", "ops"}[i%3]}}})
				if err != nil {
					errs <- err
					return
				}
				bt := tracking.Batch{Params: []tracking.Param{{Key: "p0", Value: []string{"x", "y"}[i%2]}, {Key: "p1", Value: fmt.Sprint(i % 97)}}}
				for j := range 10 {
					bt.Metrics = append(bt.Metrics, tracking.Metric{Key: fmt.Sprintf("m%d", j), Value: float64((i*7919+j*104729)%1000) / 1000, Step: int64(j)})
				}
				if err := be.tr.LogBatch(be.ctx, be.p, r.Info.ID, bt); err != nil {
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

func (be *runsBench) get(b *testing.B, page string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, page, nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: be.session})
	w := httptest.NewRecorder()
	be.h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("%s = %d: %.300s", page, w.Code, w.Body.String())
	}
	return w
}

// BenchmarkMetricJSON1M serves the run page chart's JSON of a
// 1,000,000-point metric (SQLite) through the real handler: the whole
// series in 900 buckets (one per pixel of the widest chart), and a zoom
// to 900 steps, which is full resolution.
func BenchmarkMetricJSON1M(b *testing.B) {
	be := newRunsBench(b)
	r, err := be.tr.CreateRun(be.ctx, be.p, tracking.NewRun{ExperimentID: be.eid})
	if err != nil {
		b.Fatal(err)
	}
	ms := make([]tracking.Metric, 1000)
	for i := 0; i < 1_000_000; i += len(ms) {
		for j := range ms {
			s := i + j
			ms[j] = tracking.Metric{Key: "loss", Value: 1 / float64(1+s%5000), Timestamp: int64(s), Step: int64(s)}
		}
		if err := be.tr.LogBatch(be.ctx, be.p, r.Info.ID, tracking.Batch{Metrics: ms}); err != nil {
			b.Fatal(err)
		}
	}
	base := "/p/BIG/runs/" + r.Info.ID + "/metric.json?key=loss&buckets=900"
	for _, pg := range []struct{ name, url string }{{"whole", base}, {"zoom-900-steps", base + "&start=500000&end=500899"}} {
		b.Run(pg.name, func(b *testing.B) {
			for b.Loop() {
				be.get(b, pg.url)
			}
		})
	}
}
