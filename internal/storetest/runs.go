package storetest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// trackingFixture makes a user and a project and returns the tracking
// service acting as that user.
func trackingFixture(t *testing.T, db *store.DB) (context.Context, *tracking.Service, *project.Project) {
	t.Helper()
	ctx := context.Background()
	as := auth.NewService(db, FastHash)
	ps := project.NewService(db, as)
	ada := must[*auth.User](t)(as.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw}))
	ctx = As(ctx, ada)
	p := must[*project.Project](t)(ps.CreateProject(ctx, project.NewProject{Key: "BAL", Name: "Balloons"}))
	return ctx, tracking.NewService(db), p
}

func testTrackingExperiments(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "churn BAL-3", "", []tracking.Tag{{Key: "team", Value: "ml"}}))
	_, err := svc.CreateExperiment(ctx, p, "churn BAL-3", "", nil)
	wantCode(t, err, trellis.ECONFLICT)
	_, err = svc.CreateExperiment(ctx, p, string(make([]byte, 501)), "", nil)
	wantCode(t, err, trellis.EINVALID)
	_, err = svc.CreateExperiment(ctx, p, "x", "file:///etc", nil)
	wantCode(t, err, trellis.EINVALID)
	id := fmt.Sprint(e.ID)
	got := must[*tracking.Experiment](t)(svc.Experiment(ctx, p, id))
	if got.Name != "churn BAL-3" || len(got.Tags) != 1 || got.Tags[0].Value != "ml" || got.LifecycleStage != tracking.StageActive {
		t.Fatalf("experiment %+v", got)
	}
	if loc := tracking.ExperimentArtifactLocation(got); loc != "mlflow-artifacts:/"+id {
		t.Fatalf("artifact location %q", loc)
	}
	def := must[*tracking.Experiment](t)(svc.Experiment(ctx, p, "0"))
	if def.Name != tracking.DefaultExperimentName {
		t.Fatalf("experiment 0 is %q", def.Name)
	}
	if again := must[*tracking.Experiment](t)(svc.Experiment(ctx, p, "0")); again.ID != def.ID {
		t.Fatal("experiment 0 created twice")
	}
	_, err = svc.Experiment(ctx, p, "999999")
	wantCode(t, err, trellis.ENOTFOUND)
	_, err = svc.Experiment(ctx, p, "abc")
	wantCode(t, err, trellis.EINVALID)

	if err := svc.SetExperimentTag(ctx, p, id, tracking.Tag{Key: "stage", Value: "dev"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.DeleteExperimentTag(ctx, p, id, "nope"), trellis.ENOTFOUND)
	if err := svc.RenameExperiment(ctx, p, id, "churn v2"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.RenameExperiment(ctx, p, id, tracking.DefaultExperimentName), trellis.ECONFLICT)

	// Search with filter, order and paging.
	for i := range 5 {
		must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, fmt.Sprintf("exp-%d", i), "", nil))
	}
	es, next := searchExperiments(t, ctx, svc, p, tracking.SearchInput{Filter: "name LIKE 'exp-%'", OrderBy: []string{"name DESC"}, MaxResults: 3})
	if len(es) != 3 || es[0].Name != "exp-4" || next == "" {
		t.Fatalf("page 1: %d %v", len(es), next)
	}
	es, next = searchExperiments(t, ctx, svc, p, tracking.SearchInput{Filter: "name LIKE 'exp-%'", OrderBy: []string{"name DESC"}, MaxResults: 3, PageToken: next})
	if len(es) != 2 || es[1].Name != "exp-0" || next != "" {
		t.Fatalf("page 2: %d %q", len(es), next)
	}
	es, _ = searchExperiments(t, ctx, svc, p, tracking.SearchInput{Filter: "tags.stage = 'dev' OR name = 'exp-1'"})
	if len(es) != 2 {
		t.Fatalf("OR search found %d", len(es))
	}
	// Delete hides it and its runs; the name stays taken.
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: id}))
	if err := svc.SetExperimentStage(ctx, p, id, tracking.StageDeleted); err != nil {
		t.Fatal(err)
	}
	if got := must[*tracking.Run](t)(svc.Run(ctx, p, r.Info.ID)); got.Info.LifecycleStage != tracking.StageDeleted {
		t.Fatalf("run of deleted experiment is %s", got.Info.LifecycleStage)
	}
	_, err = svc.CreateExperiment(ctx, p, "churn v2", "", nil)
	wantCode(t, err, trellis.ECONFLICT)
	_, err = svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: id})
	wantCode(t, err, trellis.EINVALID)
	es, _ = searchExperiments(t, ctx, svc, p, tracking.SearchInput{View: tracking.ViewDeleted})
	if len(es) != 1 || es[0].ID != e.ID {
		t.Fatalf("deleted view: %v", es)
	}
	if err := svc.SetExperimentStage(ctx, p, id, tracking.StageActive); err != nil {
		t.Fatal(err)
	}
	_, _, err = svc.SearchExperiments(ctx, p, tracking.SearchInput{Filter: "name = 'a' AND"})
	wantCode(t, err, trellis.EINVALID)
}

