// Package apptest starts the whole program for surface tests: the store
// (a temporary SQLite file, or a schema of its own on the PostgreSQL server
// TRELLIS_TEST_POSTGRES names), every service and surface wired by
// internal/cli exactly as trellis serve wires them, listening on
// 127.0.0.1:0, with a fixture of users, tokens and projects to test as.
//
// Tests that use it are external test packages (package httpapi_test,
// package cli_test ...): apptest imports internal/cli, which imports every
// surface.
package apptest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/cli"
	"github.com/trellisml/trellis/internal/client"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/storetest"
)

// Password is the password of every fixture user.
const Password = "a long enough test password"

// Backend is the database a test runs on.
type Backend string

// The backends.
const (
	SQLite     Backend = "sqlite"
	PostgreSQL Backend = "postgres"
)

// Backends runs fn as a subtest on SQLite and on PostgreSQL: behaviour
// must not depend on the database. Without TRELLIS_TEST_POSTGRES the
// PostgreSQL subtest is skipped, saying so, or fails under
// TRELLIS_TEST_REQUIRE_ALL=1.
func Backends(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range []Backend{SQLite, PostgreSQL} {
		t.Run(string(b), func(t *testing.T) {
			if b == PostgreSQL && os.Getenv("TRELLIS_TEST_POSTGRES") == "" {
				storetest.PostgresDSN(t) // skips, or fails under TRELLIS_TEST_REQUIRE_ALL=1
			}
			fn(t, b)
		})
	}
}

// DB returns the --db value of a fresh database on b: "" for SQLite (the
// file in the data directory), for PostgreSQL the DSN of a new schema,
// dropped when the test ends (storetest.PostgresDSN, which skips the test
// without TRELLIS_TEST_POSTGRES).
func (b Backend) DB(tb testing.TB) string {
	tb.Helper()
	if b == PostgreSQL {
		return storetest.PostgresDSN(tb)
	}
	return ""
}

// App is the running program with its fixture: users root (instance
// admin), owner (admin of project BAL "Balloons"), editor and viewer (of
// BAL), and other (admin of project CAT "Cats" only), each with a write
// token; "owner-read" names owner's read-scoped token.
type App struct {
	*cli.Running
	// Admin is a client of the JSON API as root.
	Admin *client.Client

	tb       testing.TB
	logs     string // the file the program logs to
	tokens   map[string]string
	users    map[string]*auth.User
	projects map[string]*project.Project
}

// Start starts the program on backend b in a temporary data directory,
// with the config changed by each configure first, creates the fixture,
// and stops it when the test ends.
func Start(tb testing.TB, b Backend, configure ...func(*cli.Config)) *App {
	tb.Helper()
	cfg := cli.Config{Addr: "127.0.0.1:0", DataDir: tb.TempDir(), DB: b.DB(tb)}
	for _, c := range configure {
		c(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := filepath.Join(tb.TempDir(), "trellis.log")
	logFile, err := os.Create(logs)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { logFile.Close() })
	r, err := cli.Start(ctx, cfg, slog.New(slog.NewTextHandler(logFile, nil)), storetest.FastHash)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
		r.Close()
	})
	a := &App{Running: r, tb: tb, logs: logs, tokens: map[string]string{}, users: map[string]*auth.User{}, projects: map[string]*project.Project{}}
	a.seed(ctx)
	a.Admin = a.Client("root")
	return a
}

// Logs returns what the program has logged so far, in slog's text format.
func (a *App) Logs() string {
	a.tb.Helper()
	b, err := os.ReadFile(a.logs)
	if err != nil {
		a.tb.Fatal(err)
	}
	return string(b)
}

// seed creates the fixture's users, tokens, projects and members.
func (a *App) seed(ctx context.Context) {
	tb := a.tb
	tb.Helper()
	for _, name := range []string{"root", "owner", "editor", "viewer", "other"} {
		u, err := a.Auth.CreateUser(ctx, auth.NewUser{Name: name, Password: Password, Admin: name == "root"})
		if err != nil {
			tb.Fatal(err)
		}
		a.users[name] = u
		_, secret, err := a.Auth.CreateToken(a.As(name), auth.NewToken{Name: "test"})
		if err != nil {
			tb.Fatal(err)
		}
		a.tokens[name] = secret
	}
	_, secret, err := a.Auth.CreateToken(a.As("owner"), auth.NewToken{Name: "ro", Scope: auth.ScopeRead})
	if err != nil {
		tb.Fatal(err)
	}
	a.tokens["owner-read"] = secret
	for key, p := range map[string]struct{ owner, name string }{"BAL": {"owner", "Balloons"}, "CAT": {"other", "Cats"}} {
		if a.projects[key], err = a.Projects.CreateProject(a.As(p.owner), project.NewProject{Key: key, Name: p.name}); err != nil {
			tb.Fatal(err)
		}
	}
	for name, role := range map[string]auth.Role{"editor": auth.RoleEditor, "viewer": auth.RoleViewer} {
		if _, err := a.Projects.SetMember(ctx, a.projects["BAL"], name, role); err != nil {
			tb.Fatal(err)
		}
	}
}

