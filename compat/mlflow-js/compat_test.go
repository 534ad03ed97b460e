// Package mlflowjs proves MLflow compatibility with a client Trellis did not
// write: it boots a freshly built `trellis serve` (on SQLite, and on
// PostgreSQL when TRELLIS_TEST_POSTGRES is set), creates a user, a project
// and a write token, and runs mlflow.test.mjs, which drives the server with
// the npm package `mlflow` (pinned in package-lock.json), once at the
// project's URI (/p/KEY) and once at the bare server URL.
//
// Requirements: node on PATH and `npm ci` run in this directory. Missing
// requirements skip the test, unless TRELLIS_TEST_REQUIRE_ALL=1, which turns
// the skip into a failure (CI sets it).
//
// TRELLIS_E2E_BINARY=/path/to/trellis uses that binary instead of building
// ../../cmd/trellis.
package mlflowjs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/storetest"
)

const (
	startupTimeout  = 60 * time.Second
	shutdownTimeout = 10 * time.Second
	buildTimeout    = 5 * time.Minute
	nodeTimeout     = 2 * time.Minute

	listenMarker = "Trellis is listening on http"
	testFile     = "mlflow.test.mjs"
	userName     = "jscompat"
	userPassword = "js-compat-password-0123"
	projectKey   = "JSC"
)

// requirePrereqs skips (or, with TRELLIS_TEST_REQUIRE_ALL=1, fails) when
// node or the npm package is not installed.
func requirePrereqs(t *testing.T) {
	t.Helper()
	requireAll := os.Getenv("TRELLIS_TEST_REQUIRE_ALL") == "1"
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if requireAll {
			t.Fatalf("mlflow-js: %s (TRELLIS_TEST_REQUIRE_ALL=1, so this is a failure; .ci/run installs everything)", msg)
		}
		t.Skipf("mlflow-js: skipping the npm mlflow client test: %s (run .ci/run or `make test` to enable; set TRELLIS_TEST_REQUIRE_ALL=1 to make this fatal)", msg)
	}
	if testing.Short() && !requireAll {
		t.Skip("mlflow-js: skipping in -short mode")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "mlflow", "package.json")); err != nil {
		missing("compat/mlflow-js/node_modules/mlflow is missing (run `npm ci` in compat/mlflow-js/)")
	}
}

// logger forwards lines to t.Log until closed, so that goroutines reading
// child output never log after the test has finished.
type logger struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
}

func (l *logger) log(prefix, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Logf("%s%s", prefix, line)
	}
}

func (l *logger) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// scanLines hands each line of r to fn, then drains r so the writer never blocks.
func scanLines(r io.Reader, fn func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fn(sc.Text())
	}
	_, _ = io.Copy(io.Discard, r)
}

// cleanEnv returns the environment without TRELLIS_* and MLFLOW_* variables,
// so that the developer's own settings cannot leak into the children.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TRELLIS_") && !strings.HasPrefix(kv, "MLFLOW_") {
			env = append(env, kv)
		}
	}
	return env
}

func buildTrellis(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("TRELLIS_E2E_BINARY"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatalf("TRELLIS_E2E_BINARY: %v", err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "trellis")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/trellis").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ../../cmd/trellis: %v\n%s", err, out)
	}
	return bin
}