func searchExperiments(t *testing.T, ctx context.Context, svc *tracking.Service, p *project.Project, in tracking.SearchInput) ([]*tracking.Experiment, string) {
	t.Helper()
	es, next, err := svc.SearchExperiments(ctx, p, in)
	if err != nil {
		t.Fatal(err)
	}
	return es, next
}

func testTrackingRuns(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "exp", "", nil))
	eid := fmt.Sprint(e.ID)
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid, StartTime: 1000,
		Tags: []tracking.Tag{{Key: tracking.TagRunName, Value: "try BAL-7"}, {Key: tracking.TagNote, Value: "fixes BAL-9 and GPT-4"}}}))
	if len(r.Info.ID) != 32 || r.Info.Name != "try BAL-7" || r.Info.UserID != "ada" || r.Info.Status != "RUNNING" {
		t.Fatalf("run info %+v", r.Info)
	}
	if want := "mlflow-artifacts:/" + eid + "/" + r.Info.ID + "/artifacts"; r.Info.ArtifactURI != want {
		t.Fatalf("artifact uri %q", r.Info.ArtifactURI)
	}
	id := r.Info.ID
	inf := math.Inf(1)
	b := tracking.Batch{
		Params:  []tracking.Param{{Key: "lr", Value: "0.1"}, {Key: "depth", Value: "3"}},
		Tags:    []tracking.Tag{{Key: "team", Value: "ml"}},
		Metrics: []tracking.Metric{{Key: "loss", Value: 0.5, Timestamp: 10, Step: 1}, {Key: "loss", Value: 0.3, Timestamp: 20, Step: 2}, {Key: "loss", Value: 0.9, Timestamp: 5, Step: 0}, {Key: "nan", Value: math.NaN(), Timestamp: 1, Step: 0}, {Key: "inf", Value: inf, Timestamp: 1, Step: 0}, {Key: "ninf", Value: -inf, Timestamp: 1, Step: 0}},
	}
	if err := svc.LogBatch(ctx, p, id, b); err != nil {
		t.Fatal(err)
	}
	// Same value again is a no-op; a different value refuses the whole batch.
	if err := svc.LogBatch(ctx, p, id, tracking.Batch{Params: []tracking.Param{{Key: "lr", Value: "0.1"}}}); err != nil {
		t.Fatal(err)
	}
	err := svc.LogBatch(ctx, p, id, tracking.Batch{Params: []tracking.Param{{Key: "new", Value: "x"}, {Key: "lr", Value: "0.2"}}, Metrics: []tracking.Metric{{Key: "loss", Value: 0, Timestamp: 99, Step: 99}}, Tags: []tracking.Tag{{Key: "team", Value: "changed"}}})
	wantCode(t, err, trellis.EINVALID)
	got := must[*tracking.Run](t)(svc.Run(ctx, p, id))
	if len(got.Params) != 2 || tagOf(got.Tags, "team") != "ml" {
		t.Fatalf("refused batch left writes: params %v tags %v", got.Params, got.Tags)
	}
	latest := map[string]tracking.Metric{}
	for _, m := range got.Metrics {
		latest[m.Key] = m
	}
	if m := latest["loss"]; m.Value != 0.3 || m.Step != 2 {
		t.Fatalf("latest loss %+v", m)
	}
	if !math.IsNaN(latest["nan"].Value) || !math.IsInf(latest["inf"].Value, 1) || !math.IsInf(latest["ninf"].Value, -1) {
		t.Fatalf("special values: %+v", got.Metrics)
	}
	hist, _ := history(t, ctx, svc, p, id, "loss", 0, "")
	if len(hist) != 3 || hist[0].Step != 0 || hist[2].Value != 0.3 {
		t.Fatalf("history %+v", hist)
	}
	// Limits.
	big := tracking.Batch{Metrics: make([]tracking.Metric, 1001)}
	for i := range big.Metrics {
		big.Metrics[i] = tracking.Metric{Key: "m", Value: 1}
	}
	wantCode(t, svc.LogBatch(ctx, p, id, big), trellis.EINVALID)
	for _, bad := range []tracking.Batch{
		{Params: []tracking.Param{{Key: "../x", Value: "1"}}},
		{Params: []tracking.Param{{Key: "x", Value: string(make([]byte, 6001))}}},
		{Tags: []tracking.Tag{{Key: "t", Value: string(make([]byte, 8001))}}},
		{Params: []tracking.Param{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}}},
		{Metrics: []tracking.Metric{{Key: string(make([]byte, 251))}}},
	} {
		wantCode(t, svc.LogBatch(ctx, p, id, bad), trellis.EINVALID)
	}
	// Run name via tag, update, links.
	if err := svc.LogBatch(ctx, p, id, tracking.Batch{Tags: []tracking.Tag{{Key: tracking.TagRunName, Value: "renamed"}, {Key: tracking.TagItem, Value: "BAL-12"}}}); err != nil {
		t.Fatal(err)
	}
	status, end := "FINISHED", int64(5000)
	info := must[*tracking.RunInfo](t)(svc.UpdateRun(ctx, p, id, tracking.RunUpdate{Status: &status, EndTime: &end}))
	if info.Name != "renamed" || info.Status != "FINISHED" || *info.EndTime != 5000 {
		t.Fatalf("updated %+v", info)
	}
	links := must[[]tracking.ItemLink](t)(svc.RunItems(ctx, p, id))
	if len(links) != 3 || links[0].ItemKey != "BAL-7" || links[1].ItemKey != "BAL-9" || links[2].ItemKey != "BAL-12" {
		t.Fatalf("links %+v", links)
	}
	must[*tracking.ItemLink](t)(svc.LinkItem(ctx, p, id, "BAL-100"))
	_, err = svc.LinkItem(ctx, p, id, "CAT-1")
	wantCode(t, err, trellis.EINVALID)
	if rs := must[[]tracking.ItemLink](t)(svc.ItemRuns(ctx, p, "BAL-100")); len(rs) != 1 || rs[0].RunID != id || rs[0].Source != "manual" {
		t.Fatalf("item runs %+v", rs)
	}
	if err := svc.UnlinkItem(ctx, p, id, "BAL-100"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.UnlinkItem(ctx, p, id, "BAL-100"), trellis.ENOTFOUND)
	// Delete, restore, writes to deleted runs refused.
	if err := svc.SetRunStage(ctx, p, id, tracking.StageDeleted); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.LogBatch(ctx, p, id, tracking.Batch{Tags: []tracking.Tag{{Key: "a", Value: "b"}}}), trellis.EINVALID)
	if err := svc.SetRunStage(ctx, p, id, tracking.StageActive); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.DeleteRunTag(ctx, p, id, "nope"), trellis.ENOTFOUND)
	if err := svc.DeleteRunTag(ctx, p, id, "team"); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Run(ctx, p, "0123456789abcdef0123456789abcdef")
	wantCode(t, err, trellis.ENOTFOUND)
}

