package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/work"
)

// TestGoalsUI adds goals through the item and project pages' forms, logs
// runs, and finds the results on the item page (table, chart data), the
// boards' and sprint's badges, the decision form and the hypothesis log.
func TestGoalsUI(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("root", true)
	viewer := e.mustUser("vera", false)
	p := e.mustProject(s, "BAL", "Balloons")
	ctx := e.ctx(s)
	if _, err := e.projects.SetMember(ctx, p, "vera", auth.RoleViewer); err != nil {
		t.Fatal(err)
	}
	sp, err := e.work.CreateSprint(ctx, p, work.NewSprint{Name: "S1", StartsOn: "2026-11-01", EndsOn: "2026-11-13"})
	if err != nil {
		t.Fatal(err)
	}
	it, err := e.work.CreateItem(ctx, p, work.NewItem{Kind: work.KindExperiment, Title: "Focal loss", TimeBox: "2d", Sprint: "S1",
		Hypothesis: "We believe focal loss will raise recall, measured by recall@0.5"})
	if err != nil {
		t.Fatal(err)
	}
	page := "/p/BAL/items/" + it.Key

	w := e.get(page, s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `id="goals-title">Goals<`, "No goals yet", `action="/p/BAL/items/`+it.Key+`/goals"`)

	// The form names the field at fault and keeps what was typed.
	add := func(v url.Values) *httptest.ResponseRecorder { return e.post(page+"/goals", s, v) }
	w = add(url.Values{"metric": {"recall"}, "comparator": {"at least"}, "threshold": {"lots"}, "dataset": {"balloons"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="g-threshold-error">Threshold must be a number`, `value="balloons"`)
	w = add(url.Values{"metric": {""}, "comparator": {"at least"}, "threshold": {"0.8"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="g-metric-error">Metric is required.`)
	// Viewers cannot add; other items do not exist.
	w = e.post(page+"/goals", viewer, url.Values{"metric": {"recall"}, "comparator": {"at least"}, "threshold": {"0.8"}})
	wantStatus(t, w, http.StatusForbidden)
	w = e.post("/p/BAL/items/BAL-99/goals", s, url.Values{"metric": {"recall"}, "comparator": {"at least"}, "threshold": {"0.8"}})
	wantStatus(t, w, http.StatusNotFound)

	wantRedirect(t, add(url.Values{"metric": {"recall"}, "comparator": {"at least"}, "threshold": {"80%"}, "dataset": {"balloons"},
		"dataset_version": {"v3"}, "note": {"on the test split"}}), page+"?ok=goal-added#goals")
	wantRedirect(t, add(url.Values{"metric": {"loss"}, "comparator": {"at most"}, "threshold": {"0.3"}}), page+"?ok=goal-added#goals")
	w = e.get(page, s)
	wantBody(t, w, "recall at least 0.8", "on the test split", "balloons", `<span class="badge">v3</span>`, `data-goal-status="no-data"`, `data-goal-summary="0/2"`,
		"judged on finished runs linked to "+it.Key+" that used balloons v3", "no run on balloons v3 yet", "no finished run has logged loss yet")

	// Runs: the first within sprint S1 misses recall, the second meets both.
	if _, err := e.track.CreateExperiment(ctx, p, "detector", "", nil); err != nil {
		t.Fatal(err)
	}
	logRun := func(name string, at time.Time, metrics map[string]float64) *tracking.Run {
		t.Helper()
		r, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "1", Name: name, StartTime: at.UnixMilli(), Tags: []tracking.Tag{{Key: tracking.TagItem, Value: it.Key}}})
		if err != nil {
			t.Fatal(err)
		}
		var b tracking.Batch
		for k, v := range metrics {
			b.Metrics = append(b.Metrics, tracking.Metric{Key: k, Value: v, Timestamp: at.UnixMilli()})
		}
		if err := e.track.LogBatch(ctx, p, r.Info.ID, b); err != nil {
			t.Fatal(err)
		}
		// Trained on balloons v3, the recall goal's dataset, and finished.
		in := tracking.DatasetInput{Dataset: tracking.Dataset{Name: "balloons", Digest: "v3", SourceType: "local", Source: "b.csv"}}
		if err := e.track.LogInputs(ctx, p, r.Info.ID, []tracking.DatasetInput{in}); err != nil {
			t.Fatal(err)
		}
		finished := "FINISHED"
		if _, err := e.track.UpdateRun(ctx, p, r.Info.ID, tracking.RunUpdate{Status: &finished}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1 := logRun("gamma 2", time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), map[string]float64{"recall": 0.74, "loss": 0.25})
	// A later run still training would meet recall: it shows, but does not
	// decide.
	training, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "1", Name: "gamma 3", StartTime: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC).UnixMilli(),
		Tags: []tracking.Tag{{Key: tracking.TagItem, Value: it.Key}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.track.LogBatch(ctx, p, training.Info.ID, tracking.Batch{Metrics: []tracking.Metric{{Key: "recall", Value: 0.9, Timestamp: 1}}}); err != nil {
		t.Fatal(err)
	}
	v3 := tracking.DatasetInput{Dataset: tracking.Dataset{Name: "balloons", Digest: "v3", SourceType: "local", Source: "b.csv"}}
	if err := e.track.LogInputs(ctx, p, training.Info.ID, []tracking.DatasetInput{v3}); err != nil {
		t.Fatal(err)
	}
	w = e.get(page, s)
	checkPage(t, w)
	wantBody(t, w, `data-goal-status="not-met"`, `data-goal-status="met"`, `data-goal-summary="1/2"`, `data-goal-provisional>provisional 0.9 in <a href="/p/BAL/runs/`+training.Info.ID+`">gamma 3</a>, still training`,
		`0.74 <span class="muted">in</span> <a href="/p/BAL/runs/`+r1.Info.ID+`">gamma 2</a>`, "data-goal-charts=", `src="/static/goals.`,
		"Goal results now", `data-goal-result="not met"`)
	// The chart data: the runs in start order against the threshold, and
	// the best per sprint.
	if !strings.Contains(w.Body.String(), `&#34;threshold&#34;:0.8,&#34;runs&#34;:[{&#34;name&#34;:&#34;gamma 2&#34;,&#34;value&#34;:0.74}],&#34;sprints&#34;:[{&#34;name&#34;:&#34;S1&#34;,&#34;best&#34;:0.74}]`) {
		t.Errorf("chart data missing: %s", w.Body.String()[strings.Index(w.Body.String(), "data-goal-charts"):][:400])
	}

	// Board, experiment board and sprint page show the progress badge.
	for _, target := range []string{"/p/BAL/board", "/p/BAL/board?sprint=S1", "/p/BAL/experiments", "/p/BAL/sprints/" + sp.ID} {
		w = e.get(target, viewer)
		wantStatus(t, w, http.StatusOK)
		wantBody(t, w, `data-goal-progress="1/2" data-goal-status="unmet"`, "goals 1/2")
	}
	logRun("gamma 5", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), map[string]float64{"recall": 0.83, "loss": 0.2})
	w = e.get("/p/BAL/board", viewer)
	wantBody(t, w, `class="badge goal-badge goal-all-met" data-goal-progress="2/2" data-goal-status="met"`)

	// Viewers see the goals but no form and no delete buttons.
	w = e.get(page, viewer)
	wantBody(t, w, "recall at least 0.8")
	wantNoBody(t, w, "data-goal-form", "/delete")

	// Project goals on the project page.
	w = e.post("/p/BAL/goals", s, url.Values{"metric": {"recall"}, "comparator": {"more than"}, "threshold": {""}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="goals-title">Project goals<`, "Threshold is required")
	// A project goal names the runs it is judged on, not every run of the project.
	w = e.post("/p/BAL/goals", s, url.Values{"metric": {"recall"}, "comparator": {"more than"}, "threshold": {"0.9"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="g-experiment-error">`, "runs you choose", `value="0.9"`)
	wantRedirect(t, e.post("/p/BAL/goals", s, url.Values{"metric": {"recall"}, "comparator": {"more than"}, "threshold": {"0.9"},
		"experiment": {"detector"}}), "/p/BAL/goals?ok=goal-added#goals")
	w = e.get("/p/BAL", s)
	checkPage(t, w)
	wantBody(t, w, "recall more than 0.9", `data-goal-status="not-met"`, "of the project", "judged on finished runs of experiment detector")

	// The Goals page: the project's goals and every item with goals, at a glance.
	w = e.get("/p/BAL/goals", viewer)
	checkPage(t, w)
	wantBody(t, w, `id="goals-title">Project goals <`, "recall more than 0.9", `data-goal-status="not-met"`,
		`<tr data-key="`+it.Key+`">`, `data-goal-progress="2/2" data-goal-status="met"`, "1 of 1 with every goal met")
	wantNoBody(t, w, "Goals arrive with", "data-goal-form")

	// A decision keeps the results of its moment.
	wantRedirect(t, e.post(page+"/decide", s, url.Values{"outcome": {"abandon"}, "verdict": {"refuted"}, "reason": {"not enough"}}), page+"?ok=decided")
	w = e.get(page, s)
	wantBody(t, w, "Goals when decided", `data-goal-result="met"`)
	w = e.get("/p/BAL/experiments/log", viewer)
	wantBody(t, w, "data-goal-evidence>recall at least 0.8: met (latest 0.83, best 0.83)<")

	// Deleting a goal goes back to its page.
	gs, err := e.goals.Goals(ctx, p, it.Key)
	if err != nil || len(gs) != 2 {
		t.Fatalf("goals %v %v", gs, err)
	}
	// Editing a goal in its row: the form shows every digit, a change applies
	// at once, a bad value is refused with the reason and changes nothing.
	w = e.get(page, s)
	wantBody(t, w, `action="/p/BAL/goals/`+gs[0].ID+`/edit"`, `name="threshold" required size="8" inputmode="decimal" value="0.8"`)
	edit := url.Values{"metric": {"recall"}, "comparator": {"at least"}, "threshold": {"85%"}, "dataset": {"balloons"}, "dataset_version": {"v3"}}
	wantStatus(t, e.post("/p/BAL/goals/"+gs[0].ID+"/edit", viewer, edit), http.StatusForbidden)
	wantRedirect(t, e.post("/p/BAL/goals/"+gs[0].ID+"/edit", s, edit), page+"?ok=goal-changed#goals")
	w = e.get(page+"?ok=goal-changed", s)
	wantBody(t, w, "recall at least 0.85", "Goal changed.")
	edit.Set("threshold", "lots")
	w = e.post("/p/BAL/goals/"+gs[0].ID+"/edit", s, edit)
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, "not changed: threshold must be a number")
	if g, err := e.goals.Goal(ctx, p, gs[0].ID); err != nil || g.Threshold != 0.85 {
		t.Fatalf("after a refused edit: %+v %v", g, err)
	}
	wantStatus(t, e.post("/p/BAL/goals/"+gs[0].ID+"/delete", viewer, nil), http.StatusForbidden)
	wantRedirect(t, e.post("/p/BAL/goals/"+gs[0].ID+"/delete", s, nil), page+"?ok=goal-deleted#goals")
	wantStatus(t, e.post("/p/BAL/goals/"+gs[0].ID+"/delete", s, nil), http.StatusNotFound)
	if left, _ := e.goals.Goals(ctx, p, it.Key); len(left) != 1 || left[0].Metric != "loss" {
		t.Errorf("after delete: %+v", left)
	}
}