// Token returns the fixture user's write token ("owner-read": owner's
// read token).
func (a *App) Token(user string) string {
	a.tb.Helper()
	t, ok := a.tokens[user]
	if !ok {
		a.tb.Fatalf("apptest: no token %q", user)
	}
	return t
}

// Client returns a client of the JSON API as the fixture user.
func (a *App) Client(user string) *client.Client { return client.New(a.URL, a.Token(user)) }

// As returns a context acting as the fixture user with a write scope, for
// calling the services directly.
func (a *App) As(user string) context.Context {
	u, ok := a.users[user]
	if !ok {
		a.tb.Fatalf("apptest: no user %q", user)
	}
	return storetest.As(context.Background(), u)
}

// Project returns the fixture's project BAL or CAT.
func (a *App) Project(key string) *project.Project { return a.projects[key] }

// Do sends a request as user ("" = anonymous; otherwise with the user's
// token as bearer) with the header name/value pairs and returns the status
// and body. It does not follow redirects.
func (a *App) Do(user, method, path string, body io.Reader, header ...string) (int, []byte) {
	a.tb.Helper()
	req, err := http.NewRequest(method, a.URL+path, body)
	if err != nil {
		a.tb.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token(user))
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		a.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Call sends a JSON request to /api/v1 (body "" = none) and decodes a 2xx
// answer into out (nil: not decoded). It fails the test on a 5xx, or on a
// 4xx without a proper error body, and returns the status and the 4xx
// error's field.
func (a *App) Call(user, method, path, body string, out any) (int, string) {
	a.tb.Helper()
	var status int
	var b []byte
	if body != "" {
		status, b = a.Do(user, method, path, strings.NewReader(body), "Content-Type", "application/json")
	} else {
		status, b = a.Do(user, method, path, nil)
	}
	if status >= 500 {
		a.tb.Fatalf("%s %s = %d: %s", method, path, status, b)
	}
	if status >= 400 {
		var eb struct {
			Error struct{ Field, Message string }
		}
		if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Message == "" {
			a.tb.Fatalf("%s %s = %d with a bad error body: %s", method, path, status, b)
		}
		return status, eb.Error.Field
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			a.tb.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return status, ""
}

// MustCall is Call failing the test on any 4xx.
func (a *App) MustCall(user, method, path, body string, out any) {
	a.tb.Helper()
	if status, field := a.Call(user, method, path, body, out); status >= 400 {
		a.tb.Fatalf("%s %s %s = %d (field %q)", method, path, body, status, field)
	}
}

// MLflow calls the MLflow REST surface as user and decodes the answer,
// failing the test on anything but 200.
func (a *App) MLflow(user, method, path, body string) map[string]any {
	a.tb.Helper()
	status, b := a.Do(user, method, path, strings.NewReader(body), "Content-Type", "application/json")
	if status != http.StatusOK {
		a.tb.Fatalf("%s %s = %d %s", method, path, status, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		a.tb.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
	return out
}

// NewRun creates a run in BAL's Default experiment as the editor and
// returns the experiment and run ids.
func (a *App) NewRun() (expID, runID string) {
	a.tb.Helper()
	info := a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/create", `{}`)["run"].(map[string]any)["info"].(map[string]any)
	return info["experiment_id"].(string), info["run_id"].(string)
}

// LogRun creates a run in experiment exp of project BAL as the editor with
// tags, logs each metric's history in order (the last value is the latest)
// and finishes it, as an MLflow client would. It returns the run id.
func (a *App) LogRun(exp, name string, start int64, tags map[string]string, metrics map[string][]float64) string {
	a.tb.Helper()
	tagJSON := []string{}
	for k, v := range tags {
		tagJSON = append(tagJSON, fmt.Sprintf(`{"key":%q,"value":%q}`, k, v))
	}
	out := a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/create",
		fmt.Sprintf(`{"experiment_id":%q,"run_name":%q,"start_time":%d,"tags":[%s]}`, exp, name, start, strings.Join(tagJSON, ",")))
	id := out["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	for k, vs := range metrics {
		for step, v := range vs {
			a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/log-metric",
				fmt.Sprintf(`{"run_id":%q,"key":%q,"value":%v,"timestamp":%d,"step":%d}`, id, k, v, start+int64(step), step))
		}
	}
	a.MLflow("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/update", fmt.Sprintf(`{"run_id":%q,"status":"FINISHED","end_time":%d}`, id, start+100))
	return id
}

// Concrete fills a route pattern's wildcards so that it can be requested:
// project BAL, user viewer, an id that names nothing.
func Concrete(pattern string) string {
	r := strings.NewReplacer("{key}", "BAL", "{id}", "0000", "{user}", "viewer", "{name}", "viewer", "{path...}", "x", "{$}", "")
	p := r.Replace(pattern)
	if strings.HasSuffix(p, "/") && p != "/" {
		p += "x"
	}
	return p
}
