package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
)

// TestSpecOnServer attaches a spec to an item with the CLI and watches the
// server re-check it as runs linked to the item finish: a run below the
// threshold fails the scenario, a later one above it passes. It also
// covers versions, refused specs and who may do what.
func TestSpecOnServer(t *testing.T) { apptest.Backends(t, testSpecOnServer) }

func testSpecOnServer(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	specEnv(t)
	t.Setenv("TRELLIS_SERVER", a.URL)
	t.Setenv("TRELLIS_TOKEN", a.Token("editor"))
	a.MustCall("editor", "POST", "/api/v1/projects/BAL/items", `{"kind":"experiment","title":"Churn model","hypothesis":"We believe it helps","time_box":"2w"}`, nil)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	spec := write("churn.feature", `Feature: churn
  Scenario: accurate enough
    Given the latest run of item "BAL-1"
    Then metric "acc" should be at least 0.8

  Scenario: offline scoring
    Given labels from "labels.csv"
    And predictions from "predictions.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 0.9
`)
	show := func(wantCode int) goal.ItemSpec {
		t.Helper()
		code, out, errOut := runCLI(t, "", "spec", "show", "--project", "BAL", "--item", "BAL-1", "--json")
		if code != wantCode {
			t.Fatalf("spec show: exit %d, want %d: %s %s", code, wantCode, out, errOut)
		}
		var s goal.ItemSpec
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return s
	}

	// A spec with an unknown step is refused with its line and the
	// closest step, exit 2, and nothing is stored.
	bad := write("bad.feature", "Feature: f\n  Scenario: s\n    Given the latest run of item \"BAL-1\"\n    Then metrik \"acc\" should be at least 0.8\n")
	code, out, errOut := runCLI(t, "", "spec", "push", bad, "--project", "BAL", "--item", "BAL-1")
	if code != cli.ExitUsage || !strings.Contains(errOut, "bad.feature:4") || !strings.Contains(errOut, `metric "NAME" should be`) {
		t.Fatalf("bad spec: exit %d: %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "", "spec", "show", "--item", "BAL-1"); code != cli.ExitFailure || !strings.Contains(errOut, "has no spec") {
		t.Fatalf("show without spec: exit %d %s", code, errOut)
	}

	code, out, errOut = runCLI(t, "", "spec", "push", spec, "--project", "BAL", "--item", "BAL-1")
	if code != 0 || !strings.Contains(out, "BAL-1: spec churn.feature is version 1") || !strings.Contains(out, "no run linked to BAL-1 yet") ||
		!strings.Contains(out, "0 passed, 0 failed, 0 errors, 1 no data, 1 skipped") {
		t.Fatalf("push: exit %d:\n%s%s", code, out, errErr(errOut))
	}

	exp := a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", `{"name":"churn"}`)["experiment_id"].(string)
	low := a.LogRun(exp, "first try", 1_700_000_000_000, map[string]string{"trellis.item": "BAL-1"}, map[string][]float64{"acc": {0.7}})
	s := show(cli.ExitFailure)
	if r := s.Results[0]; r.Outcome != speccheck.Failed || r.RunID != low || *r.Checks[0].Measured != 0.7 || r.Checks[0].Threshold != 0.8 {
		t.Fatalf("after acc 0.7: %+v", r)
	}
	if r := s.Results[1]; r.Outcome != speccheck.Skipped || !strings.Contains(r.Message, "not on the server") {
		t.Fatalf("file-based scenario: %+v", r)
	}
	high := a.LogRun(exp, "second try", 1_700_000_100_000, map[string]string{"trellis.item": "BAL-1"}, map[string][]float64{"acc": {0.85}})
	s = show(0)
	if r := s.Results[0]; r.Outcome != speccheck.Passed || r.RunID != high || *r.Checks[0].Measured != 0.85 {
		t.Fatalf("after acc 0.85: %+v", r)
	}
	code, out, _ = runCLI(t, "", "spec", "show", "--item", "BAL-1", "--check")
	if code != 0 || !strings.Contains(out, "accurate enough") || !strings.Contains(out, "acc 0.85 (at least 0.8)") || !strings.Contains(out, high[:8]) {
		t.Fatalf("show --check: exit %d\n%s", code, out)
	}

	// The same file again is no new version; an edited one is.
	if code, out, _ := runCLI(t, "", "spec", "push", spec, "--item", "BAL-1"); code != 0 || !strings.Contains(out, "unchanged, still version 1") {
		t.Fatalf("same push: exit %d %s", code, out)
	}
	v1, _ := os.ReadFile(spec)
	write("churn.feature", strings.Replace(string(v1), "at least 0.8", "at least 0.9", 1))
	if code, out, _ := runCLI(t, "", "spec", "push", spec, "--item", "BAL-1"); code != 0 || !strings.Contains(out, "is version 2") || !strings.Contains(out, "0 passed, 1 failed") {
		t.Fatalf("edited push: exit %d %s", code, out)
	}
	code, out, _ = runCLI(t, "", "spec", "versions", "--item", "BAL-1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[1], "2 ") || !strings.HasPrefix(lines[2], "1 ") || !strings.Contains(lines[1], "churn.feature  editor") {
		t.Fatalf("versions: exit %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "", "spec", "show", "--item", "BAL-1", "--version", "1"); code != 0 || out != string(v1) {
		t.Fatalf("version 1: exit %d %q", code, out)
	}
	if code, _, _ := runCLI(t, "", "spec", "show", "--item", "BAL-1", "--project", "CAT"); code != cli.ExitUsage {
		t.Fatalf("item of another project: exit %d", code)
	}

	// Viewers read; only editors attach and check.
	body := `{"name":"x.feature","text":"Feature: f\n  Scenario: s\n    Given the run \"` + low + `\"\n    Then metric \"acc\" should be at most 1\n"}`
	if status, _ := a.Call("viewer", "PUT", "/api/v1/projects/BAL/items/BAL-1/spec", body, nil); status != http.StatusForbidden {
		t.Fatalf("viewer PUT = %d", status)
	}
	if status, _ := a.Call("viewer", "POST", "/api/v1/projects/BAL/items/BAL-1/spec/check", "", nil); status != http.StatusForbidden {
		t.Fatalf("viewer check = %d", status)
	}
	var got goal.ItemSpec
	if status, _ := a.Call("viewer", "GET", "/api/v1/projects/BAL/items/BAL-1/spec", "", &got); status != http.StatusOK || got.Spec.Version != 2 {
		t.Fatalf("viewer GET = %d %+v", status, got.Spec)
	}
	if status, _ := a.Call("other", "GET", "/api/v1/projects/BAL/items/BAL-1/spec", "", nil); status != http.StatusNotFound && status != http.StatusForbidden {
		t.Fatalf("outsider GET = %d", status)
	}
	if status, field := a.Call("editor", "PUT", "/api/v1/projects/BAL/items/BAL-1/spec", `{"name":"x.feature","text":"Feature: f\n  Scenario: s\n    Given nothing\n"}`, nil); status != http.StatusBadRequest || field != "text" {
		t.Fatalf("bad spec PUT = %d field %q", status, field)
	}
	if status, _ := a.Call("editor", "PUT", "/api/v1/projects/BAL/items/BAL-1/spec", body, nil); status != http.StatusCreated {
		t.Fatalf("editor PUT = %d", status)
	}
	if status, field := a.Call("viewer", "GET", "/api/v1/projects/BAL/items/BAL-1/spec/versions/x", "", nil); status != http.StatusBadRequest || field != "version" {
		t.Fatalf("bad version = %d %q", status, field)
	}
}

func errErr(s string) string {
	if s == "" {
		return ""
	}
	return "stderr: " + s
}
