// Package mlflowpy proves MLflow compatibility with the client data
// scientists run: the real MLflow 3.11 Python client from
// ../shared/mlflow-client. It starts MLflow's own server from the same
// bundle and a freshly built `trellis serve` (on SQLite, and on PostgreSQL
// when TRELLIS_TEST_POSTGRES is set), runs train.py — what a training
// script does: params and metrics in a loop, artifacts of every kind,
// listing and downloading by sub-path, search_runs to pandas, nested runs,
// log_input, delete and restore — against each, and requires the same
// report from both: what the client read back, without ids and times.
//
// Requirements: the client, found through MLFLOW_PY and PYTHONPATH as
// `eval "$(../shared/mlflow-client/setup)"` exports them, else through
// client.env in this directory, which `make mlflow-py-deps` writes. Missing
// requirements skip the test, unless TRELLIS_TEST_REQUIRE_ALL=1, which turns
// the skip into a failure (CI sets it).
//
// TRELLIS_E2E_BINARY=/path/to/trellis uses that binary instead of building
// ../../cmd/trellis.
package mlflowpy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/client"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/servetest"
	"github.com/trellisml/trellis/internal/storetest"
)

const (
	suite         = "mlflow-python"
	script        = "train.py"
	scriptTimeout = 2 * time.Minute
	refTimeout    = time.Minute
	userName      = "pycompat"
	userPassword  = "py-compat-password-0123"
	projectKey    = "PYC"
)

