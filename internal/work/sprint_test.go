package work_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/work"
)

func TestCategoryOf(t *testing.T) {
	for _, c := range []struct {
		kind   work.Kind
		labels []string
		want   string
	}{
		{work.KindDevelopment, nil, work.CatCommitted},
		{work.KindMaintenance, []string{"ops"}, work.CatCommitted},
		{work.KindExperiment, nil, work.CatExperiments},
		{work.KindResearch, []string{"papers"}, work.CatExperiments},
		// The learning label wins over the kind.
		{work.KindResearch, []string{"a", "learning"}, work.CatLearning},
		{work.KindDevelopment, []string{"learning"}, work.CatLearning},
		// Only the exact label counts.
		{work.KindDevelopment, []string{"learning-rate"}, work.CatCommitted},
	} {
		if got := work.CategoryOf(&work.Item{Kind: c.kind, Labels: c.labels}); got != c.want {
			t.Errorf("CategoryOf(%s %v) = %s, want %s", c.kind, c.labels, got, c.want)
		}
	}
}

func TestLoadOf(t *testing.T) {
	for _, c := range []struct {
		points  int
		timeBox string
		want    int
	}{
		{5, "", 5},
		{3, "1w", 3}, // points win over the time box
		{0, "4h", 1}, // a started day counts as one point
		{0, "24h", 1},
		{0, "25h", 2},
		{0, "2d", 2},
		{0, "1w", 7},
		{0, "999w", 6993},
		{0, "", 0},
		{0, "2 days", 0}, // not a time box
	} {
		if got := work.LoadOf(&work.Item{Points: c.points, TimeBox: c.timeBox}); got != c.want {
			t.Errorf("LoadOf(points %d, time box %q) = %d, want %d", c.points, c.timeBox, got, c.want)
		}
	}
}

// plannedItem is an item as ComputePlan sees it.
func plannedItem(key string, kind work.Kind, points int, timeBox string, labels ...string) *work.Item {
	return &work.Item{Key: key, Kind: kind, Points: points, TimeBox: timeBox, Labels: labels}
}

