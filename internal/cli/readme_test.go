package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/client"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/tracking"
)

// readmeSkipped are the README command lines a test cannot run, by prefix,
// with the reason. A line that is neither a bin/trellis command nor listed
// here fails the test, so a new README command gets classified.
var readmeSkipped = map[string]string{
	"make run":                               "builds and serves on :8420 until stopped; this test is that server",
	"make test":                              "runs every test, this one included",
	"TRELLIS_TEST_POSTGRES=":                 "runs another package's tests",
	"export MLFLOW_TRACKING":                 "environment for a Python training script",
	"python train.py":                        "needs Python and the user's script (the MLflow compatibility suite covers the client)",
	"bin/trellis import csv jira-export.csv": "needs the user's Jira export (internal/web/import_test.go and work/import_test.go cover imports)",
}

// readmeExit are the lines whose documented exit status is not 0, by
// prefix: the checks the README shows failing on purpose.
var readmeExit = map[string]int{
	"bin/trellis spec check examples/specs":               1, // prices.feature misses a goal (the README says so)
	"bin/trellis spec check examples/specs --tags @smoke": 0, // the smoke scenarios pass
	"bin/trellis spec check examples/specs --junit":       1, // the same check, as JUnit
	"bin/trellis spec check examples/specs/spam.feature":  1, // one of spam.feature's goals is missed
	"bin/trellis spec goals examples/specs/spam.feature":  1, // exit 1 unless all met
	"bin/trellis goal eval --item BAL-15":                 1, // exit 1 unless all met: BAL-15 has goals not met and without data
}

// readmeWant are substrings a line's output must hold, by prefix: where
// the README promises rows or words, an empty result fails.
var readmeWant = map[string][]string{
	"bin/trellis runs list -p BAL --filter \"metrics.recall": {"BAL-14 1024px", "BAL-15 focal loss gamma 2"},
	"bin/trellis runs list -p BAL --filter \"datasets.name":  {"BAL-14 1024px", "BAL-16 baseline 640px"},
	"bin/trellis runs show":                                  {"balloons"},
	"bin/trellis artifacts ls":                               {"metrics.json", "pr_curve.png", "model"},
	"bin/trellis artifacts get":                              {}, // writes the file, says so on stderr
	"bin/trellis item show BAL-16":                           {"followed up by BAL-17", "goals (1 of 1 met)", "BAL-16 mosaic 640px", "runs (2 linked)", "spec: none attached"},
	"bin/trellis sprint plan":                                {"BAL-8", "BAL-9"},
	"bin/trellis goal eval":                                  {"precision at least 0.85", "no data"},
	"bin/trellis spec show --item BAL-19":                    {"no data", "no run linked to BAL-19 yet"},
	"bin/trellis spec show --item BAL-6":                     {"3 passed"},
	"bin/trellis sprint --help":                              {"create"},
}

