package cli_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/work"
)

// TestGoals drives stored goals through trellis goal and the JSON API
// against a real server, on SQLite and PostgreSQL: evaluation as runs
// arrive, the board's progress, access by role and the evidence a decision
// keeps. internal/httpapi's TestGoalsAPI checks their validation.
func TestGoals(t *testing.T) { apptest.Backends(t, testGoals) }

func testGoals(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	const p = "/api/v1/projects/BAL"
	var exp, dev work.Item
	a.MustCall("editor", "POST", p+"/items", `{"kind":"experiment","title":"Mosaic","hypothesis":"We believe mosaic raises accuracy","time_box":"2d"}`, &exp)
	a.MustCall("editor", "POST", p+"/items", `{"kind":"development","title":"Serve"}`, &dev)

	// trellis goal add, list and eval, as a user would.
	t.Setenv("TRELLIS_CLIENT_CONFIG", t.TempDir()+"/config.json")
	t.Setenv("TRELLIS_SERVER", a.URL)
	t.Setenv("TRELLIS_TOKEN", a.Token("editor"))
	t.Setenv("TRELLIS_PROJECT", "")
	run := func(wantCode int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, "", args...)
		if code != wantCode {
			t.Fatalf("trellis %s = %d, want %d: %s %s", strings.Join(args, " "), code, wantCode, out, errOut)
		}
		return out + errOut
	}
	if out := run(0, "goal", "add", "--item", exp.Key, "accuracy at least 0.9", "--dataset", "reviews", "--version", "v2", "--note", "held-out"); !strings.Contains(out, "to "+exp.Key+": accuracy at least 0.9") {
		t.Errorf("add: %s", out)
	}
	run(0, "goal", "add", "--item", exp.Key, "f1 at least 80%", "--class", "spam")
	if out := run(cli.ExitUsage, "goal", "add", "-p", "BAL", "accuracy > 0.5"); !strings.Contains(out, "runs you choose") {
		t.Errorf("project goal without runs: %s", out)
	}
	run(0, "goal", "add", "-p", "BAL", "accuracy > 0.5", "--experiment", "Default")
	run(0, "goal", "add", "--item", dev.Key, "latency_ms < 50")
	if out := run(cli.ExitUsage, "goal", "add", "--item", exp.Key, "accuracy roughly 0.9"); !strings.Contains(out, "no comparator") {
		t.Errorf("bad sentence: %s", out)
	}
	if out := run(cli.ExitUsage, "goal", "add", "--item", exp.Key, "accuracy at least 0.9", "--note", strings.Repeat("n", 4001)); !strings.Contains(out, "note") {
		t.Errorf("long note: %s", out)
	}
	if out := run(cli.ExitFailure, "goal", "list", "--item", "BAL-99"); !strings.Contains(out, "not found") {
		t.Errorf("unknown item: %s", out)
	}
	if out := run(cli.ExitUsage, "goal", "add", "accuracy at least 0.9"); !strings.Contains(out, "--project") {
		t.Errorf("no project: %s", out)
	}
	var listed []goal.StoredGoal
	if err := json.Unmarshal([]byte(run(0, "goal", "list", "--item", exp.Key, "--json")), &listed); err != nil || len(listed) != 2 ||
		listed[0].Text != "accuracy at least 0.9" || listed[0].DatasetVersion != "v2" || listed[1].Key != "f1.spam" || listed[1].Threshold != 0.8 {
		t.Fatalf("list: %+v %v", listed, err)
	}
	if out := run(0, "goal", "list", "-p", "BAL"); !strings.Contains(out, "accuracy more than 0.5") || strings.Contains(out, "f1.spam") {
		t.Errorf("project goals: %s", out)
	}
	if out := run(cli.ExitFailure, "goal", "eval", "--item", exp.Key); !strings.Contains(out, "no data") || !strings.Contains(out, "2 goals have no data") || strings.Contains(out, "not met") {
		t.Errorf("eval without runs: %s", out)
	}

	// Runs arrive through the MLflow API, linked to the item by tag.
	link := map[string]string{"trellis.item": exp.Key}
	// The accuracy goal is scoped to reviews v2: the runs say they used it.
	onReviews := func(run string) string {
		a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/log-inputs", `{"run_id":"`+run+
			`","datasets":[{"dataset":{"name":"reviews","digest":"v2","source_type":"local","source":"reviews.csv"}}]}`)
		return run
	}
	r1 := onReviews(a.LogRun("0", "iter 1", 1_700_000_000_000, link, map[string][]float64{"accuracy": {0.7, 0.85}, "f1.spam": {0.82}}))
	if out := run(cli.ExitFailure, "goal", "eval", "--item", exp.Key); !strings.Contains(out, "1 of 2 goals not met") || !strings.Contains(out, "0.85 run "+r1[:8]) {
		t.Errorf("eval after run 1: %s", out)
	}
	r2 := onReviews(a.LogRun("0", "iter 2", 1_700_000_100_000, link, map[string][]float64{"accuracy": {0.91}}))
	var ev goal.EvaluationJSON
	if err := json.Unmarshal([]byte(run(0, "goal", "eval", "--item", exp.Key, "--json")), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Item != exp.Key || ev.Runs != 2 || len(ev.Goals) != 2 || ev.Goals[0].ID != listed[0].ID || ev.Goals[0].Status != goal.Met ||
		ev.Goals[0].Latest.RunID != r2 || ev.Goals[0].Latest.RunName != "iter 2" || ev.Goals[1].Best.RunID != r1 {
		t.Errorf("eval: %+v", ev)
	}
	var pev goal.EvaluationJSON
	a.MustCall("viewer", "GET", p+"/goals/evaluation", "", &pev)
	if len(pev.Goals) != 1 || pev.Goals[0].Status != goal.Met || *pev.Goals[0].Latest.Value != 0.91 {
		t.Errorf("project evaluation %+v", pev)
	}
	var prog struct {
		Items map[string]struct{ Met, Total int }
	}
	a.MustCall("viewer", "GET", p+"/goals/progress", "", &prog)
	if len(prog.Items) != 2 || prog.Items[exp.Key].Met != 2 || prog.Items[exp.Key].Total != 2 || prog.Items[dev.Key].Met != 0 {
		t.Errorf("progress %+v", prog)
	}

	// Editors change and delete goals; viewers cannot.
	if status, _ := a.Call("viewer", "PATCH", p+"/goals/"+listed[1].ID, `{"threshold":0.9}`, nil); status != 403 {
		t.Errorf("viewer patch = %d", status)
	}
	if status, field := a.Call("editor", "PATCH", p+"/goals/"+listed[1].ID, `{"comparator":"around"}`, nil); status != 400 || field != "comparator" {
		t.Errorf("bad patch = %d %q", status, field)
	}
	var up goal.StoredGoal
	a.MustCall("editor", "PATCH", p+"/goals/"+listed[1].ID, `{"threshold":0.9}`, &up)
	if up.Text != "f1.spam at least 0.9" || up.Item != exp.Key {
		t.Errorf("patched %+v", up)
	}
	if status, _ := a.Call("other", "DELETE", p+"/goals/"+listed[1].ID, "", nil); status != 404 {
		t.Errorf("other deletes = %d", status)
	}

	// A decision keeps the results of its moment in the hypothesis log.
	a.MustCall("editor", "POST", p+"/items/"+exp.Key+"/decision", `{"outcome":"abandon","verdict":"refuted","reason":"f1 fell short"}`, nil)
	a.LogRun("0", "iter 3", 1_700_000_200_000, link, map[string][]float64{"f1.spam": {0.95}})
	var log struct{ Decisions []work.Decision }
	a.MustCall("viewer", "GET", p+"/hypotheses", "", &log)
	if len(log.Decisions) != 1 || len(log.Decisions[0].GoalResults) != 2 || log.Decisions[0].GoalResults[1] != "f1.spam at least 0.9: not met (latest 0.82, best 0.82)" {
		t.Errorf("hypothesis log %+v", log.Decisions)
	}
	if status, md := a.Do("viewer", "GET", p+"/hypotheses?format=markdown", nil); status != 200 || !strings.Contains(string(md), "accuracy at least 0.9: met (latest 0.91, best 0.91); f1.spam at least 0.9: not met") {
		t.Errorf("markdown %d %s", status, md)
	}
	if status, csv := a.Do("viewer", "GET", p+"/hypotheses?format=csv", nil); status != 200 || !strings.Contains(string(csv), "goal_results") || !strings.Contains(string(csv), "f1.spam at least 0.9: not met") {
		t.Errorf("csv %d %s", status, csv)
	}

	testGoalEdit(t, run)

	if out := run(0, "goal", "rm", "-p", "BAL", listed[1].ID); !strings.Contains(out, "removed goal "+listed[1].ID) {
		t.Errorf("rm: %s", out)
	}
	run(cli.ExitFailure, "goal", "rm", "-p", "BAL", listed[1].ID)
	if out := run(0, "goal", "eval", "--item", exp.Key); !strings.Contains(out, "1 goal, 3 runs") {
		t.Errorf("eval after rm: %s", out)
	}
}