func tagOf(tags []tracking.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

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

func testTrackingSearch(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "exp", "", nil))
	eid := fmt.Sprint(e.ID)
	ids := make([]string, 20)
	for i := range 20 {
		r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid, Name: fmt.Sprintf("run-%02d", i), StartTime: int64(1000 + i)}))
		ids[i] = r.Info.ID
		b := tracking.Batch{Params: []tracking.Param{{Key: "p0", Value: []string{"x", "y"}[i%2]}}, Tags: []tracking.Tag{{Key: "Team", Value: []string{"Ml", "ops"}[i%2]}}}
		if i%5 != 0 {
			b.Metrics = []tracking.Metric{{Key: "m0", Value: float64(i) / 20, Timestamp: 1, Step: 0}}
		}
		if err := svc.LogBatch(ctx, p, r.Info.ID, b); err != nil {
			t.Fatal(err)
		}
	}
	names := func(filter string, order ...string) []string {
		t.Helper()
		rs, _, err := svc.SearchRuns(ctx, p, tracking.SearchRunsInput{ExperimentIDs: []string{eid}, SearchInput: tracking.SearchInput{Filter: filter, OrderBy: order}})
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		var ns []string
		for _, r := range rs {
			ns = append(ns, r.Info.Name[4:])
		}
		return ns
	}
	tests := []struct {
		filter string
		order  []string
		want   string
	}{
		{"metrics.m0 > 0.5 and params.p0 = 'x'", []string{"metrics.m0 DESC"}, "[18 16 14 12]"},
		{"metrics.`m0` >= 0.9", nil, "[19 18]"},
		{"metrics.m0 IS NULL", []string{"attributes.run_name"}, "[00 05 10 15]"},
		{"tags.Team LIKE 'M%'", []string{"run_name DESC"}, "[18 16 14 12 10 08 06 04 02 00]"},
		{"tags.Team LIKE 'm%'", nil, "[]"},
		{"tags.Team ILIKE 'm%' AND attributes.start_time < 1004", nil, "[02 00]"},
		{"(params.p0 = 'y' OR run_name = 'run-00') AND attributes.start_time <= 1003", nil, "[03 01 00]"},
		{"attributes.run_name IN ('run-01', 'run-02')", nil, "[02 01]"},
		{"params.p0 NOT IN ('x') AND metrics.m0 < 0.3", nil, "[03 01]"},
		{"params.missing IS NULL AND run_name = 'run-07'", nil, "[07]"},
		{"tags.Team != 'ops' AND metrics.m0 < 0.2", nil, "[02]"},
		{"", []string{"metrics.m0 ASC"}, "[01 02 03 04 06 07 08 09 11 12 13 14 16 17 18 19 15 10 05 00]"},
		{"status = 'RUNNING' and run_id = '" + ids[3] + "'", nil, "[03]"},
		{"run_name = 'x'' OR 1=1 --'", nil, "[]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(names(tt.filter, tt.order...)); got != tt.want {
			t.Errorf("%q %v: got %s, want %s", tt.filter, tt.order, got, tt.want)
		}
	}
	for _, bad := range []string{"metrics.m0 > 'a'", "params.p0 > 'a'", "attributes.nope = 'x'", "metrics.m0 >", "foo.bar = 1", "(params.p0 = 'x'"} {
		_, _, err := svc.SearchRuns(ctx, p, tracking.SearchRunsInput{ExperimentIDs: []string{eid}, SearchInput: tracking.SearchInput{Filter: bad}})
		wantCode(t, err, trellis.EINVALID)
	}
	// Paging covers every run once.
	seen := map[string]bool{}
	tok := ""
	for {
		rs, next, err := svc.SearchRuns(ctx, p, tracking.SearchRunsInput{ExperimentIDs: []string{eid}, SearchInput: tracking.SearchInput{MaxResults: 6, PageToken: tok}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			seen[r.Info.ID] = true
		}
		if tok = next; tok == "" {
			break
		}
	}
	if len(seen) != 20 {
		t.Fatalf("paging saw %d runs", len(seen))
	}
}

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

