package speccheck

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustSpec(tb testing.TB, dir, name, src string) *Spec {
	tb.Helper()
	p := writeFile(tb, dir, name, src)
	sp, err := ParseSpec(p, []byte(src))
	if err != nil {
		tb.Fatal(err)
	}
	return sp
}

func stepOf(tb testing.TB, r *Report, scenario int, text string) StepResult {
	tb.Helper()
	for _, st := range r.Features[0].Scenarios[scenario].Steps {
		if strings.Contains(st.Text, text) {
			return st
		}
	}
	tb.Fatalf("no step %q in scenario %d", text, scenario)
	return StepResult{}
}

func TestCheckOutcomes(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "data"), 0o755)
	// Labels a a a b; predictions a a b b: accuracy 0.75, precision(a) 1,
	// recall(a) 2/3, precision(c) undefined.
	writeFile(t, dir, "data/l.csv", "id,label\n1,a\n2,a\n3,a\n4,b\n")
	writeFile(t, dir, "data/p.csv", "id,prediction\n1,a\n2,a\n3,b\n4,b\n")
	sp := mustSpec(t, dir, "c.feature", `Feature: checks
  Background:
    Given labels from "data/l.csv"
    And predictions from "data/p.csv"
    When the predictions are scored as classification

  @pass
  Scenario: passes
    Then accuracy should be at least 75%
    And precision for class "a" should be exactly 1
    And metric "recall.a" should be less than 0.7
    And at most 2 items should be predicted as "b"

  Scenario: fails
    Then accuracy should be more than 0.75
    And recall for class "a" should be at least 0.5

  Scenario: undefined
    Then precision for class "c" should be at most 1

  Scenario: no such logged metric
    Then metric "val_loss" should be at most 1

  Scenario: run step offline
    Given the run "abc"
    Then metric "loss" should be at most 1
`)
	rep := NewChecker(Options{}).Check(context.Background(), []*Spec{sp})
	if rep.Passed != 1 || rep.Failed != 3 || rep.Errors != 1 || rep.ExitCode() != 2 {
		t.Fatalf("passed %d failed %d errors %d exit %d", rep.Passed, rep.Failed, rep.Errors, rep.ExitCode())
	}
	outcomes := []Outcome{Passed, Failed, Failed, Failed, Errored}
	for i, o := range outcomes {
		if got := rep.Features[0].Scenarios[i].Outcome; got != o {
			t.Errorf("scenario %d: %s, want %s", i, got, o)
		}
	}
	if st := stepOf(t, rep, 0, "metric"); st.Measured == nil || !near(st.Measured.V, 2.0/3) {
		t.Errorf("metric recall.a measured %v", st.Measured)
	}
	if st := stepOf(t, rep, 1, "accuracy"); st.Outcome != Failed || st.Measured.V != 0.75 || st.Message != "0.75 is not more than 0.75" {
		t.Errorf("failing step = %+v", st)
	}
	if st := stepOf(t, rep, 1, "recall"); st.Outcome != Passed {
		t.Errorf("a failed step must not stop the other checks: %+v", st)
	}
	if st := stepOf(t, rep, 2, "precision"); st.Outcome != Failed || !strings.HasPrefix(st.Message, "undefined") {
		t.Errorf("undefined step = %+v; want a failure saying undefined", st)
	}
	if st := stepOf(t, rep, 3, "val_loss"); !strings.HasPrefix(st.Message, "no data: no metric \"val_loss\"") {
		t.Errorf("missing metric step = %+v", st)
	}
	run := stepOf(t, rep, 4, "the run")
	if run.Outcome != Errored || !strings.Contains(run.Message, "needs a Trellis server") {
		t.Errorf("run step = %+v", run)
	}
	if st := stepOf(t, rep, 4, "loss"); st.Outcome != Skipped {
		t.Errorf("step after an error = %s, want skipped", st.Outcome)
	}

	tags, _ := ParseTagExpr("@pass")
	only := NewChecker(Options{Tags: tags}).Check(context.Background(), []*Spec{sp})
	if only.Passed != 1 || only.Failed+only.Errors != 0 || only.ExitCode() != 0 {
		t.Errorf("with --tags @pass: %+v", only)
	}
}

func TestCheckOverridesAndInputErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "l.csv", "id,label\n1,a\n2,b\n")
	writeFile(t, dir, "p.csv", "id,prediction\n1,a\n")
	other := writeFile(t, dir, "p2.csv", "id,prediction\n1,a\n2,b\n")
	sp := mustSpec(t, dir, "o.feature", `Feature: o
  Scenario: one
    Given labels from "l.csv"
    And predictions from "p.csv"
    When the predictions are scored as classification
    Then accuracy should be exactly 1
  Scenario: two
    Given labels from "l.csv"
    When the predictions are scored as classification
    Then accuracy should be exactly 1
`)
	rep := NewChecker(Options{}).Check(context.Background(), []*Spec{sp})
	sc := rep.Features[0].Scenarios
	if sc[0].Outcome != Errored || !strings.Contains(stepOf(t, rep, 0, "scored").Message, `1 id in `+filepath.Join(dir, "l.csv")+` has no prediction`) {
		t.Errorf("missing id: %+v", stepOf(t, rep, 0, "scored"))
	}
	if sc[1].Outcome != Errored || !strings.Contains(stepOf(t, rep, 1, "scored").Message, "no predictions: add a step") {
		t.Errorf("no predictions: %+v", stepOf(t, rep, 1, "scored"))
	}
	rep = NewChecker(Options{Predictions: other}).Check(context.Background(), []*Spec{sp})
	if rep.Passed != 2 {
		t.Errorf("--predictions override: %d passed", rep.Passed)
	}
}