// TestReadmeCommands runs every command line of README.md's sh blocks, in
// order, against a fresh server seeded as serve --demo seeds it, signed in
// as the demo's data scientist ada. It fails on an exit status other than
// the documented one and on output without the rows the README promises.
func TestReadmeCommands(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	lines := readmeCommands(t, filepath.Join(repo, "README.md"))

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r, err := Start(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)), storetest.FastHash)
	if err != nil {
		t.Fatal(err)
	}
	const password = "a long enough readme password"
	if _, err := r.Auth.CreateUser(auth.NewContext(ctx, nil), auth.NewUser{Name: "ada", Password: password, Admin: true}); err != nil {
		t.Fatal(err)
	}
	if err := seedDemo(ctx, r.app, io.Discard); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		r.Close()
	})

	// The commands run where a clone's examples/ folder is, writing their
	// files (results.xml, downloads) into a directory of their own.
	work := t.TempDir()
	if err := os.Symlink(filepath.Join(repo, "examples"), filepath.Join(work, "examples")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	t.Setenv("TRELLIS_CLIENT_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	t.Setenv("TRELLIS_SERVER", "")
	t.Setenv("TRELLIS_TOKEN", "")
	t.Setenv("TRELLIS_PROJECT", "")
	t.Setenv("TRELLIS_PASSWORD", password)

	u, err := r.Auth.UserByName(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	ada := storetest.As(ctx, u)
	proj, err := r.Projects.Authorize(ada, "BAL", auth.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Tracking.ExperimentByName(ada, proj, tracking.DemoExperiment)
	if err != nil {
		t.Fatal(err)
	}
	runID := func(name string) string {
		t.Helper()
		runs, _, err := r.Tracking.SearchRuns(ada, proj, tracking.SearchRunsInput{ExperimentIDs: []string{fmt.Sprint(e.ID)},
			SearchInput: tracking.SearchInput{Filter: "attributes.run_name = '" + name + "'"}})
		if err != nil || len(runs) != 1 {
			t.Fatalf("demo run %q: %v %v", name, runs, err)
		}
		return runs[0].Info.ID
	}
	placeholders := map[string]func() string{
		"http://127.0.0.1:8420": func() string { return r.URL },
		"RUN_ID":                func() string { return runID("BAL-14 1024px") },
		"RUN_A":                 func() string { return runID("BAL-16 baseline 640px") },
		"RUN_B":                 func() string { return runID("BAL-16 mosaic 640px") },
		"GOAL_ID": func() string {
			c, err := loadClientConfig()
			if err != nil {
				t.Fatal(err)
			}
			gs, err := client.New(c.Server, c.Token).Goals(ctx, "BAL", "")
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gs {
				if g.Text == "precision at least 0.85" {
					return g.ID
				}
			}
			t.Fatalf("no project goal \"precision at least 0.85\" in %v", gs)
			return ""
		},
	}

	ran := 0
	for _, line := range lines {
		if reason := prefixed(readmeSkipped, line); reason != "" {
			t.Logf("not run: %s (%s)", line, reason)
			continue
		}
		for _, cmd := range strings.Split(stripComment(line), " && ") {
			cmd = strings.TrimSpace(cmd)
			raw := cmd
			for ph, value := range placeholders {
				if strings.Contains(cmd, ph) {
					cmd = strings.ReplaceAll(cmd, ph, value())
				}
			}
			args, err := shellWords(cmd)
			if err != nil || len(args) == 0 || args[0] != "bin/trellis" {
				t.Fatalf("README line %q: not a bin/trellis command (%v); run it or list it in readmeSkipped with the reason", line, err)
			}
			var out, errOut bytes.Buffer
			code := Main(ctx, args[1:], strings.NewReader(""), &out, &errOut)
			ran++
			want := 0
			if c, ok := prefixedInt(readmeExit, raw); ok {
				want = c
			}
			if code != want {
				t.Errorf("README: %s\nexit %d, want %d\nstdout:\n%s\nstderr:\n%s", line, code, want, out.String(), errOut.String())
				continue
			}
			if strings.TrimSpace(out.String()+errOut.String()) == "" {
				t.Errorf("README: %s\nprinted nothing (stderr %q)", line, errOut.String())
			}
			for _, w := range readmeWant[prefixKey(readmeWant, raw)] {
				if !strings.Contains(out.String(), w) {
					t.Errorf("README: %s\noutput lacks %q:\n%s", line, w, out.String())
				}
			}
		}
	}
	if ran < 30 {
		t.Errorf("ran %d README commands; the README has more", ran)
	}
}

// readmeCommands returns the command lines of the ```sh blocks of the file.
func readmeCommands(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "```sh"):
			in = true
		case strings.HasPrefix(l, "```"):
			in = false
		case in && strings.TrimSpace(l) != "":
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func prefixKey[V any](m map[string]V, line string) string {
	best := ""
	for p := range m {
		if strings.HasPrefix(line, p) && len(p) > len(best) {
			best = p
		}
	}
	return best
}

func prefixed(m map[string]string, line string) string { return m[prefixKey(m, line)] }

func prefixedInt(m map[string]int, line string) (int, bool) {
	k := prefixKey(m, line)
	return m[k], k != ""
}

// stripComment cuts a shell comment: a # after a blank, outside quotes.
func stripComment(line string) string {
	var q rune
	for i, c := range line {
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '#' && (i == 0 || line[i-1] == ' '):
			return strings.TrimSpace(line[:i])
		}
	}
	return line
}

// shellWords splits a command line as sh does for the README's commands:
// blanks separate words, single and double quotes group them.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	var q rune
	inWord := false
	for _, c := range s {
		switch {
		case q != 0:
			if c == q {
				q = 0
			} else {
				cur.WriteRune(c)
			}
		case c == '\'' || c == '"':
			q, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if q != 0 {
		return nil, fmt.Errorf("unclosed quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
