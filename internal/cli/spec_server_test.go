package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
)

// runMetrics reads a run back through runs/get: its latest metrics, tags
// and info.
func runMetrics(t *testing.T, a *apptest.App, user, id string) (metrics map[string]float64, tags map[string]string, info map[string]any) {
	t.Helper()
	run := a.MLflow(user, "GET", "/p/BAL/api/2.0/mlflow/runs/get?run_id="+id, "")["run"].(map[string]any)
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
func TestSpecCheckRunSteps(t *testing.T) { apptest.Backends(t, testSpecCheckRunSteps) }

func testSpecCheckRunSteps(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	specEnv(t)
	exp := a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", `{"name":"churn"}`)["experiment_id"].(string)
	first := a.LogRun(exp, "baseline", 1_700_000_000_000, map[string]string{"trellis.item": "BAL-7"},
		map[string][]float64{"accuracy": {0.5, 0.80}, "loss": {0.9, 0.4}})
	second := a.LogRun(exp, "retrain for BAL-7", 1_700_000_100_000, nil, // linked by the mention only
		map[string][]float64{"accuracy": {0.70, 0.92}, "loss": {0.3}})
	a.LogRun(exp, "other item", 1_700_000_200_000, map[string]string{"trellis.item": "BAL-8"}, map[string][]float64{"accuracy": {0.1}})
	deleted := a.LogRun(exp, "broken", 1_700_000_300_000, map[string]string{"trellis.item": "BAL-7"}, map[string][]float64{"accuracy": {0.0}})
	a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/delete", fmt.Sprintf(`{"run_id":%q}`, deleted))

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
	t.Setenv("TRELLIS_TOKEN", a.Token("viewer"))
	out, errOut, code := specCheck(t, feature, "--server", a.URL, "--project", "BAL", "--json")
	if code != cli.ExitFailure {
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
	t.Setenv("TRELLIS_SERVER", a.URL)
	t.Setenv("TRELLIS_TOKEN", a.Token("editor"))
	out, _, code = specCheck(t, feature, "--project", "BAL")
	if code != cli.ExitFailure || !strings.Contains(out, "0.8") || !strings.Contains(out, "0.85") || !strings.HasSuffix(out, "1 passed, 1 failed\n") {
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
		{"missing run", `Given the run "0123456789abcdef0123456789abcdef"` + "\n    Then metric \"accuracy\" should be at least 0.1", cli.ExitUsage, "0123456789abcdef0123456789abcdef"},
		{"metric never logged", `Given the run "` + second + `"` + "\n    Then metric \"f1\" should be at least 0.1", cli.ExitFailure, `no metric "f1"`},
		{"item without runs", `Given the latest run of item "BAL-99"` + "\n    Then metric \"accuracy\" should be at least 0.1", cli.ExitUsage, `no runs linked to item "BAL-99"`},
		{"item of a project the user cannot see", `Given the latest run of item "CAT-1"` + "\n    Then metric \"accuracy\" should be at least 0.1", cli.ExitUsage, "CAT"},
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
	t.Setenv("TRELLIS_TOKEN", a.Token("other"))
	if out, errOut, code := specCheck(t, feature, "--project", "BAL"); code != cli.ExitUsage || !strings.Contains(out, "ERR") {
		t.Errorf("other's token: exit %d %s %s", code, out, errOut)
	}

	// The saved login: no flag, no environment.
	specEnv(t)
	if code, out, errOut := runCLI(t, apptest.Password+"\n", "login", "--server", a.URL, "--user", "viewer"); code != 0 {
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
func TestSpecCheckReportToServer(t *testing.T) { apptest.Backends(t, testSpecCheckReportToServer) }

var reLoggedRun = regexp.MustCompile(`logged run ([0-9a-f]{32}) with (\d+) metrics for item BAL-9 in project BAL`)

func testSpecCheckReportToServer(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	specEnv(t)
	t.Setenv("TRELLIS_TOKEN", a.Token("editor"))
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

	if _, errOut, code := specCheck(t, feature, "--report-to-server", "--project", "BAL", "--item", "CAT-9", "--server", a.URL); code != cli.ExitUsage || !strings.Contains(errOut, "not an item of --project BAL") {
		t.Errorf("item of another project: exit %d %s", code, errOut)
	}

	var runs []string
	for i, c := range []struct {
		preds string
		code  int
	}{{iter1, cli.ExitFailure}, {iter2, 0}} {
		out, errOut, code := specCheck(t, feature, "--report-to-server", "--project", "BAL", "--item", "BAL-9", "--server", a.URL, "--predictions", c.preds)
		m := reLoggedRun.FindStringSubmatch(errOut)
		if code != c.code || m == nil {
			t.Fatalf("iteration %d: exit %d (want %d) %s %s", i+1, code, c.code, out, errOut)
		}
		runs = append(runs, m[1])
	}

	// Both runs are linked to the item, newest first, and carry the metrics.
	status, body := a.Do("viewer", "GET", "/api/v1/projects/BAL/items/BAL-9/runs", nil)
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
		metrics, tags, info := runMetrics(t, a, "viewer", id)
		for k, v := range want[i] {
			if got, ok := metrics[k]; !ok || got != v {
				t.Errorf("iteration %d: %s = %v (%v), want %v", i+1, k, got, ok, v)
			}
		}
		if tags["trellis.item"] != "BAL-9" || !strings.Contains(info["run_name"].(string), "BAL-9") || info["status"] != "FINISHED" {
			t.Errorf("iteration %d: tags %v info %v", i+1, tags, info)
		}
		status, body := a.Do("viewer", "GET", fmt.Sprintf("/p/BAL/api/2.0/mlflow-artifacts/artifacts/%s/%s/artifacts/trellis-spec/report.json", info["experiment_id"], id), nil)
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
	out, errOut, code := specCheck(t, latest, "--server", a.URL, "--json")
	if code != 0 || !strings.Contains(out, runs[1]) {
		t.Errorf("latest run of BAL-9: exit %d %s %s", code, out, errOut)
	}
}

// TestSpecGoals checks trellis spec goals against an item's linked runs:
// a table of each goal's latest and best run, exit 1 while a goal is
// unmet; --json; a bad spec is a usage error with its line.
// internal/httpapi's TestGoalsEvaluate checks the route it calls.
func TestSpecGoals(t *testing.T) { apptest.Backends(t, testSpecGoals) }

func testSpecGoals(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	// The spec states three goals of BAL-7's latest run; met.feature only
	// the first, which the latest run meets.
	goals := []string{`metric "accuracy" should be at least 0.9`, `metric "loss" should be at most 0.35`, `metric "f1" should be at least 0.5`}
	feature := func(goals ...string) string {
		return "Feature: churn goals\n  Scenario: ship it\n    Given the latest run of item \"BAL-7\"\n    Then " + strings.Join(goals, "\n    And ") + "\n"
	}
	exp := a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", `{"name":"churn"}`)["experiment_id"].(string)
	// Two runs of BAL-7 (the second linked by its name), a deleted one and
	// another item's, which do not count.
	ids := map[string]string{}
	for i, r := range []struct {
		name    string
		item    string
		metrics map[string][]float64
	}{
		{"baseline", "BAL-7", map[string][]float64{"accuracy": {0.5, 0.80}, "loss": {0.9, 0.3}}},
		{"retrain for BAL-7", "", map[string][]float64{"accuracy": {0.70, 0.92}, "loss": {0.4}}},
		{"broken", "BAL-7", map[string][]float64{"accuracy": {0.99}}},
		{"other item", "BAL-8", map[string][]float64{"accuracy": {0.1}}},
	} {
		var tags map[string]string
		if r.item != "" {
			tags = map[string]string{"trellis.item": r.item}
		}
		ids[r.name] = a.LogRun(exp, r.name, 1_700_000_000_000+int64(i)*100_000, tags, r.metrics)
	}
	a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/delete", fmt.Sprintf(`{"run_id":%q}`, ids["broken"]))
	first, second := ids["baseline"], ids["retrain for BAL-7"]

	specEnv(t)
	t.Setenv("TRELLIS_SERVER", a.URL)
	t.Setenv("TRELLIS_TOKEN", a.Token("viewer"))
	dir := t.TempDir()
	file := filepath.Join(dir, "churn.feature")
	if err := os.WriteFile(file, []byte(feature(goals...)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "spec", "goals", file, "--project", "BAL", "--item", "BAL-7")
	for _, w := range []string{"BAL-7: 2 linked runs", "accuracy at least 0.9", "met", "0.92 run " + second[:8], "not met", "0.3 run " + first[:8], "no data"} {
		if !strings.Contains(out, w) {
			t.Errorf("spec goals output lacks %q:\n%s", w, out)
		}
	}
	if code != cli.ExitFailure || errOut != "trellis: 1 of 3 goals not met, 1 goal has no data\n" {
		t.Errorf("spec goals: exit %d, stderr %q", code, errOut)
	}
	met := filepath.Join(dir, "met.feature")
	if err := os.WriteFile(met, []byte(feature(goals[0])), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "", "spec", "goals", met, "--project", "BAL", "--item", "BAL-7", "--json")
	var got struct {
		Goals []struct {
			Status string `json:"status"`
		} `json:"goals"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Goals) != 1 || got.Goals[0].Status != "met" {
		t.Errorf("spec goals --json: exit %d %s %s", code, out, errOut)
	}
	bad := filepath.Join(dir, "bad.feature")
	if err := os.WriteFile(bad, []byte("Feature: f\n  Scenario: s\n    Given the run \"x\"\n    Then metrc \"a\" should be at least 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "", "spec", "goals", bad, "--project", "BAL", "--item", "BAL-7"); code != cli.ExitUsage || !strings.Contains(errOut, "bad.feature:4") {
		t.Errorf("spec goals bad spec: exit %d %s", code, errOut)
	}
}
