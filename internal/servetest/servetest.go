// Package servetest runs the real trellis binary as a child process for the
// tests that must see it from outside: the browser tests, the third-party
// MLflow client test. It builds the binary, starts `trellis serve` on :0,
// reads the URLs it prints, runs node test files against it, and requires a
// graceful exit on SIGTERM.
package servetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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

	listenMarker = "Trellis is listening on http"
	setupMarker  = "/setup?token="
)

// Missing skips the test because a prerequisite is absent — or fails it
// when TRELLIS_TEST_REQUIRE_ALL=1, so that CI cannot skip silently.
func Missing(t *testing.T, suite, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("TRELLIS_TEST_REQUIRE_ALL") == "1" {
		t.Fatalf("%s: %s (TRELLIS_TEST_REQUIRE_ALL=1, so this is a failure; .ci/run installs everything)", suite, msg)
	}
	t.Skipf("%s: skipped: %s (run .ci/run or `make test` to enable; TRELLIS_TEST_REQUIRE_ALL=1 makes this fatal)", suite, msg)
}

// RequireNode skips or fails (see Missing) without node on PATH or without
// the npm package pkg installed in the test's directory; in -short mode it
// skips unless everything is required.
func RequireNode(t *testing.T, suite, pkg string) {
	t.Helper()
	if testing.Short() && os.Getenv("TRELLIS_TEST_REQUIRE_ALL") != "1" {
		t.Skipf("%s: skipped in -short mode", suite)
	}
	if _, err := exec.LookPath("node"); err != nil {
		Missing(t, suite, "node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join("node_modules", pkg, "package.json")); err != nil {
		Missing(t, suite, "node_modules/%s is missing (run `npm ci` in the test's directory)", pkg)
	}
}

// Logger forwards child output to t.Log until closed, so that goroutines
// reading it never log after the test has finished.
type Logger struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
}

// NewLogger returns a Logger for t; the caller closes it when the test ends.
func NewLogger(t *testing.T) *Logger { return &Logger{t: t} }

// Log logs one line with a prefix naming its source.
func (l *Logger) Log(prefix, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Logf("%s%s", prefix, line)
	}
}

// Close stops logging.
func (l *Logger) Close() {
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

// CleanEnv returns the environment without TRELLIS_* and MLFLOW_* variables
// and without colour switches, so the developer's own settings cannot leak
// into the children and their output stays plain text.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TRELLIS_") || strings.HasPrefix(k, "MLFLOW_") || k == "NO_COLOR" || k == "FORCE_COLOR" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "NO_COLOR=1", "FORCE_COLOR=0")
}

// Build compiles cmd/trellis (cmdDir is its path relative to the test's
// directory) into a temporary directory, or returns TRELLIS_E2E_BINARY when
// that names a prebuilt binary.
func Build(t *testing.T, cmdDir string) string {
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
	start := time.Now()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, cmdDir).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", cmdDir, err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// Admin runs `trellis user create NAME --admin` against the store that
// storeArgs (--data-dir, --db) name, as an operator would beside a live server.
func Admin(t *testing.T, bin, name, password string, storeArgs ...string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"user", "create", name, "--admin"}, storeArgs...)...)
	cmd.Env = append(CleanEnv(), "TRELLIS_PASSWORD="+password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("trellis user create %s: %v\n%s", name, err, out)
	}
}

// Server is a running `trellis serve`.
type Server struct {
	URL      string // base URL, no trailing slash
	SetupURL string // the one-time setup URL, when the store had no users
	DataDir  string

	cmd        *exec.Cmd
	done       chan struct{} // closed when cmd.Wait returns
	readerDone chan struct{} // closed when its output has been read to EOF
	waitErr    error
}

// Start runs `trellis serve --addr 127.0.0.1:0 --data-dir DATADIR` plus args
// and waits for its listen line; with wantSetup it also waits for the setup
// URL. The server is killed if the test ends without Stop.
func Start(t *testing.T, bin string, lg *Logger, wantSetup bool, dataDir string, args ...string) *Server {
	t.Helper()
	s := &Server{DataDir: dataDir, done: make(chan struct{}), readerDone: make(chan struct{})}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", s.DataDir}, args...)...)
	s.cmd.Env = CleanEnv()
	s.cmd.Stdout, s.cmd.Stderr = pw, pw // one pipe: lines keep their order
	if err := s.cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("start %s serve: %v", bin, err)
	}
	pw.Close() // the child holds its own copy
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select { // a safety net for early failures; Stop has normally run
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		select {
		case <-s.readerDone:
		case <-time.After(5 * time.Second):
		}
	})

	var mu sync.Mutex
	var url, setup string // written by the reader, copied into s once found
	found := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(s.readerDone)
		defer pr.Close()
		scanLines(pr, func(line string) {
			lg.Log("server: ", line)
			mu.Lock()
			defer mu.Unlock()
			if url == "" && strings.Contains(line, listenMarker) {
				f := strings.Fields(line)
				url = strings.TrimRight(f[len(f)-1], "/")
			}
			if setup == "" && strings.Contains(line, setupMarker) {
				for _, f := range strings.Fields(line) {
					if strings.HasPrefix(f, "http") && strings.Contains(f, setupMarker) {
						setup = f
					}
				}
			}
			if url != "" && (!wantSetup || setup != "") {
				once.Do(func() { close(found) })
			}
		})
	}()
	select {
	case <-found:
	case <-s.done:
		<-s.readerDone
		t.Fatalf("trellis serve exited before printing its URLs: %v", s.waitErr)
	case <-time.After(startupTimeout):
		t.Fatalf("timed out after %s waiting for trellis serve to print its URLs", startupTimeout)
	}
	mu.Lock()
	defer mu.Unlock()
	s.URL, s.SetupURL = url, setup
	return s
}

// Stop sends SIGTERM and requires a clean exit (status 0) within ten seconds.
func (s *Server) Stop(t *testing.T) {
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
		var ee *exec.ExitError
		if errors.As(s.waitErr, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				t.Errorf("trellis serve was killed by signal %v instead of shutting down gracefully on SIGTERM", ws.Signal())
				return
			}
		}
		if s.waitErr != nil {
			t.Errorf("trellis serve did not exit cleanly after SIGTERM: %v", s.waitErr)
		}
	case <-time.After(shutdownTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("trellis serve did not exit within %s of SIGTERM (killed)", shutdownTimeout)
	}
}

// RunNode runs `node --test FILE` in the test's directory with CleanEnv plus
// env, logging its output, and returns its exit error.
func RunNode(t *testing.T, lg *Logger, timeout time.Duration, file string, env ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", file)
	cmd.Env = append(CleanEnv(), env...)
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
		scanLines(pr, func(line string) { lg.Log("node: ", line) })
	}()
	err = cmd.Wait()
	select {
	case <-readerDone:
	case <-time.After(10 * time.Second):
	}
	if ctx.Err() != nil {
		return fmt.Errorf("node --test %s timed out after %s: %w", file, timeout, err)
	}
	return err
}
