package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/work"
)

// TestGoalsAPI checks stored goals' validation, each error naming its
// field, and access by role and project. internal/cli's TestGoals drives
// the rest of their life through trellis goal.
func TestGoalsAPI(t *testing.T) { apptest.Backends(t, testGoalsAPI) }

func testGoalsAPI(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	const p = "/api/v1/projects/BAL"
	var exp work.Item
	a.MustCall("editor", "POST", p+"/items", `{"kind":"experiment","title":"Mosaic","hypothesis":"We believe mosaic raises accuracy","time_box":"2d"}`, &exp)
	goals := p + "/items/" + exp.Key + "/goals"
	const good = `{"metric":"accuracy","comparator":"at least","threshold":0.9}`
	a.Check(t, []apptest.Case{
		{User: "editor", Method: "POST", Path: goals, Body: `{"comparator":"at least","threshold":0.9}`, Status: 400, Field: "metric"},
		{User: "editor", Method: "POST", Path: goals, Body: `{"metric":"accuracy","comparator":"roughly","threshold":0.9}`, Status: 400, Field: "comparator"},
		{User: "editor", Method: "POST", Path: goals, Body: `{"metric":"accuracy","comparator":"at least"}`, Status: 400, Field: "threshold"},
		{User: "editor", Method: "POST", Path: goals, Body: `{"metric":"accuracy","comparator":"at least","threshold":"high"}`, Status: 400, Field: "threshold"},
		{User: "editor", Method: "POST", Path: goals, Body: `{"metric":"accuracy","comparator":"at least","threshold":1,"colour":"red"}`, Status: 400, Field: "colour"},
		{User: "viewer", Method: "POST", Path: goals, Body: good, Status: 403},
		{User: "owner-read", Method: "POST", Path: goals, Body: good, Status: 403},
		{User: "other", Method: "GET", Path: goals, Status: 404},
		{User: "editor", Method: "GET", Path: p + "/items/BAL-99/goals", Status: 404},
		{User: "editor", Method: "GET", Path: p + "/items/CAT-1/goals", Status: 404},
		{User: "editor", Method: "POST", Path: p + "/items/CAT-1/goals", Body: good, Status: 404},
		{User: "editor", Method: "GET", Path: p + "/items/BAL-99/goals/evaluation", Status: 404},
		{User: "editor", Method: "PATCH", Path: p + "/goals/nope", Body: `{"threshold":1}`, Status: 404},
		{User: "editor", Method: "DELETE", Path: p + "/goals/nope", Status: 404},
	})
}

// goalsSpec states three goals of item BAL-7's latest run.
const goalsSpec = `Feature: churn goals
  Scenario: ship it
    Given the latest run of item "BAL-7"
    Then metric "accuracy" should be at least 0.9
    And metric "loss" should be at most 0.35
    And metric "f1" should be at least 0.5
`

// TestGoalsEvaluate evaluates an item's goals on the real server as runs
// are logged over the MLflow REST surface: no data, then not met, then met
// when a better iteration arrives, with the best value and its run; bad
// requests name the field and the rule. internal/cli's TestSpecGoals runs
// the same through trellis spec goals.
func TestGoalsEvaluate(t *testing.T) { apptest.Backends(t, testGoalsEvaluate) }