// testGoalEdit changes a project goal with trellis goal edit: a new
// sentence, single fields, clearing one, and the errors a user meets.
func testGoalEdit(t *testing.T, run func(int, ...string) string) {
	t.Helper()
	decode := func(out string) goal.StoredGoal {
		t.Helper()
		var g goal.StoredGoal
		if err := json.Unmarshal([]byte(out), &g); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return g
	}
	g := decode(run(0, "goal", "add", "-p", "BAL", "recall at least 0.5", "--slice", "night", "--dataset", "reviews", "--version", "v1", "--note", "first",
		"--run-tag", "stage=candidate", "--json"))
	if g.RunTag != "stage=candidate" {
		t.Errorf("run tag %q", g.RunTag)
	}
	if out := run(0, "goal", "edit", "-p", "BAL", g.ID, "recall at least 85%", "--note", "raised after review"); out != "updated goal "+g.ID+" of BAL: recall.night at least 0.85\n" {
		t.Errorf("edit sentence and note: %q", out)
	}
	e := decode(run(0, "goal", "edit", "-p", "BAL", g.ID, "--slice", "", "--json"))
	if e.ID != g.ID || e.Metric != "recall" || e.Comparator != speccheck.AtLeast || e.Threshold != 0.85 || e.Slice != "" ||
		e.Dataset != "reviews" || e.DatasetVersion != "v1" || e.Note != "raised after review" || e.Text != "recall at least 0.85" {
		t.Errorf("cleared slice: %+v", e)
	}
	e = decode(run(0, "goal", "edit", "-p", "bal", g.ID, "--version", "v2", "--class", "pos", "--json"))
	if e.Class != "pos" || e.DatasetVersion != "v2" || e.Dataset != "reviews" || e.Note != "raised after review" || e.Key != "recall.pos" {
		t.Errorf("version and class: %+v", e)
	}
	// A project goal keeps a choice of runs: the tag may give way to an
	// experiment, not to nothing.
	if out := run(cli.ExitUsage, "goal", "edit", "-p", "BAL", g.ID, "--run-tag", ""); !strings.Contains(out, "runs you choose") {
		t.Errorf("clearing the only run choice: %s", out)
	}
	e = decode(run(0, "goal", "edit", "-p", "BAL", g.ID, "--run-tag", "", "--experiment", "Default", "--json"))
	if e.RunTag != "" || e.Experiment != "Default" {
		t.Errorf("experiment for tag: %+v", e)
	}
	e = decode(run(0, "goal", "edit", "-p", "BAL", g.ID, "latency_ms < 50", "--json"))
	if e.Text != "latency_ms.pos less than 50" || e.Dataset != "reviews" {
		t.Errorf("new sentence keeps the fields: %+v", e)
	}
	var listed []goal.StoredGoal
	if err := json.Unmarshal([]byte(run(0, "goal", "list", "-p", "BAL", "--json")), &listed); err != nil || !slices.ContainsFunc(listed, func(l goal.StoredGoal) bool {
		return l.ID == g.ID && l.Text == e.Text && l.DatasetVersion == "v2"
	}) {
		t.Errorf("list after edit: %+v %v", listed, err)
	}

	for _, c := range []struct {
		code int
		args []string
		want string
	}{
		{cli.ExitFailure, []string{"-p", "BAL", "0193f5c2-0000-7000-8000-000000000000", "--note", "x"}, "no goal 0193f5c2-0000-7000-8000-000000000000 in project BAL (trellis goal list shows the ids)"},
		{cli.ExitUsage, []string{"-p", "BAL", g.ID, "recall roughly 0.9"}, "found no comparator"},
		{cli.ExitUsage, []string{"-p", "BAL", g.ID, "recall at least lots"}, "threshold"},
		{cli.ExitUsage, []string{"-p", "BAL", g.ID}, "nothing to change"},
		{cli.ExitUsage, []string{g.ID, "--note", "x"}, "--project"},
		{cli.ExitUsage, []string{"-p", "BAL", g.ID, "--note", strings.Repeat("n", 4001)}, "note"},
		{cli.ExitUsage, []string{"-p", "BAL"}, "accepts between 1 and 2 arg(s)"},
	} {
		if out := run(c.code, append([]string{"goal", "edit"}, c.args...)...); !strings.Contains(out, c.want) {
			t.Errorf("goal edit %v: %q, want %q", c.args, out, c.want)
		}
	}
	if e2 := decode(run(0, "goal", "edit", "-p", "BAL", g.ID, "--note", "", "--json")); e2.Note != "" || e2.Text != e.Text || e2.Class != "pos" {
		t.Errorf("a failed edit changed the goal, or the note did not clear: %+v", e2)
	}
	run(0, "goal", "rm", "-p", "BAL", g.ID)
}