func TestComputePlan(t *testing.T) {
	guide := work.DefaultPlanning.Allocation // 60/30/10
	type cat struct {
		points  int
		percent float64
		off     bool
	}
	expired := plannedItem("BAL-9", work.KindExperiment, 0, "2d")
	expired.TimeBoxExpired = true
	for _, c := range []struct {
		name     string
		capacity map[string]int
		items    []*work.Item
		alloc    work.Allocation
		load     int
		cats     [3]cat // committed, experiments, learning
		over     bool
		warnings []string
		expired  []string
	}{
		{name: "on the guideline", capacity: map[string]int{"ada": 10, "bob": 10}, alloc: guide,
			items: []*work.Item{plannedItem("BAL-1", work.KindDevelopment, 5, ""), plannedItem("BAL-2", work.KindMaintenance, 1, ""),
				plannedItem("BAL-3", work.KindExperiment, 0, "3d"), plannedItem("BAL-4", work.KindResearch, 0, "4h", "learning")},
			load: 10, cats: [3]cat{{6, 60, false}, {3, 30, false}, {1, 10, false}}, warnings: []string{}, expired: []string{}},
		{name: "ten points away is still on the guideline", capacity: map[string]int{"ada": 10}, alloc: guide,
			items: []*work.Item{plannedItem("BAL-1", work.KindDevelopment, 5, ""), plannedItem("BAL-2", work.KindDevelopment, 2, ""),
				plannedItem("BAL-3", work.KindResearch, 3, "")},
			load: 10, cats: [3]cat{{7, 70, false}, {3, 30, false}, {0, 0, false}}, warnings: []string{}, expired: []string{}},
		{name: "over capacity and off", capacity: map[string]int{"ada": 5}, alloc: guide,
			items: []*work.Item{plannedItem("BAL-1", work.KindDevelopment, 8, ""), plannedItem("BAL-2", work.KindExperiment, 0, "2d")},
			load:  10, cats: [3]cat{{8, 80, true}, {2, 20, false}, {0, 0, false}}, over: true,
			warnings: []string{"Over capacity: 10 points planned, 5 available.", "committed is 80% of the load; the guideline is 60%."}, expired: []string{}},
		{name: "shares round to a tenth", alloc: guide,
			items: []*work.Item{plannedItem("BAL-1", work.KindDevelopment, 5, ""), plannedItem("BAL-2", work.KindResearch, 2, "")},
			load:  7, cats: [3]cat{{5, 71.4, true}, {2, 28.6, false}, {0, 0, false}},
			warnings: []string{"committed is 71% of the load; the guideline is 60%."}, expired: []string{}},
		{name: "no capacity is never over", alloc: guide,
			items: []*work.Item{plannedItem("BAL-1", work.KindDevelopment, 13, "")},
			load:  13, cats: [3]cat{{13, 100, true}, {0, 0, true}, {0, 0, false}},
			warnings: []string{"committed is 100% of the load; the guideline is 60%.", "experiments is 0% of the load; the guideline is 30%."}, expired: []string{}},
		{name: "an empty sprint warns of nothing", capacity: map[string]int{"ada": 0}, alloc: guide,
			cats: [3]cat{{0, 0, false}, {0, 0, false}, {0, 0, false}}, warnings: []string{}, expired: []string{}},
		{name: "unestimated items add nothing", capacity: map[string]int{"ada": 3}, alloc: work.Allocation{Committed: 100},
			items: []*work.Item{plannedItem("BAL-1", work.KindMaintenance, 0, ""), plannedItem("BAL-2", work.KindMaintenance, 3, "")},
			load:  3, cats: [3]cat{{3, 100, false}, {0, 0, false}, {0, 0, false}}, warnings: []string{}, expired: []string{}},
		{name: "past its time box", capacity: map[string]int{"ada": 1}, alloc: work.Allocation{Experiments: 100},
			items: []*work.Item{expired},
			load:  2, cats: [3]cat{{0, 0, false}, {2, 100, false}, {0, 0, false}}, over: true,
			warnings: []string{"Over capacity: 2 points planned, 1 available.", "BAL-9 is past its time box and needs a decision."}, expired: []string{"BAL-9"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sp := &work.Sprint{Name: "S", Capacity: c.capacity}
			plan := work.ComputePlan(sp, c.items, c.alloc)
			capacity := 0
			for _, v := range c.capacity {
				capacity += v
			}
			if plan.Sprint != sp || len(plan.Items) != len(c.items) || plan.Capacity != capacity || plan.Load != c.load || plan.OverCapacity != c.over {
				t.Errorf("capacity %d load %d over %v, want %d %d %v", plan.Capacity, plan.Load, plan.OverCapacity, capacity, c.load, c.over)
			}
			guides := []int{c.alloc.Committed, c.alloc.Experiments, c.alloc.Learning}
			if len(plan.Categories) != 3 {
				t.Fatalf("categories %+v", plan.Categories)
			}
			for i, got := range plan.Categories {
				want := work.CategoryLoad{Category: work.Categories[i], Points: c.cats[i].points, Percent: c.cats[i].percent, Guideline: guides[i], Off: c.cats[i].off}
				if got != want {
					t.Errorf("category %d = %+v, want %+v", i, got, want)
				}
			}
			if !slices.Equal(plan.Warnings, c.warnings) || !slices.Equal(plan.Expired, c.expired) {
				t.Errorf("warnings %q expired %q, want %q %q", plan.Warnings, plan.Expired, c.warnings, c.expired)
			}
		})
	}
}

// series prints a burn series, "-" for a day without actuals.
func series(ps []*int) string {
	out := []string{}
	for _, p := range ps {
		if p == nil {
			out = append(out, "-")
		} else {
			out = append(out, fmt.Sprint(*p))
		}
	}
	return strings.Join(out, " ")
}

// sprintDays is the Unix seconds of each day from first to last.
func sprintDays(first, last string) []int64 {
	var out []int64
	for d := at(first, 0); !d.After(at(last, 0)); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Unix())
	}
	return out
}