// testTrackingSearchByMetric pins the order of searches sorted by a metric,
// which the store answers in two parts (runs with a value, then runs
// without): ties fall back to start time, missing and NaN values sort last
// in both directions, other experiments and deleted runs stay out, and
// every page size walks the same sequence.
func testTrackingSearchByMetric(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "exp", "", nil))
	other := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "other", "", nil))
	eid := fmt.Sprint(e.ID)
	for i := range 14 {
		exp := eid
		if i == 13 {
			exp = fmt.Sprint(other.ID)
		}
		r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: exp, Name: fmt.Sprintf("run-%02d", i), StartTime: int64(1000 + i)}))
		b := tracking.Batch{Params: []tracking.Param{{Key: "p1", Value: fmt.Sprintf("%02d", i)}}}
		switch {
		case i >= 12:
			b.Metrics = []tracking.Metric{{Key: "m0", Value: 5}}
		case i == 3:
			b.Metrics = []tracking.Metric{{Key: "m0", Value: math.NaN()}}
		case i%4 != 0:
			b.Metrics = []tracking.Metric{{Key: "m0", Value: float64(i % 3)}, {Key: "m1", Value: 1}}
		}
		if err := svc.LogBatch(ctx, p, r.Info.ID, b); err != nil {
			t.Fatal(err)
		}
		if i == 12 {
			if err := svc.SetRunStage(ctx, p, r.Info.ID, tracking.StageDeleted); err != nil {
				t.Fatal(err)
			}
		}
	}
	search := func(filter string, order []string, max int64, tok string) ([]string, string) {
		t.Helper()
		rs, next, err := svc.SearchRuns(ctx, p, tracking.SearchRunsInput{ExperimentIDs: []string{eid}, SearchInput: tracking.SearchInput{Filter: filter, OrderBy: order, MaxResults: max, PageToken: tok}})
		if err != nil {
			t.Fatalf("%q %v: %v", filter, order, err)
		}
		var ns []string
		for _, r := range rs {
			ns = append(ns, r.Info.Name[4:])
		}
		return ns, next
	}
	tests := []struct {
		filter string
		order  []string
		want   string
	}{
		{"", []string{"metrics.m0 DESC"}, "[11 05 02 10 07 01 09 06 08 04 03 00]"},
		{"", []string{"metrics.m0 ASC"}, "[09 06 10 07 01 11 05 02 08 04 03 00]"},
		{"", []string{"metrics.m0 DESC", "params.p1 ASC"}, "[02 05 11 01 07 10 06 09 00 03 04 08]"},
		{"params.p1 != '05' AND metrics.m1 = 1", []string{"metrics.m0 DESC"}, "[11 02 10 07 01 09 06]"},
		{"metrics.m0 IS NULL OR metrics.m0 < 1", []string{"metrics.m0 DESC"}, "[09 06 08 04 00]"}, // IS NULL asks for the key's absence; 03 holds NaN
		{"metrics.m0 IS NULL", []string{"metrics.m0 ASC"}, "[08 04 00]"},
		{"", []string{"metrics.nope DESC"}, "[11 10 09 08 07 06 05 04 03 02 01 00]"},
	}
	for _, tt := range tests {
		got, _ := search(tt.filter, tt.order, 0, "")
		if fmt.Sprint(got) != tt.want {
			t.Errorf("%q %v: got %v, want %s", tt.filter, tt.order, got, tt.want)
		}
		for size := int64(1); size <= 5; size++ {
			var all []string
			tok := ""
			for {
				page, next := search(tt.filter, tt.order, size, tok)
				all = append(all, page...)
				if tok = next; tok == "" {
					break
				}
			}
			if fmt.Sprint(all) != tt.want {
				t.Errorf("%q %v in pages of %d: got %v, want %s", tt.filter, tt.order, size, all, tt.want)
			}
		}
	}
}