func testGoalsEvaluate(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	body := func(spec string) string {
		b, _ := json.Marshal(map[string]string{"spec": spec, "name": "churn.feature"})
		return string(b)
	}
	type obs struct {
		RunID string   `json:"run_id"`
		Value *float64 `json:"value"`
	}
	type result struct {
		Item  string `json:"item"`
		Runs  int    `json:"runs"`
		Goals []struct {
			Text   string `json:"text"`
			Status string `json:"status"`
			Latest *obs   `json:"latest"`
			Best   *obs   `json:"best"`
		} `json:"goals"`
	}
	evaluate := func(user string) result {
		t.Helper()
		status, b := a.Do(user, "POST", "/api/v1/projects/BAL/goals/evaluate?item=BAL-7", strings.NewReader(body(goalsSpec)), "Content-Type", "application/json")
		var res result
		if status != 200 || json.Unmarshal(b, &res) != nil {
			t.Fatalf("evaluate as %s = %d %s", user, status, b)
		}
		return res
	}
	type want struct{ status, latest, best string }
	check := func(res result, runs int, ws ...want) {
		t.Helper()
		if res.Item != "BAL-7" || res.Runs != runs || len(res.Goals) != len(ws) {
			t.Fatalf("evaluation %+v, want %d runs and %d goals", res, runs, len(ws))
		}
		id := func(o *obs) string {
			if o == nil {
				return ""
			}
			return o.RunID
		}
		for i, w := range ws {
			g := res.Goals[i]
			if g.Status != w.status || id(g.Latest) != w.latest || id(g.Best) != w.best {
				t.Errorf("%s: %s latest %q best %q; want %+v", g.Text, g.Status, id(g.Latest), id(g.Best), w)
			}
		}
	}

	check(evaluate("viewer"), 0, want{"no data", "", ""}, want{"no data", "", ""}, want{"no data", "", ""})

	exp := a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", `{"name":"churn"}`)["experiment_id"].(string)
	first := a.LogRun(exp, "baseline", 1_700_000_000_000, map[string]string{"trellis.item": "BAL-7"},
		map[string][]float64{"accuracy": {0.5, 0.80}, "loss": {0.9, 0.3}})
	check(evaluate("viewer"), 1, want{"not met", first, first}, want{"met", first, first}, want{"no data", "", ""})

	second := a.LogRun(exp, "retrain for BAL-7", 1_700_000_100_000, nil,
		map[string][]float64{"accuracy": {0.70, 0.92}, "loss": {0.4}})
	deleted := a.LogRun(exp, "broken", 1_700_000_300_000, map[string]string{"trellis.item": "BAL-7"}, map[string][]float64{"accuracy": {0.99}})
	a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/delete", fmt.Sprintf(`{"run_id":%q}`, deleted))
	a.LogRun(exp, "other item", 1_700_000_400_000, map[string]string{"trellis.item": "BAL-8"}, map[string][]float64{"accuracy": {0.1}})
	res := evaluate("editor")
	// accuracy flips to met on the second run; loss regressed there (latest
	// 0.4, not met) while the best stays the first run's 0.3.
	check(res, 2, want{"met", second, second}, want{"not met", second, first}, want{"no data", "", ""})
	if v := res.Goals[1].Best.Value; v == nil || *v != 0.3 {
		t.Errorf("best loss = %v, want 0.3", v)
	}

	// Bad requests name the field and the rule; access follows the project.
	const evaluatePath = "/api/v1/projects/BAL/goals/evaluate"
	a.Check(t, []apptest.Case{
		{User: "viewer", Method: "POST", Path: evaluatePath, Body: body(goalsSpec), Status: 400, Field: "item"},
		{User: "viewer", Method: "POST", Path: evaluatePath + "?item=CAT-1", Body: body(goalsSpec), Status: 400, Field: "item", Contains: []string{"not in project BAL"}},
		{User: "viewer", Method: "POST", Path: evaluatePath + "?item=nope", Body: body(goalsSpec), Status: 400, Field: "item"},
		{User: "viewer", Method: "POST", Path: evaluatePath + "?item=BAL-7", Body: `{"spec":""}`, Status: 400, Field: "spec"},
		{User: "viewer", Method: "POST", Path: evaluatePath + "?item=BAL-7", Body: `{"spec":3}`, Status: 400, Field: "spec"},
		{User: "viewer", Method: "POST", Path: evaluatePath + "?item=BAL-7", Body: `{"spec":"x","extra":1}`, Status: 400, Field: "extra"},
		{User: "viewer", Method: "POST", Path: evaluatePath + "?item=BAL-7", Body: body("Feature: f\n  Scenario: s\n    Given the run \"x\"\n    Then metric \"a\" shuold be at least 1\n"),
			Status: 400, Field: "spec", Contains: []string{"churn.feature:4"}},
		{User: "viewer", Method: "POST", Path: evaluatePath + "?item=BAL-7", Body: body("Feature: f\n  Scenario: s\n    Given the run \"x\"\n"), Status: 400, Field: "spec", Contains: []string{"has no Then step"}},
		{User: "viewer", Method: "POST", Path: evaluatePath + "?item=BAL-7", Body: body("# just a comment\nFeature: f\n"), Status: 400, Field: "spec", Contains: []string{"states no goals"}},
		{User: "viewer", Method: "POST", Path: evaluatePath + "?item=BAL-7", Body: body(strings.Repeat("#", 2<<20)), Status: 413, Contains: []string{"larger than"}},
		{User: "", Method: "POST", Path: evaluatePath + "?item=BAL-7", Body: body(goalsSpec), Status: 401},
		{User: "other", Method: "POST", Path: evaluatePath + "?item=BAL-7", Body: body(goalsSpec), Status: 404},
		// Evaluation changes nothing: its route is read-only, so a
		// read-scoped token may call it.
		{User: "owner-read", Method: "POST", Path: evaluatePath + "?item=BAL-7", Body: body(goalsSpec), Status: 200, Contains: []string{`"status":"met"`}},
	})
}