func TestBurnOf(t *testing.T) {
	week := &work.Sprint{StartsAt: at("2026-03-02", 0), EndsAt: at("2026-03-06", 24).Add(-time.Millisecond)}
	day := func(d string, committed, done int) work.SprintDay {
		return work.SprintDay{Day: at(d, 0), Committed: committed, Done: done}
	}
	for _, c := range []struct {
		name                       string
		sp                         *work.Sprint
		days                       []work.SprintDay
		now                        time.Time
		committed, done, remaining string
		ideal                      []float64
	}{
		{name: "carries totals over days without a change", sp: week, now: at("2026-03-05", 10),
			days:      []work.SprintDay{day("2026-03-02", 10, 0), day("2026-03-04", 12, 5)},
			committed: "10 10 12 12", done: "0 0 5 5", remaining: "10 10 7 7", ideal: []float64{10, 7.5, 5, 2.5, 0}},
		{name: "the last day of the sprint counts in full", sp: week, now: at("2026-03-06", 23),
			days:      []work.SprintDay{day("2026-03-02", 8, 0), day("2026-03-06", 8, 8)},
			committed: "8 8 8 8 8", done: "0 0 0 0 8", remaining: "8 8 8 8 0", ideal: []float64{8, 6, 4, 2, 0}},
		{name: "after the end the actuals stop at the end", sp: week, now: at("2026-03-20", 0),
			days:      []work.SprintDay{day("2026-03-02", 4, 1), day("2026-03-09", 4, 4)},
			committed: "4 4 4 4 4", done: "1 1 1 1 1", remaining: "3 3 3 3 3", ideal: []float64{4, 3, 2, 1, 0}},
		{name: "a day recorded before the start counts from the start", sp: week, now: at("2026-03-03", 12),
			days:      []work.SprintDay{day("2026-02-27", 8, 0), day("2026-03-03", 8, 3)},
			committed: "8 8", done: "0 3", remaining: "8 5", ideal: []float64{8, 6, 4, 2, 0}},
		{name: "before the start nothing is claimed", sp: week, now: at("2026-03-01", 12),
			days:      []work.SprintDay{day("2026-02-27", 8, 0)},
			committed: "", done: "", remaining: "", ideal: []float64{8, 6, 4, 2, 0}},
		{name: "nothing recorded", sp: week, now: at("2026-03-04", 12),
			committed: "- - -", done: "- - -", remaining: "- - -", ideal: []float64{0, 0, 0, 0, 0}},
		{name: "a one-day sprint", sp: &work.Sprint{StartsAt: at("2026-03-02", 0), EndsAt: at("2026-03-02", 24).Add(-time.Millisecond)},
			now: at("2026-03-02", 18), days: []work.SprintDay{day("2026-03-02", 5, 2)},
			committed: "5", done: "2", remaining: "3", ideal: []float64{0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := work.BurnOf(c.sp, c.days, c.now)
			if want := sprintDays(c.sp.StartsAt.Format(time.DateOnly), c.sp.EndsAt.Format(time.DateOnly)); !slices.Equal(b.Days, want) {
				t.Errorf("days %v, want %v", b.Days, want)
			}
			if series(b.Committed) != c.committed || series(b.Done) != c.done || series(b.Remaining) != c.remaining {
				t.Errorf("committed %q done %q remaining %q, want %q %q %q",
					series(b.Committed), series(b.Done), series(b.Remaining), c.committed, c.done, c.remaining)
			}
			if !slices.Equal(b.Ideal, c.ideal) {
				t.Errorf("ideal %v, want %v", b.Ideal, c.ideal)
			}
		})
	}
}

func TestCreateSprint(t *testing.T) { storetest.Backends(t, testCreateSprint) }

