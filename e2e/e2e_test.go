// Package e2e drives the browser end-to-end tests (every *.test.mjs) against
// a freshly built Trellis binary. flow.test.mjs runs first, because it claims
// the instance through the one-time setup URL; the driver then creates a
// user of its own for each other file, which builds its own data through
// the UI, so the files do not depend on each other's data.
//
// Requirements: node on PATH, Debian's chromium at /usr/bin/chromium
// (or TRELLIS_E2E_CHROMIUM), and `npm ci` run in this directory. Missing
// requirements skip the test, unless TRELLIS_TEST_REQUIRE_ALL=1, which turns
// the skip into a failure (CI sets it).
//
// TRELLIS_E2E_BINARY=/path/to/trellis uses that binary instead of building
// ../cmd/trellis.
package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	startupTimeout  = 60 * time.Second
	shutdownTimeout = 10 * time.Second
	buildTimeout    = 5 * time.Minute
	nodeTimeout     = 5 * time.Minute

	listenMarker = "Trellis is listening on http"
	setupMarker  = "/setup?token="
)

func chromiumPath() string {
	if p := os.Getenv("TRELLIS_E2E_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// requirePrereqs skips (or, with TRELLIS_TEST_REQUIRE_ALL=1, fails) when the
// browser toolchain is not installed.
func requirePrereqs(t *testing.T) {
	t.Helper()
	requireAll := os.Getenv("TRELLIS_TEST_REQUIRE_ALL") == "1"
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if requireAll {
			t.Fatalf("e2e: %s (TRELLIS_TEST_REQUIRE_ALL=1, so this is a failure; .ci/run installs everything)", msg)
		}
		t.Skipf("e2e: skipping browser test: %s (run .ci/run, or install it, to enable; set TRELLIS_TEST_REQUIRE_ALL=1 to make this fatal)", msg)
	}
	if testing.Short() && !requireAll {
		t.Skip("e2e: skipping browser test in -short mode")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not on PATH")
	}
	if _, err := os.Stat(chromiumPath()); err != nil {
		missing("%s is missing (apt-get install --no-install-recommends chromium)", chromiumPath())
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core", "package.json")); err != nil {
		missing("e2e/node_modules/playwright-core is missing (run `npm ci` in e2e/)")
	}
}

// lineLogger forwards lines to t.Log until closed, so that goroutines reading
// child output never log after the test has finished.
type lineLogger struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
}

func (l *lineLogger) log(prefix, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Logf("%s%s", prefix, line)
	}
}

func (l *lineLogger) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// scanLines reads r line by line, hands each line to fn, and drains whatever
// the scanner cannot handle so the writer never blocks.
func scanLines(r io.Reader, fn func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fn(sc.Text())
	}
	_, _ = io.Copy(io.Discard, r)
}

// cleanEnv returns the environment without any TRELLIS_* variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TRELLIS_") {
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
		t.Logf("using prebuilt binary %s", abs)
		return abs
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "trellis")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "../cmd/trellis")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build ../cmd/trellis: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// server is a running `trellis serve`.
type server struct {
	cmd        *exec.Cmd
	done       chan struct{} // closed when cmd.Wait returns
	readerDone chan struct{} // closed when its output has been read to EOF
	waitErr    error
	baseURL    string
	setupURL   string
	dataDir    string
}

func startServer(t *testing.T, bin string, logger *lineLogger) *server {
	t.Helper()
	dataDir := t.TempDir()

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir)
	cmd.Env = cleanEnv()
	cmd.Stdout = pw // one pipe for both: lines keep their relative order
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("start %s serve: %v", bin, err)
	}
	pw.Close() // the child holds its own copy

	s := &server{cmd: cmd, done: make(chan struct{}), dataDir: dataDir}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		// Safety net for early failures; the normal path has already stopped it.
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Kill()
			<-s.done
		}
	})

	var (
		mu                sync.Mutex
		baseURL, setupURL string
		found             = make(chan struct{})
		foundOnce         sync.Once
	)
	readerDone := make(chan struct{})
	s.readerDone = readerDone
	go func() {
		defer close(readerDone)
		defer pr.Close()
		scanLines(pr, func(line string) {
			logger.log("server: ", line)
			mu.Lock()
			defer mu.Unlock()
			if baseURL == "" && strings.Contains(line, listenMarker) {
				if f := strings.Fields(line); len(f) > 0 {
					baseURL = strings.TrimRight(f[len(f)-1], "/")
				}
			}
			if setupURL == "" && strings.Contains(line, setupMarker) {
				for _, f := range strings.Fields(line) {
					if strings.HasPrefix(f, "http") && strings.Contains(f, setupMarker) {
						setupURL = f
						break
					}
				}
			}
			if baseURL != "" && setupURL != "" {
				foundOnce.Do(func() { close(found) })
			}
		})
	}()
	t.Cleanup(func() {
		select {
		case <-readerDone:
		case <-time.After(5 * time.Second):
		}
	})

	select {
	case <-found:
	case <-s.done:
		<-readerDone
		t.Fatalf("trellis serve exited before printing its URLs: %v", s.waitErr)
	case <-time.After(startupTimeout):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("timed out after %s waiting for %q and %q lines (got listen URL %q, setup URL %q)",
			startupTimeout, listenMarker, setupMarker, baseURL, setupURL)
	}
	mu.Lock()
	s.baseURL, s.setupURL = baseURL, setupURL
	mu.Unlock()
	return s
}