// serve creates the instance admin, starts `trellis serve` on :0 against db
// and returns its base URL; the server is stopped with SIGTERM, and must
// exit cleanly, when the test ends.
func serve(t *testing.T, bin, db string, lg *logger) string {
	t.Helper()
	dataDir := t.TempDir()
	storeArgs := []string{"--data-dir", dataDir, "--db", db}

	create := exec.Command(bin, append([]string{"user", "create", userName, "--admin"}, storeArgs...)...)
	create.Env = append(cleanEnv(), "TRELLIS_PASSWORD="+userPassword)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("trellis user create: %v\n%s", err, out)
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, storeArgs...)...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("start trellis serve: %v", err)
	}
	pw.Close()
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()

	urls := make(chan string, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer pr.Close()
		sent := false
		scanLines(pr, func(line string) {
			lg.log("server: ", line)
			if !sent && strings.Contains(line, listenMarker) {
				f := strings.Fields(line)
				urls <- strings.TrimRight(f[len(f)-1], "/")
				sent = true
			}
		})
	}()

	t.Cleanup(func() {
		select {
		case <-done:
			t.Errorf("trellis serve exited before SIGTERM: %v", waitErr)
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
			if waitErr != nil {
				t.Errorf("trellis serve did not exit cleanly after SIGTERM: %v", waitErr)
			}
		case <-time.After(shutdownTimeout):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("trellis serve did not exit within %s of SIGTERM (killed)", shutdownTimeout)
		}
		select {
		case <-readerDone:
		case <-time.After(5 * time.Second):
		}
	})

	select {
	case u := <-urls:
		return u
	case <-done:
		<-readerDone
		t.Fatalf("trellis serve exited before listening: %v", waitErr)
	case <-time.After(startupTimeout):
		t.Fatalf("timed out after %s waiting for %q", startupTimeout, listenMarker)
	}
	return ""
}

// postJSON sends body to base+path as the admin (HTTP basic) and decodes a
// 201 answer into out.
func postJSON(t *testing.T, base, path string, body, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(userName, userPassword)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, res.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("POST %s: decode %s: %v", path, data, err)
	}
}

// runNode runs the test file with node's test runner against trackingURI.
func runNode(t *testing.T, lg *logger, trackingURI, token string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", testFile)
	var env []string
	for _, kv := range cleanEnv() {
		if k, _, _ := strings.Cut(kv, "="); k != "NO_COLOR" && k != "FORCE_COLOR" {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "MLFLOW_TRACKING_URI="+trackingURI, "MLFLOW_TRACKING_TOKEN="+token, "NO_COLOR=1", "FORCE_COLOR=0")
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("start node: %w", err)
	}
	pw.Close()
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer pr.Close()
		scanLines(pr, func(line string) { lg.log("node: ", line) })
	}()
	err = cmd.Wait()
	select {
	case <-readerDone:
	case <-time.After(10 * time.Second):
	}
	if ctx.Err() != nil {
		return fmt.Errorf("node --test timed out after %s: %w", nodeTimeout, err)
	}
	return err
}

func TestMLflowJSClient(t *testing.T) {
	requirePrereqs(t)
	bin := buildTrellis(t)
	dbs := []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "trellis.db") }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresDSN(t) }},
	}
	for _, tc := range dbs {
		t.Run(tc.name, func(t *testing.T) {
			lg := &logger{t: t}
			defer lg.close()
			base := serve(t, bin, tc.db(t), lg)

			var project struct {
				Key string `json:"key"`
			}
			postJSON(t, base, "/api/v1/projects", map[string]string{"key": projectKey, "name": "mlflow-js compatibility"}, &project)
			var token struct {
				Secret string `json:"secret"`
			}
			postJSON(t, base, "/api/v1/tokens", map[string]string{"name": "mlflow-js", "scope": "write"}, &token)
			if project.Key != projectKey || !strings.HasPrefix(token.Secret, "trl_") {
				t.Fatalf("setup answered project %q, token %q", project.Key, token.Secret)
			}

			// The project's own mount, then the bare server URL, which
			// serves the user's only project: what a user who sets
			// MLFLOW_TRACKING_URI to the server's address gets.
			for _, uri := range []string{base + "/p/" + projectKey, base} {
				start := time.Now()
				if err := runNode(t, lg, uri, token.Secret); err != nil {
					t.Fatalf("the npm mlflow client failed against Trellis at %s (see node: lines above): %v", uri, err)
				}
				t.Logf("%s passed against %s in %s", testFile, uri, time.Since(start).Round(time.Millisecond))
			}
		})
	}
}