func testCreateSprint(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	s1 := mustSprint(t, e, work.NewSprint{Name: " Sprint 1 ", Goal: "ship the scorer", StartsOn: "2026-03-02", EndsOn: " 2026-03-13",
		Capacity: map[string]int{"ada": 10, " @Bob": 1000, "cy": 0}})
	want := work.Sprint{ID: s1.ID, ProjectID: e.p.ID, Name: "Sprint 1", Goal: "ship the scorer", StartsAt: at("2026-03-02", 0),
		EndsAt: at("2026-03-13", 24).Add(-time.Millisecond), State: work.SprintPlanned, CreatedAt: e.now}
	wantCap := map[string]int{"ada": 10, "bob": 1000, "cy": 0}
	for _, got := range []*work.Sprint{s1, mustFindSprint(t, e, "sprint 1"), mustFindSprint(t, e, s1.ID)} {
		if !maps.Equal(got.Capacity, wantCap) || got.Snapshot != nil {
			t.Errorf("capacity %v snapshot %+v, want %v and none", got.Capacity, got.Snapshot, wantCap)
		}
		got.Capacity = nil
		if !got.StartsAt.Equal(want.StartsAt) || !got.EndsAt.Equal(want.EndsAt) || !got.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("times %v %v %v, want %v %v %v", got.StartsAt, got.EndsAt, got.CreatedAt, want.StartsAt, want.EndsAt, want.CreatedAt)
		}
		got.StartsAt, got.EndsAt, got.CreatedAt = want.StartsAt, want.EndsAt, want.CreatedAt
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("sprint %+v, want %+v", *got, want)
		}
	}
	one := mustSprint(t, e, work.NewSprint{Name: "One day", StartsOn: "2026-02-27", EndsOn: "2026-02-27"})
	if !one.EndsAt.Equal(at("2026-02-27", 24).Add(-time.Millisecond)) || len(one.Capacity) != 0 {
		t.Errorf("one-day sprint %+v", one)
	}
	for _, c := range []struct {
		in    work.NewSprint
		field string
	}{
		{work.NewSprint{Name: " ", StartsOn: "2026-03-16", EndsOn: "2026-03-27"}, "name"},
		{work.NewSprint{Name: strings.Repeat("n", 101), StartsOn: "2026-03-16", EndsOn: "2026-03-27"}, "name"},
		{work.NewSprint{Name: "Sprint 1", StartsOn: "2026-03-16", EndsOn: "2026-03-27"}, "name"},
		{work.NewSprint{Name: "S", Goal: strings.Repeat("g", 2001), StartsOn: "2026-03-16", EndsOn: "2026-03-27"}, "goal"},
		{work.NewSprint{Name: "S", StartsOn: "2026-3-16", EndsOn: "2026-03-27"}, "starts_on"},
		{work.NewSprint{Name: "S", StartsOn: "2026-03-16"}, "ends_on"},
		{work.NewSprint{Name: "S", StartsOn: "2026-03-27", EndsOn: "2026-03-26"}, "ends_on"},
		{work.NewSprint{Name: "S", StartsOn: "2026-03-16", EndsOn: "2026-03-27", Capacity: map[string]int{"dan": 3}}, "capacity"},
		{work.NewSprint{Name: "S", StartsOn: "2026-03-16", EndsOn: "2026-03-27", Capacity: map[string]int{"bob": -1}}, "capacity"},
		{work.NewSprint{Name: "S", StartsOn: "2026-03-16", EndsOn: "2026-03-27", Capacity: map[string]int{"bob": 1001}}, "capacity"},
	} {
		_, err := e.ws.CreateSprint(e.ctx, e.p, c.in)
		wantInvalid(t, err, c.field)
	}
	// Sprints come by start date, and the refused ones are not among them.
	var names []string
	for _, sp := range mustSprints(t, e) {
		names = append(names, sp.Name)
	}
	if want := []string{"One day", "Sprint 1"}; !slices.Equal(names, want) {
		t.Errorf("sprints %q, want %q", names, want)
	}
	_, err := e.ws.Sprint(e.ctx, e.p, "Sprint 9")
	wantCode(t, err, "not_found")
}

func mustFindSprint(tb testing.TB, e *env, ref string) *work.Sprint {
	tb.Helper()
	sp, err := e.ws.Sprint(e.ctx, e.p, ref)
	if err != nil {
		tb.Fatalf("sprint %s: %v", ref, err)
	}
	return sp
}

func mustSprints(tb testing.TB, e *env) []*work.Sprint {
	tb.Helper()
	sps, err := e.ws.Sprints(e.ctx, e.p)
	if err != nil {
		tb.Fatal(err)
	}
	return sps
}

func TestUpdateSprint(t *testing.T) { storetest.Backends(t, testUpdateSprint) }