// stop sends SIGTERM and requires a clean exit within shutdownTimeout.
func (s *server) stop(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
		t.Errorf("trellis serve exited before SIGTERM: %v", s.waitErr)
		return
	default:
	}
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("send SIGTERM: %v", err)
	}
	select {
	case <-s.done:
		t.Logf("server exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
		select { // let its last lines reach the log
		case <-s.readerDone:
		case <-time.After(2 * time.Second):
		}
		if s.waitErr != nil {
			var ee *exec.ExitError
			if errors.As(s.waitErr, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					t.Errorf("trellis serve was killed by signal %v instead of shutting down gracefully on SIGTERM", ws.Signal())
					return
				}
			}
			t.Errorf("trellis serve did not exit cleanly after SIGTERM: %v", s.waitErr)
		}
	case <-time.After(shutdownTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("trellis serve did not exit within %s of SIGTERM (killed)", shutdownTimeout)
	}
}

// runNode runs one test file with node's test runner; extra holds more
// NAME=value environment entries for it.
func runNode(t *testing.T, logger *lineLogger, file, baseURL, setupURL string, extra ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()

	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", file)
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "TRELLIS_URL", "TRELLIS_SETUP_URL", "TRELLIS_E2E_USER", "TRELLIS_E2E_PASSWORD", "NO_COLOR", "FORCE_COLOR":
		default:
			env = append(env, kv)
		}
	}
	// Plain text in the Go test log: no ANSI colours from node or Playwright.
	cmd.Env = append(append(env, "TRELLIS_URL="+baseURL, "TRELLIS_SETUP_URL="+setupURL, "NO_COLOR=1", "FORCE_COLOR=0"), extra...)
	cmd.Stdout = pw
	cmd.Stderr = pw
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
		scanLines(pr, func(line string) { logger.log("node: ", line) })
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

// testFiles lists the *.test.mjs files, flow.test.mjs first.
func testFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.test.mjs")
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i] == "flow.test.mjs" && files[j] != "flow.test.mjs" })
	if len(files) == 0 || files[0] != "flow.test.mjs" {
		t.Fatalf("e2e: flow.test.mjs is missing (found %v)", files)
	}
	return files
}

// createUser adds an instance admin through the admin command, which
// opens the live store beside the server as an operator would.
func createUser(t *testing.T, bin, dataDir, name, password string) {
	t.Helper()
	cmd := exec.Command(bin, "user", "create", name, "--admin", "--data-dir", dataDir)
	cmd.Env = append(cleanEnv(), "TRELLIS_PASSWORD="+password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("trellis user create %s: %v\n%s", name, err, out)
	}
}

func TestBrowserFlow(t *testing.T) {
	requirePrereqs(t)

	logger := &lineLogger{t: t}
	defer logger.close()

	bin := buildTrellis(t)
	srv := startServer(t, bin, logger)
	t.Logf("server at %s, setup URL %s", srv.baseURL, srv.setupURL)

	for i, file := range testFiles(t) {
		var extra []string
		if i > 0 {
			name, password := fmt.Sprintf("e2e%d", i), "e2e-password-for-"+strings.TrimSuffix(file, ".test.mjs")
			createUser(t, bin, srv.dataDir, name, password)
			extra = []string{"TRELLIS_E2E_USER=" + name, "TRELLIS_E2E_PASSWORD=" + password}
		}
		start := time.Now()
		if err := runNode(t, logger, file, srv.baseURL, srv.setupURL, extra...); err != nil {
			t.Errorf("browser test %s failed (see node: lines above; screenshots in e2e/artifacts/): %v", file, err)
		} else {
			t.Logf("browser test %s passed in %s", file, time.Since(start).Round(time.Millisecond))
		}
	}

	srv.stop(t)
}
