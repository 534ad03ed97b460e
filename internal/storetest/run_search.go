package storetest

import (
	"fmt"
	"math"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

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
