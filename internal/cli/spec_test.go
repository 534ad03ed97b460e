package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/cli"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// reTimes matches the durations in JUnit and JSON reports, which vary.
var reTimes = regexp.MustCompile(`(time="|"duration_ms": )[0-9.]+`)

// spec runs trellis spec check with args.
func specCheck(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	code, stdout, stderr = runCLI(t, "", append([]string{"spec", "check"}, args...)...)
	return stdout, stderr, code
}

func TestSpecCheckGolden(t *testing.T) {
	feature := filepath.Join("testdata", "spec", "golden.feature")
	junit := filepath.Join(t.TempDir(), "junit.xml")

	out, errs, code := specCheck(t, feature, "--junit", junit)
	if code != cli.ExitFailure {
		t.Errorf("exit %d, want %d; stderr %s", code, cli.ExitFailure, errs)
	}
	if errs != "trellis: 2 of 4 scenarios failed\n" {
		t.Errorf("stderr = %q", errs)
	}
	golden(t, "spec/report.txt", []byte(out))
	x, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "spec/report.junit.xml", reTimes.ReplaceAll(x, []byte("${1}0")))

	out, _, code = specCheck(t, feature, "--json")
	if code != cli.ExitFailure {
		t.Errorf("--json exit %d", code)
	}
	golden(t, "spec/report.json", reTimes.ReplaceAll([]byte(out), []byte("${1}0")))

	out, _, code = specCheck(t, filepath.Join("testdata", "spec", "regression.feature"))
	if code != cli.ExitUsage {
		t.Errorf("regression.feature: exit %d, want %d", code, cli.ExitUsage)
	}
	golden(t, "spec/regression.txt", []byte(out))

	out, errs, code = specCheck(t, feature, "--tags", "@smoke")
	if code != cli.ExitOK || !strings.HasSuffix(out, "1 passed, 0 failed\n") || errs != "" {
		t.Errorf("--tags @smoke: exit %d, stdout ends %q, stderr %q", code, out[max(0, len(out)-40):], errs)
	}
}

func TestSpecCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.feature")
	src, _ := os.ReadFile(filepath.Join("testdata", "spec", "bad.feature.txt"))
	os.WriteFile(bad, src, 0o644)
	missing := filepath.Join(dir, "missing.feature")
	os.WriteFile(missing, []byte("Feature: m\n  Scenario: s\n    Given labels from \"nope.csv\"\n    And predictions from \"nope.csv\"\n    When the predictions are scored as classification\n    Then accuracy should be at least 1\n"), 0o644)
	run := filepath.Join(dir, "run.feature")
	os.WriteFile(run, []byte("Feature: r\n  Scenario: s\n    Given the run \"abc\"\n    Then metric \"loss\" should be at most 1\n"), 0o644)
	long := filepath.Join(dir, "long.feature")
	// A 70,000-byte line: the Gherkin parser's scanner stops at 64 KiB (and
	// once crashed the command with SIGSEGV).
	os.WriteFile(long, []byte("Feature: l\n  Scenario: s\n    Given the run \"abc\"\n    Then metric \""+strings.Repeat("a", 70000)+"\" should be at most 1\n"), 0o644)
	feature := filepath.Join("testdata", "spec", "golden.feature")
	t.Setenv("TRELLIS_SERVER", "")
	t.Setenv("TRELLIS_TOKEN", "")
	t.Setenv("TRELLIS_CLIENT_CONFIG", filepath.Join(dir, "no-login.json")) // no saved server either
	labels, _ := os.ReadFile(filepath.Join("testdata", "spec", "data", "labels.csv"))
	perfect := filepath.Join(dir, "perfect.csv")
	os.WriteFile(perfect, bytes.Replace(labels, []byte("id,label"), []byte("id,prediction"), 1), 0o644)

	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"unknown step", []string{bad}, cli.ExitUsage, "", bad + ":6: unknown step: acuracy should be at least 0.8; closest known steps: accuracy should be at least N"},
		{"line too long", []string{long}, cli.ExitUsage, "", long + ":4: line is longer than 32768 bytes"},
		{"missing input", []string{missing}, cli.ExitUsage, "cannot open: no such file or directory", "1 scenario could not be checked"},
		{"run step offline", []string{run}, cli.ExitUsage, "needs a Trellis server: pass --server or set TRELLIS_SERVER", "could not be checked"},
		{"--run offline", []string{feature, "--run", "abc"}, cli.ExitUsage, "", "--run needs a Trellis server"},
		{"--report-to-server offline", []string{feature, "--report-to-server", "--project", "ML", "--item", "ML-1"}, cli.ExitUsage, "", "--report-to-server needs a Trellis server"},
		{"--report-to-server without --item", []string{feature, "--report-to-server", "--project", "ML"}, cli.ExitUsage, "", "--report-to-server needs --project KEY and --item KEY"},
		{"bad tag expression", []string{feature, "--tags", "@a and"}, cli.ExitUsage, "", "--tags: tag expression"},
		{"no such path", []string{filepath.Join(dir, "nothing")}, cli.ExitUsage, "", "no such file or directory"},
		{"directory without features", []string{t.TempDir()}, cli.ExitUsage, "", "no .feature files"},
		{"no arguments", nil, cli.ExitUsage, "", "requires at least 1 arg"},
		{"overrides replace the spec's files", []string{feature, "--labels", "testdata/spec/data/labels.csv", "--predictions", perfect}, cli.ExitFailure, "measured 1  ", "1 of 4 scenarios failed"},
		{"override with the wrong columns", []string{feature, "--tags", "@smoke", "--predictions", "testdata/spec/data/labels.csv"}, cli.ExitUsage, `testdata/spec/data/labels.csv:1: no column "prediction" in the header (columns: id, label)`, "could not be checked"},
		{"directory", []string{filepath.Join("testdata", "spec")}, cli.ExitUsage, "2 passed, 3 failed, 1 with input errors\n", "1 scenario could not be checked"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := specCheck(t, c.args...)
			if code != c.code || !strings.Contains(out, c.stdout) || !strings.Contains(errs, c.stderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant stdout ~ %q, stderr ~ %q", code, c.code, out, errs, c.stdout, c.stderr)
			}
		})
	}
}

func TestSpecCheckExamples(t *testing.T) {
	out, _, code := specCheck(t, filepath.Join("..", "..", "examples", "specs"))
	if code != cli.ExitFailure || !strings.HasSuffix(out, "4 passed, 1 failed\n") {
		t.Errorf("examples/specs: exit %d, report:\n%s", code, out)
	}
}

func TestSpecSteps(t *testing.T) {
	code, out, _ := runCLI(t, "", "spec", "steps")
	if code != cli.ExitOK || !strings.Contains(out, "accuracy should be at least N\n") || !strings.Contains(out, `labels from "PATH"`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