type fakeRuns struct{}

func (fakeRuns) RunMetrics(_ context.Context, id string) (map[string]float64, error) {
	if id != "r1" {
		return nil, errors.New("run not found")
	}
	return map[string]float64{"loss": 0.2}, nil
}

func (fakeRuns) LatestRunOfItem(context.Context, string) (string, map[string]float64, error) {
	return "r9", map[string]float64{"loss": 0.5}, nil
}

// The run-based steps read through RunSource; this checks the checker's
// side of that seam only, not any server.
func TestCheckRunSteps(t *testing.T) {
	sp := mustSpec(t, t.TempDir(), "r.feature", `Feature: r
  Scenario: by id
    Given the run "r1"
    Then metric "loss" should be at most 0.3
  Scenario: latest of item
    Given the latest run of item "ML-1"
    Then metric "loss" should be at most 0.3
  Scenario: unknown run
    Given the run "nope"
    Then metric "loss" should be at most 0.3
`)
	rep := NewChecker(Options{Runs: fakeRuns{}}).Check(context.Background(), []*Spec{sp})
	sc := rep.Features[0].Scenarios
	if sc[0].Outcome != Passed || sc[1].Outcome != Failed || sc[1].RunID != "r9" || sc[2].Outcome != Errored {
		t.Errorf("outcomes %s %s(%s) %s", sc[0].Outcome, sc[1].Outcome, sc[1].RunID, sc[2].Outcome)
	}
}

func TestCheckRunIDOverride(t *testing.T) {
	sp := mustSpec(t, t.TempDir(), "r.feature", "Feature: r\n  Scenario: s\n    Given the latest run of item \"ML-1\"\n    Then metric \"loss\" should be at most 0.3\n")
	rep := NewChecker(Options{Runs: fakeRuns{}, RunID: "r1"}).Check(context.Background(), []*Spec{sp})
	if sc := rep.Features[0].Scenarios[0]; sc.Outcome != Passed || sc.RunID != "r1" {
		t.Errorf("--run r1: %s run %q", sc.Outcome, sc.RunID)
	}
}

func TestMetricsToLog(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "l.csv", "id,label\n1,a\n2,b\n")
	writeFile(t, dir, "p.csv", "id,prediction\n1,a\n2,a\n")
	writeFile(t, dir, "p2.csv", "id,prediction\n1,a\n2,b\n")
	one := mustSpec(t, dir, "one.feature", `Feature: one
  Scenario: s
    Given labels from "l.csv"
    And predictions from "p.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 0.5
`)
	rep := NewChecker(Options{}).Check(context.Background(), []*Spec{one})
	m, err := rep.MetricsToLog()
	if err != nil {
		t.Fatal(err)
	}
	if m["accuracy"] != 0.5 || m["recall.a"] != 1 || m["spec.passed"] != 1 || m["tp.b"] != 0 {
		t.Errorf("metrics %v", m)
	}
	if v, ok := m["spec.scenario.s"]; !ok || v != 1 {
		t.Errorf("spec.scenario.s = %v, %v; want 1 (passed)", v, ok)
	}
	if _, ok := m["precision.b"]; ok {
		t.Error("undefined precision.b was logged")
	}
	two := mustSpec(t, dir, "two.feature", strings.ReplaceAll(one.rawForTest(t), "p.csv", "p2.csv"))
	rep = NewChecker(Options{}).Check(context.Background(), []*Spec{one, two})
	if _, err := rep.MetricsToLog(); err == nil || !strings.Contains(err.Error(), "report one set of inputs per run") {
		t.Errorf("conflicting metrics: err = %v", err)
	}
}

// rawForTest reads the spec's file back.
func (s *Spec) rawForTest(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(s.Path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestMetricsToLogScenarios(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "l.csv", "id,label\n1,a\n2,b\n")
	writeFile(t, dir, "p.csv", "id,prediction\n1,a\n2,a\n")
	sp := mustSpec(t, dir, "Spam filter.feature", `Feature: f
  Scenario: accuracy ≥ half (v2)
    Given labels from "l.csv"
    And predictions from "p.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 0.5

  Scenario: accuracy ≥ half (v2)
    Given labels from "l.csv"
    And predictions from "p.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 0.9

  Scenario: missing file
    Given labels from "nope.csv"
    And predictions from "p.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 0.9
`)
	m, err := NewChecker(Options{}).Check(context.Background(), []*Spec{sp}).MetricsToLog()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"spec.scenario.accuracy ___ half _v2_":               1,
		"spec.scenario.accuracy ___ half _v2_ Spam filter:8": 0,
		"spec.passed": 1, "spec.failed": 1, "spec.errors": 1,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v, %v; want %v", k, got, ok, v)
		}
	}
	for k := range m {
		if strings.HasPrefix(k, "spec.scenario.missing") {
			t.Errorf("errored scenario logged as %s", k)
		}
	}
}