func testUpdateSprint(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	s1 := mustSprint(t, e, work.NewSprint{Name: "Sprint 1", Goal: "g1", StartsOn: "2026-03-02", EndsOn: "2026-03-13", Capacity: map[string]int{"ada": 10}})
	mustSprint(t, e, work.NewSprint{Name: "Sprint 2", StartsOn: "2026-03-16", EndsOn: "2026-03-27"})
	for _, c := range []struct {
		upd   work.SprintUpdate
		field string
	}{
		{work.SprintUpdate{Name: ptr("  ")}, "name"},
		{work.SprintUpdate{Name: ptr(strings.Repeat("n", 101))}, "name"},
		{work.SprintUpdate{Name: ptr("Sprint 2")}, "name"},
		{work.SprintUpdate{Goal: ptr(strings.Repeat("g", 2001))}, "goal"},
		{work.SprintUpdate{Goal: ptr("fine"), Capacity: &map[string]int{"ada": 3, "dan": 3}}, "capacity"},
		{work.SprintUpdate{Capacity: &map[string]int{"ada": 1001}}, "capacity"},
	} {
		_, err := e.ws.UpdateSprint(e.ctx, e.p, "Sprint 1", c.upd)
		wantInvalid(t, err, c.field)
	}
	// A refused update changes nothing.
	if got := mustFindSprint(t, e, s1.ID); got.Name != "Sprint 1" || got.Goal != "g1" || !maps.Equal(got.Capacity, map[string]int{"ada": 10}) {
		t.Fatalf("after refused updates %+v", got)
	}
	up, err := e.ws.UpdateSprint(e.ctx, e.p, "sprint 1", work.SprintUpdate{Name: ptr(" Sprint One "), Capacity: &map[string]int{"@ADA": 6, "bob": 4}})
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*work.Sprint{up, mustFindSprint(t, e, s1.ID)} {
		if got.Name != "Sprint One" || got.Goal != "g1" || !maps.Equal(got.Capacity, map[string]int{"ada": 6, "bob": 4}) || got.State != work.SprintPlanned {
			t.Errorf("updated %+v", got)
		}
	}
	// An empty capacity clears it; the goal may be emptied.
	up, err = e.ws.UpdateSprint(e.ctx, e.p, s1.ID, work.SprintUpdate{Goal: ptr(""), Capacity: &map[string]int{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustFindSprint(t, e, "Sprint One"); got.Goal != "" || len(got.Capacity) != 0 || up.Name != "Sprint One" {
		t.Errorf("cleared %+v", got)
	}
	_, err = e.ws.UpdateSprint(e.ctx, e.p, "Sprint 1", work.SprintUpdate{Goal: ptr("x")})
	wantCode(t, err, "not_found")
}

func TestPlanSprint(t *testing.T) { storetest.Backends(t, testPlanSprint) }

func testPlanSprint(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	if _, err := e.ws.SetPlanning(e.ctx, e.p, work.Planning{PointScale: work.ScaleFibonacci, Allocation: work.Allocation{Committed: 50, Experiments: 40, Learning: 10}}); err != nil {
		t.Fatal(err)
	}
	s1 := mustSprint(t, e, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-06", Capacity: map[string]int{"ada": 8, "@Bob ": 4}})
	mustSprint(t, e, work.NewSprint{Name: "S2", StartsOn: "2026-03-09", EndsOn: "2026-03-13"})
	dev := mustItem(t, e, work.NewItem{Kind: work.KindDevelopment, Title: "serve", Points: 8, Sprint: "S1"})
	ops := mustItem(t, e, work.NewItem{Kind: work.KindMaintenance, Title: "retrain", TimeBox: "2d", Sprint: s1.ID})
	exp := mustItem(t, e, work.NewItem{Kind: work.KindExperiment, Title: "mosaic", Hypothesis: "We believe mosaic helps", TimeBox: "4h",
		Status: "In progress", Sprint: "S1"})
	read := mustItem(t, e, work.NewItem{Kind: work.KindResearch, Title: "papers", TimeBox: "1w", Labels: []string{"learning"}, Sprint: "S1"})
	mustItem(t, e, work.NewItem{Kind: work.KindDevelopment, Title: "later", Points: 13, Sprint: "S2"})
	mustItem(t, e, work.NewItem{Kind: work.KindDevelopment, Title: "someday", Points: 21})

	// Four hours and a minute after the experiment started, its time box is over.
	e.now = e.now.Add(4*time.Hour + time.Minute)
	plan, err := e.ws.PlanSprint(e.ctx, e.p, "s1")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range plan.Items {
		keys = append(keys, it.Key)
	}
	if want := []string{dev.Key, ops.Key, exp.Key, read.Key}; !slices.Equal(keys, want) || plan.Sprint.ID != s1.ID {
		t.Errorf("plan items %v of %s, want %v of %s", keys, plan.Sprint.ID, want, s1.ID)
	}
	// 8 + 2 committed, 1 experiment hour-box, 7 learning days: 18 of 12.
	if plan.Capacity != 12 || plan.Load != 18 || !plan.OverCapacity {
		t.Errorf("capacity %d load %d over %v", plan.Capacity, plan.Load, plan.OverCapacity)
	}
	wantCats := []work.CategoryLoad{{Category: work.CatCommitted, Points: 10, Percent: 55.6, Guideline: 50},
		{Category: work.CatExperiments, Points: 1, Percent: 5.6, Guideline: 40, Off: true},
		{Category: work.CatLearning, Points: 7, Percent: 38.9, Guideline: 10, Off: true}}
	if !slices.Equal(plan.Categories, wantCats) {
		t.Errorf("categories %+v, want %+v", plan.Categories, wantCats)
	}
	wantWarn := []string{"Over capacity: 18 points planned, 12 available.", "experiments is 6% of the load; the guideline is 40%.",
		"learning is 39% of the load; the guideline is 10%.", exp.Key + " is past its time box and needs a decision."}
	if !slices.Equal(plan.Warnings, wantWarn) || !slices.Equal(plan.Expired, []string{exp.Key}) {
		t.Errorf("warnings %q expired %q", plan.Warnings, plan.Expired)
	}
	// Raising the capacity ends the warning about it.
	if _, err := e.ws.UpdateSprint(e.ctx, e.p, "S1", work.SprintUpdate{Capacity: &map[string]int{"ada": 18}}); err != nil {
		t.Fatal(err)
	}
	if plan, err = e.ws.PlanSprint(e.ctx, e.p, s1.ID); err != nil || plan.OverCapacity || plan.Capacity != 18 || len(plan.Warnings) != 3 {
		t.Errorf("at capacity: %+v %v", plan, err)
	}
	_, err = e.ws.PlanSprint(e.ctx, e.p, "S3")
	wantCode(t, err, "not_found")
}

// doneItem moves key to Done with every point of its kind's default
// Definition of Done checked.
func doneItem(tb testing.TB, e *env, it *work.Item) {
	tb.Helper()
	mustUpdate(tb, e, it.Key, work.ItemUpdate{Status: ptr("Done"), DoDChecked: ptr(work.DefaultDoD[it.Kind])})
}

func mustDays(tb testing.TB, e *env, sprintID string) string {
	tb.Helper()
	days, err := e.db.FindSprintDays(e.ctx, sprintID)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, d := range days {
		out = append(out, fmt.Sprintf("%s %d/%d", d.Day.UTC().Format(time.DateOnly), d.Committed, d.Done))
	}
	return strings.Join(out, ", ")
}

func mustBurn(tb testing.TB, e *env, ref string) *work.Burn {
	tb.Helper()
	b, err := e.ws.SprintBurn(e.ctx, e.p, ref)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// sprintKeys lists the keys of the items in sprint id ("none": the backlog).
func sprintKeys(tb testing.TB, e *env, id string) []string {
	tb.Helper()
	items, err := e.ws.Items(e.ctx, e.p, work.ItemFilter{SprintID: id})
	if err != nil {
		tb.Fatal(err)
	}
	keys := []string{}
	for _, it := range items {
		keys = append(keys, it.Key)
	}
	return keys
}

func TestSprintLifecycle(t *testing.T) { storetest.Backends(t, testSprintLifecycle) }

// testSprintLifecycle steps a sprint through its week: start, work done
// and added on later days, close with the unfinished items moving on.
func testSprintLifecycle(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	s1 := mustSprint(t, e, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-06", Capacity: map[string]int{"ada": 10, "bob": 5}})
	s2 := mustSprint(t, e, work.NewSprint{Name: "S2", StartsOn: "2026-03-09", EndsOn: "2026-03-13"})
	dev := mustItem(t, e, work.NewItem{Kind: work.KindDevelopment, Title: "serve", Points: 5, Sprint: "S1", Assignees: []string{"bob"}})
	ops := mustItem(t, e, work.NewItem{Kind: work.KindMaintenance, Title: "retrain", Points: 3, Sprint: "S1"})
	exp := mustItem(t, e, work.NewItem{Kind: work.KindExperiment, Title: "mosaic", Hypothesis: "We believe mosaic helps", TimeBox: "2d", Sprint: "S1"})
	read := mustItem(t, e, work.NewItem{Kind: work.KindResearch, Title: "papers", TimeBox: "4h", Labels: []string{"learning"}, Sprint: "S1"})
	if got := mustDays(t, e, s1.ID); got != "" {
		t.Errorf("a planned sprint recorded %q", got)
	}
	_, err := e.ws.CloseSprint(e.ctx, e.p, "S1", "backlog")
	wantCode(t, err, "conflict")

	started, err := e.ws.StartSprint(e.ctx, e.p, "S1")
	if err != nil || started.State != work.SprintActive {
		t.Fatalf("start: %+v %v", started, err)
	}
	if act, err := e.ws.ActiveSprint(e.ctx, e.p); err != nil || act == nil || act.ID != s1.ID {
		t.Fatalf("active sprint %+v %v", act, err)
	}
	for _, ref := range []string{"S1", "S2"} { // one active sprint at a time
		_, err = e.ws.StartSprint(e.ctx, e.p, ref)
		wantCode(t, err, "conflict")
	}
	e.now = at("2026-03-03", 10)
	doneItem(t, e, ops)
	e.now = at("2026-03-03", 15)
	late := mustItem(t, e, work.NewItem{Kind: work.KindMaintenance, Title: "hotfix", Points: 2, Sprint: "S1"})
	e.now = at("2026-03-05", 11)
	doneItem(t, e, dev)
	// An item outside the sprint changes nothing in it.
	mustItem(t, e, work.NewItem{Kind: work.KindDevelopment, Title: "elsewhere", Points: 8, Sprint: "S2"})
	if got, want := mustDays(t, e, s1.ID), "2026-03-02 11/0, 2026-03-03 13/3, 2026-03-05 13/8"; got != want {
		t.Errorf("recorded days %q, want %q", got, want)
	}
	b := mustBurn(t, e, "S1")
	if series(b.Committed) != "11 13 13 13" || series(b.Done) != "0 3 3 8" || series(b.Remaining) != "11 10 10 5" ||
		!slices.Equal(b.Ideal, []float64{11, 8.25, 5.5, 2.75, 0}) || !slices.Equal(b.Days, sprintDays("2026-03-02", "2026-03-06")) {
		t.Errorf("burn committed %q done %q remaining %q ideal %v", series(b.Committed), series(b.Done), series(b.Remaining), b.Ideal)
	}

	e.now = at("2026-03-06", 17)
	_, err = e.ws.CloseSprint(e.ctx, e.p, "S1", "sideways")
	wantInvalid(t, err, "move_to")
	_, err = e.ws.CloseSprint(e.ctx, e.p, "S2", "next")
	wantCode(t, err, "conflict")
	closed, err := e.ws.CloseSprint(e.ctx, e.p, "S1", "next")
	if err != nil {
		t.Fatal(err)
	}
	wantSnap := work.SprintSnapshot{ClosedAt: e.now, Committed: map[string]int{"committed": 10, "experiments": 2, "learning": 1},
		Done: map[string]int{"committed": 8}, MovedTo: "S2"}
	for _, sp := range []*work.Sprint{closed, mustFindSprint(t, e, s1.ID)} {
		if sp.State != work.SprintClosed || sp.Snapshot == nil || !sp.Snapshot.ClosedAt.Equal(wantSnap.ClosedAt) || sp.Snapshot.MovedTo != wantSnap.MovedTo ||
			!maps.Equal(sp.Snapshot.Committed, wantSnap.Committed) || !maps.Equal(sp.Snapshot.Done, wantSnap.Done) {
			t.Errorf("closed %s %+v, want %+v", sp.State, sp.Snapshot, wantSnap)
		}
	}
	// The finished items stay; the unfinished ones move to the next sprint.
	if got := sprintKeys(t, e, s1.ID); !slices.Equal(got, []string{dev.Key, ops.Key}) {
		t.Errorf("left in S1: %v", got)
	}
	if got := sprintKeys(t, e, s2.ID); !slices.Equal(got, []string{exp.Key, read.Key, late.Key, "BAL-6"}) {
		t.Errorf("in S2: %v", got)
	}
	// The closing day is recorded before the items leave.
	if b := mustBurn(t, e, "S1"); series(b.Committed) != "11 13 13 13 13" || series(b.Done) != "0 3 3 8 8" {
		t.Errorf("burn after close: committed %q done %q", series(b.Committed), series(b.Done))
	}
	_, err = e.ws.CloseSprint(e.ctx, e.p, "S1", "next")
	wantCode(t, err, "conflict")
	_, err = e.ws.StartSprint(e.ctx, e.p, "S1")
	wantCode(t, err, "conflict")
	_, err = e.ws.UpdateItem(e.ctx, e.p, exp.Key, work.ItemUpdate{Sprint: ptr("S1")})
	wantInvalid(t, err, "sprint")

	// The next sprint starts with what moved; closing it without a
	// planned sprint after it sends the unfinished work to the backlog.
	e.now = at("2026-03-09", 9)
	if _, err := e.ws.StartSprint(e.ctx, e.p, s2.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := mustDays(t, e, s2.ID), "2026-03-09 13/0"; got != want {
		t.Errorf("S2 days %q, want %q", got, want)
	}
	e.now = at("2026-03-13", 16)
	_, err = e.ws.CloseSprint(e.ctx, e.p, "S2", "next")
	wantInvalid(t, err, "move_to")
	closed, err = e.ws.CloseSprint(e.ctx, e.p, "S2", "")
	if err != nil {
		t.Fatal(err)
	}
	if closed.Snapshot.MovedTo != "backlog" || len(closed.Snapshot.Done) != 0 || closed.Snapshot.Committed["committed"] != 10 {
		t.Errorf("S2 snapshot %+v", closed.Snapshot)
	}
	if got := sprintKeys(t, e, s2.ID); len(got) != 0 {
		t.Errorf("left in S2: %v", got)
	}
	if got := sprintKeys(t, e, "none"); !slices.Equal(got, []string{exp.Key, read.Key, late.Key, "BAL-6"}) {
		t.Errorf("back in the backlog: %v", got)
	}
	if act, err := e.ws.ActiveSprint(e.ctx, e.p); err != nil || act != nil {
		t.Errorf("active sprint after closing both: %+v %v", act, err)
	}
}

// Regression: sprint names were unique as written (the UNIQUE index) but
// are found case-insensitively (sprintIn), so "SPRINT 1" could be created
// beside "Sprint 1" and was then unreachable by name.
func TestSprintNamesUniqueInAnyCase(t *testing.T) {
	storetest.Backends(t, testSprintNamesUniqueInAnyCase)
}

func testSprintNamesUniqueInAnyCase(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	mustSprint(t, e, work.NewSprint{Name: "Sprint 1", StartsOn: "2026-03-02", EndsOn: "2026-03-13"})
	_, err := e.ws.CreateSprint(e.ctx, e.p, work.NewSprint{Name: "SPRINT 1", StartsOn: "2026-03-16", EndsOn: "2026-03-27"})
	wantInvalid(t, err, "name")
	mustSprint(t, e, work.NewSprint{Name: "Sprint 2", StartsOn: "2026-03-16", EndsOn: "2026-03-27"})
	_, err = e.ws.UpdateSprint(e.ctx, e.p, "Sprint 2", work.SprintUpdate{Name: ptr("sprint 1")})
	wantInvalid(t, err, "name")
}

// Regression: checkCapacity normalizes names ("@Bob" is bob) into a map,
// so two spellings of one member kept whichever the map iteration reached
// last.
func TestCapacityNamesOneMemberTwice(t *testing.T) {
	storetest.Backends(t, testCapacityNamesOneMemberTwice)
}

func testCapacityNamesOneMemberTwice(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	_, err := e.ws.CreateSprint(e.ctx, e.p, work.NewSprint{Name: "S", StartsOn: "2026-03-02", EndsOn: "2026-03-13",
		Capacity: map[string]int{"bob": 3, "@Bob": 5}})
	wantInvalid(t, err, "capacity")
}

// Regression: the ideal line was 0 on the days before the first recorded
// total (a sprint started a day late) and only then jumped up; it is the
// straight line from the sprint's first day.
func TestBurnIdealBeforeFirstRecord(t *testing.T) {
	sp := &work.Sprint{StartsAt: at("2026-03-02", 0), EndsAt: at("2026-03-06", 23)}
	b := work.BurnOf(sp, []work.SprintDay{{Day: at("2026-03-04", 0), Committed: 12, Done: 5}}, at("2026-03-05", 10))
	if want := []float64{12, 9, 6, 3, 0}; !slices.Equal(b.Ideal, want) {
		t.Errorf("ideal %v, want %v", b.Ideal, want)
	}
}
