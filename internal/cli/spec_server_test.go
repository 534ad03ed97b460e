package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mlflow calls the real server's MLflow REST surface as user and decodes
// the answer, failing the test on anything but 200.
func (f *fixture) mlflow(user, method, path, body string) map[string]any {
	f.t.Helper()
	status, b := f.do(user, method, path, strings.NewReader(body), "Content-Type", "application/json")
	if status != http.StatusOK {
		f.t.Fatalf("%s %s = %d %s", method, path, status, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		f.t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
	return out
}

// logRun creates a run in experiment exp of project BAL with tags, logs
// each metric's history in order (the last value is the latest) and
// finishes it, as an MLflow client would. It returns the run id.
func (f *fixture) logRun(exp, name string, start int64, tags map[string]string, metrics map[string][]float64) string {
	f.t.Helper()
	tagJSON := []string{}
	for k, v := range tags {
		tagJSON = append(tagJSON, fmt.Sprintf(`{"key":%q,"value":%q}`, k, v))
	}
	out := f.mlflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/create",
		fmt.Sprintf(`{"experiment_id":%q,"run_name":%q,"start_time":%d,"tags":[%s]}`, exp, name, start, strings.Join(tagJSON, ",")))
	id := out["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	for k, vs := range metrics {
		for step, v := range vs {
			f.mlflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/log-metric",
				fmt.Sprintf(`{"run_id":%q,"key":%q,"value":%v,"timestamp":%d,"step":%d}`, id, k, v, start+int64(step), step))
		}
	}
	f.mlflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/update", fmt.Sprintf(`{"run_id":%q,"status":"FINISHED","end_time":%d}`, id, start+100))
	return id
}

// runMetrics reads a run back through runs/get: its latest metrics, tags
// and info.
func (f *fixture) runMetrics(user, id string) (metrics map[string]float64, tags map[string]string, info map[string]any) {
	f.t.Helper()
	run := f.mlflow(user, "GET", "/p/BAL/api/2.0/mlflow/runs/get?run_id="+id, "")["run"].(map[string]any)
	metrics, tags = map[string]float64{}, map[string]string{}
	data := run["data"].(map[string]any)
	if ms, ok := data["metrics"].([]any); ok {
		for _, m := range ms {
			m := m.(map[string]any)
			metrics[m["key"].(string)] = m["value"].(float64)
		}
	}
	if ts, ok := data["tags"].([]any); ok {
		for _, t := range ts {
			t := t.(map[string]any)
			tags[t["key"].(string)] = t["value"].(string)
		}
	}
	return metrics, tags, run["info"].(map[string]any)
}