// TestGoalChartSprints lays the best value per sprint out in sprint order,
// each from the runs started within that sprint.
func TestGoalChartSprints(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	sprints := []*work.Sprint{
		{ID: "s6", Name: "Sprint 6", StartsAt: day(2), EndsAt: day(13)},
		{ID: "s7", Name: "Sprint 7", StartsAt: day(16), EndsAt: day(27)},
	}
	obs := func(d int, v float64) goal.Observation {
		return goal.Observation{RunID: "run" + time.Duration(d).String(), At: day(d).Add(time.Hour).UnixMilli(), Value: speccheck.Value{V: v, Defined: true}}
	}
	g := goal.Goal{Metric: "recall", Comparator: speccheck.AtLeast, Threshold: 0.8}
	c := chartOf(goal.GoalResult{Goal: g, Observations: []goal.Observation{obs(3, 0.71), obs(5, 0.76), obs(17, 0.81), obs(20, 0.78), obs(30, 0.9)}}, sprints)
	want := []sprintPoint{{Name: "Sprint 6", Best: 0.76}, {Name: "Sprint 7", Best: 0.81}}
	if len(c.Sprints) != len(want) || c.Sprints[0] != want[0] || c.Sprints[1] != want[1] {
		t.Errorf("sprints %+v, want %+v", c.Sprints, want)
	}
	if len(c.Runs) != 5 {
		t.Errorf("runs %+v, want all 5", c.Runs)
	}
}