// testTrackingInputs logs dataset inputs as MLflow's log-inputs does and
// reads them back through runs/get and runs/search: a dataset is kept once
// per experiment, an input once per run with the tags it was first logged
// with, and a bad input writes nothing.
func testTrackingInputs(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "inputs", "", nil))
	eid := fmt.Sprint(e.ID)
	r1 := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid}))
	r2 := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: eid}))
	schema := `{"mlflow_colspec":[{"name":"x","type":"double"}]}`
	train := tracking.Dataset{Name: "balloons", Digest: "abc", SourceType: "local", Source: `{"uri":"train.csv"}`, Schema: &schema}
	val := tracking.Dataset{Name: "balloons-val", Digest: "def", SourceType: "http", Source: "{}"}
	ctxTag := func(v string) []tracking.Tag { return []tracking.Tag{{Key: tracking.TagDataContext, Value: v}} }
	if err := svc.LogInputs(ctx, p, r1.Info.ID, []tracking.DatasetInput{{Dataset: train, Tags: ctxTag("train")}, {Dataset: train, Tags: ctxTag("dup")}, {Dataset: val}}); err != nil {
		t.Fatal(err)
	}
	// Logged again with other tags and fields: the run keeps what it had.
	other := train
	other.Source = "changed"
	if err := svc.LogInputs(ctx, p, r1.Info.ID, []tracking.DatasetInput{{Dataset: other, Tags: ctxTag("eval")}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.LogInputs(ctx, p, r2.Info.ID, []tracking.DatasetInput{{Dataset: other, Tags: ctxTag("test")}}); err != nil {
		t.Fatal(err)
	}
	got := must[*tracking.Run](t)(svc.Run(ctx, p, r1.Info.ID))
	if len(got.Inputs) != 2 {
		t.Fatalf("run 1 inputs: %+v", got.Inputs)
	}
	in := got.Inputs[0]
	if in.Dataset.Name != "balloons" || in.Dataset.Source != `{"uri":"train.csv"}` || in.Dataset.Schema == nil || *in.Dataset.Schema != schema ||
		in.Dataset.Profile != nil || len(in.Tags) != 1 || in.Tags[0].Value != "train" {
		t.Fatalf("first input: %+v %v", in, in.Tags)
	}
	if v := got.Inputs[1]; v.Dataset.Name != "balloons-val" || v.Dataset.Schema != nil || len(v.Tags) != 0 {
		t.Fatalf("second input: %+v", v)
	}
	rs, _, err := svc.SearchRuns(ctx, p, tracking.SearchRunsInput{ExperimentIDs: []string{eid}})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*tracking.Run{}
	for _, r := range rs {
		byID[r.Info.ID] = r
	}
	if r := byID[r2.Info.ID]; r == nil || len(r.Inputs) != 1 || r.Inputs[0].Dataset.Source != `{"uri":"train.csv"}` || r.Inputs[0].Tags[0].Value != "test" {
		t.Fatalf("run 2 in search: %+v", r)
	}
	if r := byID[r1.Info.ID]; r == nil || len(r.Inputs) != 2 {
		t.Fatalf("run 1 in search: %+v", r)
	}
	// Limits, checked before anything is written.
	long := string(make([]byte, 37))
	wantCode(t, svc.LogInputs(ctx, p, r2.Info.ID, []tracking.DatasetInput{{Dataset: val}, {Dataset: tracking.Dataset{Name: "x", Digest: long, SourceType: "s", Source: "s"}}}), trellis.EINVALID)
	wantCode(t, svc.LogInputs(ctx, p, r2.Info.ID, []tracking.DatasetInput{{Dataset: tracking.Dataset{Name: "x", Digest: "d"}, Tags: []tracking.Tag{{Key: "k", Value: string(make([]byte, 501))}}}}), trellis.EINVALID)
	wantCode(t, svc.LogInputs(ctx, p, r2.Info.ID, []tracking.DatasetInput{{Dataset: tracking.Dataset{Digest: "d"}}}), trellis.EINVALID)
	if r := must[*tracking.Run](t)(svc.Run(ctx, p, r2.Info.ID)); len(r.Inputs) != 1 {
		t.Fatalf("a rejected request wrote inputs: %+v", r.Inputs)
	}
	wantCode(t, svc.LogInputs(ctx, p, "0123456789abcdef0123456789abcdef", []tracking.DatasetInput{{Dataset: val}}), trellis.ENOTFOUND)
	// A deleted run takes no inputs.
	if err := svc.SetRunStage(ctx, p, r2.Info.ID, tracking.StageDeleted); err != nil {
		t.Fatal(err)
	}
	wantCode(t, svc.LogInputs(ctx, p, r2.Info.ID, []tracking.DatasetInput{{Dataset: val}}), trellis.EINVALID)
}

// testTrackingArtifactLocation checks the operator's rule for a
// client-chosen artifact_location: denied by default, allowed under an
// allowed prefix (on a path boundary) and then kept and returned.
func testTrackingArtifactLocation(t *testing.T, db *store.DB) {
	ctx, svc, p := trackingFixture(t, db)
	_, err := svc.CreateExperiment(ctx, p, "denied", "s3://team/mlflow/x", nil)
	wantCode(t, err, trellis.EINVALID)
	svc.AllowArtifactLocations([]string{"s3://team/mlflow", "file:///mnt/shared/"})
	e := must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "allowed", "s3://team/mlflow/churn", nil))
	got := must[*tracking.Experiment](t)(svc.Experiment(ctx, p, fmt.Sprint(e.ID)))
	if tracking.ExperimentArtifactLocation(got) != "s3://team/mlflow/churn" {
		t.Fatalf("artifact location %q", got.ArtifactLocation)
	}
	r := must[*tracking.Run](t)(svc.CreateRun(ctx, p, tracking.NewRun{ExperimentID: fmt.Sprint(e.ID)}))
	if r.Info.ArtifactURI != "s3://team/mlflow/churn/"+r.Info.ID+"/artifacts" {
		t.Fatalf("run artifact uri %q", r.Info.ArtifactURI)
	}
	must[*tracking.Experiment](t)(svc.CreateExperiment(ctx, p, "shared", "file:///mnt/shared/churn", nil))
	for _, bad := range []string{"s3://team/mlflow-other", "s3://team/mlflow/../secrets", "s3://other/mlflow/x", "file:///mnt/sharedx",
		"mlflow-artifacts:/1", "runs:/abc/x", "/mnt/shared/x", "S3://team/mlflow/x", "file:///mnt/shared/%2e%2e/etc", "file:///mnt/shared/a%2f..%2f..%2fetc"} {
		_, err := svc.CreateExperiment(ctx, p, "bad "+fmt.Sprint(len(bad)), bad, nil)
		wantCode(t, err, trellis.EINVALID)
	}
}