// specEnv isolates the CLI from the developer's login and environment.
func specEnv(t *testing.T) {
	t.Helper()
	t.Setenv("TRELLIS_CLIENT_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	t.Setenv("TRELLIS_SERVER", "")
	t.Setenv("TRELLIS_TOKEN", "")
	t.Setenv("TRELLIS_PASSWORD", "")
}

type specJSON struct {
	Features []struct {
		Scenarios []struct {
			Name    string `json:"name"`
			Outcome string `json:"outcome"`
			RunID   string `json:"run_id"`
			Steps   []struct {
				Outcome string `json:"outcome"`
				Message string `json:"message"`
			} `json:"steps"`
		} `json:"scenarios"`
	} `json:"features"`
}

// TestSpecCheckRunSteps logs runs to the real server over the MLflow REST
// surface and checks run-based specs against them: a pinned run, the
// latest run linked to an item (by tag or by a mention of its key, never a
// deleted one, never another item's), --run, and the three ways to name
// the server and token.
func TestSpecCheckRunSteps(t *testing.T) { backends(t, testSpecCheckRunSteps) }

func testSpecCheckRunSteps(t *testing.T, db string) {
	f := startFixture(t, db)
	specEnv(t)
	exp := f.mlflow("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", `{"name":"churn"}`)["experiment_id"].(string)
	first := f.logRun(exp, "baseline", 1_700_000_000_000, map[string]string{"trellis.item": "BAL-7"},
		map[string][]float64{"accuracy": {0.5, 0.80}, "loss": {0.9, 0.4}})
	second := f.logRun(exp, "retrain for BAL-7", 1_700_000_100_000, nil, // linked by the mention only
		map[string][]float64{"accuracy": {0.70, 0.92}, "loss": {0.3}})
	f.logRun(exp, "other item", 1_700_000_200_000, map[string]string{"trellis.item": "BAL-8"}, map[string][]float64{"accuracy": {0.1}})
	deleted := f.logRun(exp, "broken", 1_700_000_300_000, map[string]string{"trellis.item": "BAL-7"}, map[string][]float64{"accuracy": {0.0}})
	f.mlflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/delete", fmt.Sprintf(`{"run_id":%q}`, deleted))

	dir := t.TempDir()
	feature := filepath.Join(dir, "churn.feature")
	if err := os.WriteFile(feature, []byte(`Feature: churn model
  Scenario: the pinned baseline
    Given the run "`+first+`"
    Then metric "accuracy" should be at least 0.85
    And metric "loss" should be at most 0.5

  Scenario: the latest iteration of BAL-7
    Given the latest run of item "BAL-7"
    Then metric "accuracy" should be at least 90%
    And metric "loss" should be less than 0.35
`), 0o644); err != nil {
		t.Fatal(err)
	}
	parse := func(out string) specJSON {
		t.Helper()
		var rep specJSON
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return rep
	}

	// --server and TRELLIS_TOKEN: the baseline misses 0.85, the latest
	// linked run (second: the deleted one is skipped) meets both goals.
	t.Setenv("TRELLIS_TOKEN", f.tokens["viewer"])
	out, errOut, code := specCheck(t, feature, "--server", f.base, "--project", "BAL", "--json")
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1; %s %s", code, out, errOut)
	}
	rep := parse(out)
	scs := rep.Features[0].Scenarios
	if scs[0].Outcome != "failed" || scs[0].RunID != first || scs[0].Steps[1].Outcome != "failed" || scs[0].Steps[2].Outcome != "passed" {
		t.Errorf("pinned run: %+v", scs[0])
	}
	if scs[1].Outcome != "passed" || scs[1].RunID != second {
		t.Errorf("latest run of BAL-7 = %s (%s), want %s passed; deleted %s", scs[1].RunID, scs[1].Outcome, second, deleted)
	}

	// The text report shows the measured value next to the threshold.
	t.Setenv("TRELLIS_TOKEN", "")
	t.Setenv("TRELLIS_SERVER", f.base)
	t.Setenv("TRELLIS_TOKEN", f.tokens["editor"])
	out, _, code = specCheck(t, feature, "--project", "BAL")
	if code != ExitFailure || !strings.Contains(out, "0.8") || !strings.Contains(out, "0.85") || !strings.HasSuffix(out, "1 passed, 1 failed\n") {
		t.Errorf("TRELLIS_SERVER text report, exit %d:\n%s", code, out)
	}

	// --run makes every run-based step read that run: both pass.
	out, errOut, code = specCheck(t, feature, "--project", "BAL", "--run", second, "--json")
	if code != 0 {
		t.Fatalf("--run %s: exit %d %s %s", second, code, out, errOut)
	}
	for _, sc := range parse(out).Features[0].Scenarios {
		if sc.RunID != second {
			t.Errorf("--run: scenario %q read run %s", sc.Name, sc.RunID)
		}
	}

	// A run that does not exist, a metric never logged, an item with no
	// runs: input errors and a failed check, each named.
	for _, c := range []struct {
		name, steps string
		code        int
		want        string
	}{
		{"missing run", `Given the run "0123456789abcdef0123456789abcdef"` + "\n    Then metric \"accuracy\" should be at least 0.1", ExitUsage, "0123456789abcdef0123456789abcdef"},
		{"metric never logged", `Given the run "` + second + `"` + "\n    Then metric \"f1\" should be at least 0.1", ExitFailure, `no metric "f1"`},
		{"item without runs", `Given the latest run of item "BAL-99"` + "\n    Then metric \"accuracy\" should be at least 0.1", ExitUsage, `no runs linked to item "BAL-99"`},
		{"item of a project the user cannot see", `Given the latest run of item "CAT-1"` + "\n    Then metric \"accuracy\" should be at least 0.1", ExitUsage, "CAT"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".feature")
		if err := os.WriteFile(p, []byte("Feature: f\n  Scenario: s\n    "+c.steps+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := specCheck(t, p, "--project", "BAL")
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%s: exit %d (want %d), want %q in:\n%s%s", c.name, code, c.code, c.want, out, errOut)
		}
	}

	// A token of a user outside the project: the run is not found.
	t.Setenv("TRELLIS_TOKEN", f.tokens["other"])
	if out, errOut, code := specCheck(t, feature, "--project", "BAL"); code != ExitUsage || !strings.Contains(out, "ERR") {
		t.Errorf("other's token: exit %d %s %s", code, out, errOut)
	}

	// The saved login: no flag, no environment.
	specEnv(t)
	if code, out, errOut := runCLI(t, testPassword+"\n", "login", "--server", f.base, "--user", "viewer"); code != 0 {
		t.Fatalf("login: %d %s %s", code, out, errOut)
	}
	if out, errOut, code := specCheck(t, feature, "--project", "BAL", "--run", second); code != 0 {
		t.Errorf("after login: exit %d %s %s", code, out, errOut)
	}
}

// TestSpecCheckReportToServer checks two iterations of predictions with
// --report-to-server: each becomes a finished run linked to the item with
// the computed metrics, per-scenario results and the JSON report, and the
// second iteration's improvement is visible through the API — and checks
// out with a run-based spec on the item's latest run.
func TestSpecCheckReportToServer(t *testing.T) { backends(t, testSpecCheckReportToServer) }

var reLoggedRun = regexp.MustCompile(`logged run ([0-9a-f]{32}) with (\d+) metrics for item BAL-9 in project BAL`)

func testSpecCheckReportToServer(t *testing.T, db string) {
	f := startFixture(t, db)
	specEnv(t)
	t.Setenv("TRELLIS_TOKEN", f.tokens["editor"])
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("labels.csv", "id,label\n1,spam\n2,spam\n3,spam\n4,spam\n5,ham\n6,ham\n7,ham\n8,ham\n9,ham\n10,ham\n")
	iter1 := write("iter1.csv", "id,prediction\n1,spam\n2,ham\n3,ham\n4,spam\n5,ham\n6,ham\n7,spam\n8,ham\n9,ham\n10,ham\n")   // 7/10
	iter2 := write("iter2.csv", "id,prediction\n1,spam\n2,spam\n3,spam\n4,spam\n5,ham\n6,ham\n7,spam\n8,ham\n9,ham\n10,ham\n") // 9/10
	feature := write("spam.feature", `Feature: spam filter
  Scenario: good enough to ship
    Given labels from "labels.csv"
    And predictions from "iter1.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 0.85
    And recall for class "spam" should be at least 0.75
`)

	if _, errOut, code := specCheck(t, feature, "--report-to-server", "--project", "BAL", "--item", "CAT-9", "--server", f.base); code != ExitUsage || !strings.Contains(errOut, "not an item of --project BAL") {
		t.Errorf("item of another project: exit %d %s", code, errOut)
	}

	var runs []string
	for i, c := range []struct {
		preds string
		code  int
	}{{iter1, ExitFailure}, {iter2, 0}} {
		out, errOut, code := specCheck(t, feature, "--report-to-server", "--project", "BAL", "--item", "BAL-9", "--server", f.base, "--predictions", c.preds)
		m := reLoggedRun.FindStringSubmatch(errOut)
		if code != c.code || m == nil {
			t.Fatalf("iteration %d: exit %d (want %d) %s %s", i+1, code, c.code, out, errOut)
		}
		runs = append(runs, m[1])
	}

	// Both runs are linked to the item, newest first, and carry the metrics.
	status, body := f.do("viewer", "GET", "/api/v1/projects/BAL/items/BAL-9/runs", nil)
	var links struct {
		Links []struct {
			RunID string `json:"run_id"`
		} `json:"links"`
	}
	if status != 200 || json.Unmarshal(body, &links) != nil || len(links.Links) != 2 || links.Links[0].RunID != runs[1] || links.Links[1].RunID != runs[0] {
		t.Fatalf("links of BAL-9 = %d %s, want %v newest first", status, body, runs)
	}
	want := []map[string]float64{
		{"accuracy": 0.7, "recall.spam": 0.5, "tp.spam": 2, "spec.passed": 0, "spec.failed": 1, "spec.errors": 0, "spec.scenario.good enough to ship": 0},
		{"accuracy": 0.9, "recall.spam": 1, "tp.spam": 4, "spec.passed": 1, "spec.failed": 0, "spec.errors": 0, "spec.scenario.good enough to ship": 1},
	}
	for i, id := range runs {
		metrics, tags, info := f.runMetrics("viewer", id)
		for k, v := range want[i] {
			if got, ok := metrics[k]; !ok || got != v {
				t.Errorf("iteration %d: %s = %v (%v), want %v", i+1, k, got, ok, v)
			}
		}
		if tags["trellis.item"] != "BAL-9" || !strings.Contains(info["run_name"].(string), "BAL-9") || info["status"] != "FINISHED" {
			t.Errorf("iteration %d: tags %v info %v", i+1, tags, info)
		}
		status, body := f.do("viewer", "GET", fmt.Sprintf("/p/BAL/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/trellis-spec/report.json", info["experiment_id"], id), nil)
		if status != 200 || !strings.Contains(string(body), `"good enough to ship"`) {
			t.Errorf("iteration %d: report artifact %d %s", i+1, status, body)
		}
	}

	// The item's progress: the latest linked run now meets the goal.
	latest := write("latest.feature", `Feature: BAL-9 progress
  Scenario: latest iteration
    Given the latest run of item "BAL-9"
    Then metric "accuracy" should be at least 0.85
`)
	out, errOut, code := specCheck(t, latest, "--server", f.base, "--json")
	if code != 0 || !strings.Contains(out, runs[1]) {
		t.Errorf("latest run of BAL-9: exit %d %s %s", code, out, errOut)
	}
}

// TestGoalsEvaluate evaluates an item's goals on the real server as runs
// are logged over the MLflow REST surface: no data, then not met, then met
// when a better iteration arrives, with the best value and its run.
func TestGoalsEvaluate(t *testing.T) { backends(t, testGoalsEvaluate) }

func testGoalsEvaluate(t *testing.T, db string) {
	f := startFixture(t, db)
	spec := `Feature: churn goals
  Scenario: ship it
    Given the latest run of item "BAL-7"
    Then metric "accuracy" should be at least 0.9
    And metric "loss" should be at most 0.35
    And metric "f1" should be at least 0.5
`
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
		status, b := f.do(user, "POST", "/api/v1/projects/BAL/goals/evaluate?item=BAL-7", strings.NewReader(body(spec)), "Content-Type", "application/json")
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

	exp := f.mlflow("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", `{"name":"churn"}`)["experiment_id"].(string)
	first := f.logRun(exp, "baseline", 1_700_000_000_000, map[string]string{"trellis.item": "BAL-7"},
		map[string][]float64{"accuracy": {0.5, 0.80}, "loss": {0.9, 0.3}})
	check(evaluate("viewer"), 1, want{"not met", first, first}, want{"met", first, first}, want{"no data", "", ""})

	second := f.logRun(exp, "retrain for BAL-7", 1_700_000_100_000, nil,
		map[string][]float64{"accuracy": {0.70, 0.92}, "loss": {0.4}})
	deleted := f.logRun(exp, "broken", 1_700_000_300_000, map[string]string{"trellis.item": "BAL-7"}, map[string][]float64{"accuracy": {0.99}})
	f.mlflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/delete", fmt.Sprintf(`{"run_id":%q}`, deleted))
	f.logRun(exp, "other item", 1_700_000_400_000, map[string]string{"trellis.item": "BAL-8"}, map[string][]float64{"accuracy": {0.1}})
	res := evaluate("editor")
	// accuracy flips to met on the second run; loss regressed there (latest
	// 0.4, not met) while the best stays the first run's 0.3.
	check(res, 2, want{"met", second, second}, want{"not met", second, first}, want{"no data", "", ""})
	if v := res.Goals[1].Best.Value; v == nil || *v != 0.3 {
		t.Errorf("best loss = %v, want 0.3", v)
	}

	// The CLI: a table, exit 1 while a goal is unmet; --json; a bad spec
	// is a usage error with its line.
	specEnv(t)
	t.Setenv("TRELLIS_SERVER", f.base)
	t.Setenv("TRELLIS_TOKEN", f.tokens["viewer"])
	dir := t.TempDir()
	file := filepath.Join(dir, "churn.feature")
	if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "spec", "goals", file, "--project", "BAL", "--item", "BAL-7")
	for _, w := range []string{"BAL-7: 2 linked runs", "accuracy at least 0.9", "met", "0.92 run " + second[:8], "not met", "0.3 run " + first[:8], "no data"} {
		if !strings.Contains(out, w) {
			t.Errorf("spec goals output lacks %q:\n%s", w, out)
		}
	}
	if code != ExitFailure || errOut != "trellis: 2 of 3 goals not met\n" {
		t.Errorf("spec goals: exit %d, stderr %q", code, errOut)
	}
	met := filepath.Join(dir, "met.feature")
	if err := os.WriteFile(met, []byte(strings.Split(spec, "    And")[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "", "spec", "goals", met, "--project", "BAL", "--item", "BAL-7", "--json")
	var got result
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Goals) != 1 || got.Goals[0].Status != "met" {
		t.Errorf("spec goals --json: exit %d %s %s", code, out, errOut)
	}
	bad := filepath.Join(dir, "bad.feature")
	if err := os.WriteFile(bad, []byte("Feature: f\n  Scenario: s\n    Given the run \"x\"\n    Then metrc \"a\" should be at least 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "", "spec", "goals", bad, "--project", "BAL", "--item", "BAL-7"); code != ExitUsage || !strings.Contains(errOut, "bad.feature:4") {
		t.Errorf("spec goals bad spec: exit %d %s", code, errOut)
	}

	// Bad requests name the field and the rule; access follows the project.
	for _, c := range []struct {
		user, query, body string
		status            int
		want              string
	}{
		{"viewer", "", body(spec), 400, `"field":"item"`},
		{"viewer", "?item=CAT-1", body(spec), 400, "not in project BAL"},
		{"viewer", "?item=nope", body(spec), 400, `"field":"item"`},
		{"viewer", "?item=BAL-7", `{"spec":""}`, 400, `"field":"spec"`},
		{"viewer", "?item=BAL-7", `{"spec":3}`, 400, `"field":"spec"`},
		{"viewer", "?item=BAL-7", `{"spec":"x","extra":1}`, 400, `"field":"extra"`},
		{"viewer", "?item=BAL-7", body("Feature: f\n  Scenario: s\n    Given the run \"x\"\n    Then metric \"a\" shuold be at least 1\n"), 400, "churn.feature:4"},
		{"viewer", "?item=BAL-7", body("Feature: f\n  Scenario: s\n    Given the run \"x\"\n"), 400, "has no Then step"},
		{"viewer", "?item=BAL-7", body("# just a comment\nFeature: f\n"), 400, "states no goals"},
		{"viewer", "?item=BAL-7", body(strings.Repeat("#", 2<<20)), 413, "larger than"},
		{"", "?item=BAL-7", body(spec), 401, ""},
		{"other", "?item=BAL-7", body(spec), 404, ""},
		// Evaluation changes nothing: its route is read-only, so a
		// read-scoped token may call it.
		{"owner-read", "?item=BAL-7", body(spec), 200, `"status":"met"`},
	} {
		status, b := f.do(c.user, "POST", "/api/v1/projects/BAL/goals/evaluate"+c.query, strings.NewReader(c.body), "Content-Type", "application/json")
		if status != c.status || !strings.Contains(string(b), c.want) {
			t.Errorf("%s %s %.60s = %d %s; want %d with %q", c.user, c.query, c.body, status, b, c.status, c.want)
		}
	}
}