// pythonClient returns the environment that runs the MLflow client: the
// interpreter and PYTHONPATH from the environment, else from client.env.
func pythonClient(t *testing.T) (py string, env []string) {
	t.Helper()
	if testing.Short() && os.Getenv("TRELLIS_TEST_REQUIRE_ALL") != "1" {
		t.Skipf("%s: skipped in -short mode", suite)
	}
	vars := map[string]string{"MLFLOW_PY": os.Getenv("MLFLOW_PY"), "PYTHONPATH": os.Getenv("PYTHONPATH")}
	if vars["MLFLOW_PY"] == "" {
		b, err := os.ReadFile("client.env")
		if err != nil {
			servetest.Missing(t, suite, `the MLflow Python client is not set up: MLFLOW_PY is not set and there is no client.env (run `+
				"`make mlflow-py-deps`, or eval \"$(../shared/mlflow-client/setup)\" before go test)")
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "export "), "=")
			if ok {
				vars[k] = strings.ReplaceAll(v, `\`, "") // setup quotes with printf %q
			}
		}
	}
	py, site := vars["MLFLOW_PY"], vars["PYTHONPATH"]
	if _, err := os.Stat(filepath.Join(site, "mlflow", "__init__.py")); py == "" || err != nil {
		servetest.Missing(t, suite, "the MLflow client is not unpacked at PYTHONPATH %q (MLFLOW_PY %q); run `make mlflow-py-deps` again", site, py)
	}
	return py, []string{"PYTHONPATH=" + site, "MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=1", "PYTHONDONTWRITEBYTECODE=1"}
}

// runScript runs train.py with env against the tracking server at uri and
// returns its report, or an error saying why there is none. It may run
// outside the test's goroutine, so it logs through lg and never fails t.
func runScript(lg *servetest.Logger, py string, env []string, uri string, extra ...string) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	abs, err := filepath.Abs(script)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mlflow-python-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	report := filepath.Join(dir, "report.json")
	cmd := exec.CommandContext(ctx, py, abs)
	cmd.Dir = dir
	cmd.Env = append(append(append(servetest.CleanEnv(), env...), "MLFLOW_TRACKING_URI="+uri, "REPORT_FILE="+report), extra...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		lg.Log("python: ", line)
	}
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("%s against %s failed after %s (see python: lines): %w", script, uri, took, err)
	}
	lg.Log("", fmt.Sprintf("%s ran against %s in %s", script, uri, took))
	b, err := os.ReadFile(report)
	if err != nil {
		return nil, fmt.Errorf("%s wrote no report: %w", script, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("report of %s: %w", uri, err)
	}
	if fails, ok := m["failed_checks"]; ok {
		return nil, fmt.Errorf("%s's own checks failed against %s: %v", script, uri, fails)
	}
	return m, nil
}

// compare reports every observation on which Trellis and MLflow differ.
func compare(t *testing.T, ref, got map[string]any) {
	t.Helper()
	keys := map[string]bool{}
	for k := range ref {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	show := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !reflect.DeepEqual(ref[k], got[k]) {
			t.Errorf("%q differs:\n  MLflow server: %s\n  Trellis:       %s", k, show(ref[k]), show(got[k]))
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startMLflow starts MLflow's own server from the client bundle in its own
// process group (it forks workers) and returns a function that waits for
// its /health and returns its URL; the group is killed when the test ends.
func startMLflow(t *testing.T, lg *servetest.Logger, py string, env []string) (wait func() (string, error)) {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	cmd := exec.Command(py, "-m", "mlflow", "server", "--backend-store-uri", "sqlite:///"+filepath.Join(dir, "ref.db"),
		"--artifacts-destination", filepath.Join(dir, "ref-artifacts"), "--host", "127.0.0.1", "--port", fmt.Sprint(port), "--workers", "1")
	cmd.Dir = dir
	cmd.Env = append(servetest.CleanEnv(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mlflow server: %v", err)
	}
	started := time.Now()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			lg.Log("mlflow server: ", line)
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	return func() (string, error) {
		for time.Since(started) < refTimeout {
			select {
			case <-done:
				return "", errors.New("mlflow server exited before answering /health (see mlflow server: lines)")
			case <-time.After(200 * time.Millisecond):
			}
			if res, err := http.Get(url + "/health"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					lg.Log("", fmt.Sprintf("mlflow server answered at %s after %s", url, time.Since(started).Round(time.Millisecond)))
					return url, nil
				}
			}
		}
		return "", fmt.Errorf("mlflow server did not answer /health within %s", refTimeout)
	}
}

// TestMLflowPythonClient runs train.py against MLflow's server, which is
// slow to start, while it runs it against Trellis on each database, then
// compares each Trellis report with MLflow's.
func TestMLflowPythonClient(t *testing.T) {
	py, env := pythonClient(t)
	lg := servetest.NewLogger(t)
	t.Cleanup(lg.Close)
	waitMLflow := startMLflow(t, lg, py, env)
	var ref map[string]any
	var refErr error
	refDone := make(chan struct{})
	go func() {
		defer close(refDone)
		var url string
		if url, refErr = waitMLflow(); refErr == nil {
			ref, refErr = runScript(lg, py, env, url)
		}
	}()
	t.Cleanup(func() { <-refDone })
	bin := servetest.Build(t, "../../cmd/trellis")

	dbs := []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "trellis.db") }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresDSN(t) }},
	}
	for _, tc := range dbs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lg := servetest.NewLogger(t)
			defer lg.Close()
			db := tc.db(t)
			dataDir := t.TempDir()
			servetest.Admin(t, bin, userName, userPassword, "--data-dir", dataDir, "--db", db)
			srv := servetest.Start(t, bin, lg, false, dataDir, "--db", db)
			defer srv.Stop(t)

			ctx := context.Background()
			admin := client.NewWithPassword(srv.URL, userName, userPassword)
			if _, err := admin.CreateProject(ctx, project.NewProject{Key: projectKey, Name: "mlflow-python compatibility"}); err != nil {
				t.Fatalf("create project: %v", err)
			}
			tok, err := admin.CreateToken(ctx, "mlflow-python", auth.ScopeWrite, "")
			if err != nil {
				t.Fatalf("create token: %v", err)
			}
			got, err := runScript(lg, py, env, srv.URL+"/p/"+projectKey, "MLFLOW_TRACKING_TOKEN="+tok.Secret)
			if err != nil {
				t.Fatal(err)
			}
			<-refDone
			if refErr != nil {
				t.Fatalf("no report from MLflow's own server to compare with: %v", refErr)
			}
			compare(t, ref, got)
		})
	}
}
