package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/storetest"
)

const testPassword = "a long enough test password"

// fixture is a running server with users in every role of project BAL:
// root (instance admin), owner (BAL admin), editor, viewer, and other
// (admin of CAT only).
type fixture struct {
	t      *testing.T
	run    *Running
	base   string
	tokens map[string]string // user -> write token; "owner-read" -> read token
	cfg    Config
}

// backends runs fn against SQLite and, when configured, PostgreSQL: the
// HTTP behaviour must not depend on the database.
func backends(t *testing.T, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresDSN(t)) })
}

// startFixture starts a server on db ("" = SQLite in a temp dir).
func startFixture(t *testing.T, db string) *fixture {
	t.Helper()
	return startFixtureWith(t, db, nil)
}

// startFixtureWith is startFixture with the config changed by configure
// before the server starts.
func startFixtureWith(t *testing.T, db string, configure func(*Config)) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: dir, DB: db}
	if configure != nil {
		configure(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := Start(ctx, cfg, log, storetest.FastHash)
	if err != nil {
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
	f := &fixture{t: t, run: r, base: r.URL, tokens: map[string]string{}, cfg: r.Config}
	a, w := r.app.auth, r.app.projects
	users := map[string]*auth.User{}
	for _, name := range []string{"root", "owner", "editor", "viewer", "other"} {
		u, err := a.CreateUser(ctx, auth.NewUser{Name: name, Password: testPassword, Admin: name == "root"})
		if err != nil {
			t.Fatal(err)
		}
		users[name] = u
		_, secret, err := a.CreateToken(storetest.As(ctx, u), auth.NewToken{Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = secret
	}
	_, secret, err := a.CreateToken(storetest.As(ctx, users["owner"]), auth.NewToken{Name: "ro", Scope: auth.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	f.tokens["owner-read"] = secret
	bal, err := w.CreateProject(storetest.As(ctx, users["owner"]), project.NewProject{Key: "BAL", Name: "Balloons"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateProject(storetest.As(ctx, users["other"]), project.NewProject{Key: "CAT", Name: "Cats"}); err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]auth.Role{"editor": auth.RoleEditor, "viewer": auth.RoleViewer} {
		if _, err := w.SetMember(ctx, bal, name, role); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// do sends a request as user ("" = anonymous) and returns status and body.
func (f *fixture) do(user, method, path string, body io.Reader, header ...string) (int, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.base+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[user])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// concrete fills a route pattern's wildcards.
func concrete(pattern string) string {
	r := strings.NewReplacer("{key}", "BAL", "{id}", "0000", "{user}", "viewer", "{name}", "viewer", "{path...}", "x", "{$}", "")
	p := r.Replace(pattern)
	if strings.HasSuffix(p, "/") && p != "/" {
		p += "x"
	}
	return p
}

// TestEveryRouteIsGuarded walks every registered route: each has a valid
// rule, and each non-public one refuses an anonymous caller.
func TestEveryRouteIsGuarded(t *testing.T) { backends(t, testEveryRouteIsGuarded) }

func testEveryRouteIsGuarded(t *testing.T, db string) {
	f := startFixture(t, db)
	routes := f.run.Server.Routes()
	if len(routes) < 20 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	for _, rt := range routes {
		if !rt.Access.Valid() {
			t.Errorf("%s %s has no authorization rule", rt.Method, rt.Pattern)
			continue
		}
		if rt.Access == route.Public {
			continue
		}
		method := rt.Method
		if method == "" {
			method = "GET"
		}
		status, _ := f.do("", method, concrete(rt.Pattern), nil)
		switch {
		case rt.Surface == "web" && method == "GET":
			if status != http.StatusSeeOther {
				t.Errorf("anonymous %s %s (web) = %d, want 303 to /login", method, rt.Pattern, status)
			}
		case status != http.StatusUnauthorized:
			t.Errorf("anonymous %s %s = %d, want 401", method, rt.Pattern, status)
		}
	}
}

func TestAccessMatrix(t *testing.T) { backends(t, testAccessMatrix) }

func testAccessMatrix(t *testing.T, db string) {
	f := startFixture(t, db)
	type row struct {
		method, path, body string
		want               map[string]int // user -> status
	}
	rows := []row{
		{"GET", "/api/v1/projects/BAL", "", map[string]int{"": 401, "viewer": 200, "editor": 200, "owner": 200, "other": 404, "root": 200}},
		{"GET", "/api/v1/projects/NOPE", "", map[string]int{"owner": 404, "root": 404}},
		{"PATCH", "/api/v1/projects/BAL", `{"description":"d"}`, map[string]int{"": 401, "viewer": 403, "editor": 403, "owner": 200, "owner-read": 403, "other": 404, "root": 200}},
		{"GET", "/api/v1/projects/BAL/members", "", map[string]int{"": 401, "viewer": 200, "other": 404, "owner-read": 200}},
		{"PUT", "/api/v1/projects/BAL/members/viewer", `{"role":"viewer"}`, map[string]int{"": 401, "viewer": 403, "editor": 403, "owner": 200, "other": 404, "root": 200}},
		{"DELETE", "/api/v1/projects/BAL/members/nobody", "", map[string]int{"viewer": 403, "other": 404, "owner": 404}},
		{"POST", "/api/v1/projects/CAT/archive", "", map[string]int{"owner": 404, "viewer": 404}},
		{"GET", "/api/v1/me", "", map[string]int{"": 401, "viewer": 200, "owner-read": 200}},
		{"POST", "/api/v1/tokens", `{"name":"x"}`, map[string]int{"": 401, "viewer": 201, "owner-read": 403}},
		{"POST", "/api/v1/users", `{"name":"u1","password":"` + testPassword + `"}`, map[string]int{"": 401, "owner": 403, "viewer": 403}},
		{"PATCH", "/api/v1/users/viewer", `{"disabled":false}`, map[string]int{"owner": 403, "root": 200}},
		{"POST", "/api/v1/projects", `{"key":"NEW","name":"n"}`, map[string]int{"": 401, "owner-read": 403}},
		{"GET", "/metrics", "", map[string]int{"": 401, "owner": 403, "root": 200}},
		{"GET", "/healthz", "", map[string]int{"": 200}},
		{"GET", "/readyz", "", map[string]int{"": 200}},
		{"GET", "/api/v1/openapi.json", "", map[string]int{"": 200}},
		{"GET", "/api/2.0/mlflow/experiments/search", "", map[string]int{"": 401, "viewer": 200, "root": 400}},
		{"GET", "/api/2.0/mlflow/no/such/endpoint", "", map[string]int{"": 401, "viewer": 404}},
		{"POST", "/p/BAL/api/2.0/mlflow/runs/create", `{}`, map[string]int{"": 401, "viewer": 403, "other": 404, "owner-read": 403, "editor": 200}},
		{"GET", "/p/BAL/api/2.0/mlflow-artifacts/artifacts", "", map[string]int{"": 401, "other": 404}},
		{"GET", "/p/BAL/settings", "", map[string]int{"": 303, "viewer": 200, "other": 404, "root": 200}},
		{"GET", "/projects", "", map[string]int{"": 303, "viewer": 200}},
	}
	for _, r := range rows {
		for user, want := range r.want {
			var body io.Reader
			if r.body != "" {
				body = strings.NewReader(r.body)
			}
			status, b := f.do(user, r.method, r.path, body, "Content-Type", "application/json")
			if status != want {
				t.Errorf("%s %s as %q = %d, want %d: %s", r.method, r.path, user, status, want, b)
			}
		}
	}
	// A project-scoped MLflow call from a non-member is RESOURCE_DOES_NOT_EXIST,
	// from a member the endpoint-level answer: the key does not leak.
	_, b := f.do("other", "GET", "/p/BAL/api/2.0/mlflow/experiments/search", nil)
	if !bytes.Contains(b, []byte(`"RESOURCE_DOES_NOT_EXIST"`)) {
		t.Errorf("non-member MLflow answer: %s", b)
	}
	_, b = f.do("", "GET", "/api/2.0/mlflow/experiments/search", nil)
	if !bytes.Contains(b, []byte(`"error_code":"UNAUTHENTICATED"`)) {
		t.Errorf("anonymous MLflow answer: %s", b)
	}
}

// TestListsDoNotLeak checks that list endpoints show only the caller's projects.
func TestListsDoNotLeak(t *testing.T) { backends(t, testListsDoNotLeak) }

func testListsDoNotLeak(t *testing.T, db string) {
	f := startFixture(t, db)
	keys := func(user string) []string {
		status, b := f.do(user, "GET", "/api/v1/projects", nil)
		if status != 200 {
			t.Fatalf("list as %s: %d %s", user, status, b)
		}
		var out struct{ Projects []project.Project }
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, p := range out.Projects {
			ks = append(ks, p.Key)
		}
		return ks
	}
	for user, want := range map[string]string{"viewer": "BAL", "editor": "BAL", "owner": "BAL", "other": "CAT", "root": "BAL,CAT"} {
		if got := strings.Join(keys(user), ","); got != want {
			t.Errorf("%s sees %q, want %q", user, got, want)
		}
	}
	_, b := f.do("other", "GET", "/projects", nil)
	if bytes.Contains(b, []byte("Balloons")) {
		t.Error("the projects page shows another project's name")
	}
}

// TestBadBodiesAre4xx sends malformed JSON, wrong types, empty and oversized
// bodies to every /api/v1 route that takes a body.
func TestBadBodiesAre4xx(t *testing.T) { backends(t, testBadBodiesAre4xx) }

func testBadBodiesAre4xx(t *testing.T, db string) {
	f := startFixture(t, db)
	noBody := map[string]bool{"/api/v1/projects/{key}/archive": true, "/api/v1/projects/{key}/unarchive": true}
	wrongTypes := `{"name":1,"key":[],"role":5,"disabled":"x","scope":3,"description":false,"archived":"y","expires":9,"password":1,"admin":"no"}`
	bodies := map[string]string{
		"malformed":   `{"name": "x",`,
		"garbage":     "\x00\xff not json",
		"wrong types": wrongTypes,
		"array":       `[1,2]`,
		"string":      `"hello"`,
		"empty":       "",
		"trailing":    `{} {}`,
		"unknown":     `{"zzz": 1}`,
		"oversized":   `{"name":"` + strings.Repeat("a", 2<<20) + `"}`,
	}
	tested := 0
	for _, rt := range f.run.Server.Routes() {
		if rt.Surface != "api" || (rt.Method != "POST" && rt.Method != "PUT" && rt.Method != "PATCH") || noBody[rt.Pattern] {
			continue
		}
		tested++
		for name, body := range bodies {
			status, b := f.do("root", rt.Method, concrete(rt.Pattern), strings.NewReader(body), "Content-Type", "application/json")
			if status < 400 || status >= 500 {
				t.Errorf("%s %s with %s body = %d, want 4xx: %.200s", rt.Method, rt.Pattern, name, status, b)
				continue
			}
			var eb struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
				t.Errorf("%s %s with %s body: error body %.200s", rt.Method, rt.Pattern, name, b)
			}
		}
	}
	if tested < 6 {
		t.Fatalf("only %d body-taking routes found", tested)
	}
	// The field is named for a wrong type.
	_, b := f.do("root", "POST", "/api/v1/projects", strings.NewReader(`{"key":5,"name":"x"}`))
	if !bytes.Contains(b, []byte(`"field":"key"`)) {
		t.Errorf("wrong type answer does not name the field: %s", b)
	}
}

func TestSecurityHeadersAndCrossOrigin(t *testing.T) {
	f := startFixture(t, "")
	resp, err := http.Get(f.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Request-Id"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP: %s", resp.Header.Get("Content-Security-Policy"))
	}
	// A cross-site form post is refused even with valid credentials.
	status, _ := f.do("owner", "POST", "/api/v1/projects", strings.NewReader(`{"key":"EVIL","name":"x"}`),
		"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if status != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", status)
	}
}

func TestBasicAuth(t *testing.T) {
	f := startFixture(t, "")
	basic := func(user, secret string) int {
		req, _ := http.NewRequest("GET", f.base+"/api/v1/me", nil)
		req.SetBasicAuth(user, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := basic("viewer", testPassword); s != 200 {
		t.Fatalf("basic with password = %d", s)
	}
	if s := basic("viewer", f.tokens["viewer"]); s != 200 {
		t.Fatalf("basic with token = %d", s)
	}
	if s := basic("owner", f.tokens["viewer"]); s != 401 {
		t.Fatalf("basic with another user's token = %d", s)
	}
	// A changed password ends the cached verification at once.
	if err := f.run.Auth.SetPassword(context.Background(), "viewer", "another long password"); err != nil {
		t.Fatal(err)
	}
	if s := basic("viewer", testPassword); s != 401 {
		t.Fatalf("basic with the old password after a change = %d", s)
	}
	if s := basic("viewer", "another long password"); s != 200 {
		t.Fatalf("basic with the new password = %d", s)
	}
	// Wrong credentials are a 401 even on a route that would otherwise 404.
	req, _ := http.NewRequest("GET", f.base+"/api/v1/projects/BAL", nil)
	req.Header.Set("Authorization", "Bearer trl_forged")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("forged token = %d", resp.StatusCode)
	}
}

func TestSetupURLIsOneTime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	var out bytes.Buffer
	cfg := Config{Addr: "127.0.0.1:0", DataDir: dir, LogFormat: "json"}
	if err := cfg.resolve(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, &syncWriter{w: &out}, io.Discard) }()
	var setup string
	deadline := time.Now().Add(10 * time.Second)
	for setup == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		for _, line := range strings.Split(outString(&out), "\n") {
			if i := strings.Index(line, "http"); i >= 0 && strings.Contains(line, "/setup?token=") {
				setup = line[i:]
			}
		}
	}
	if setup == "" {
		t.Fatalf("no setup URL printed: %s", outString(&out))
	}
	u, _ := url.Parse(setup)
	form := url.Values{"token": {u.Query().Get("token")}, "name": {"first"}, "password": {testPassword}, "confirm": {testPassword}}
	post := func() int {
		req, _ := http.NewRequest("POST", setup, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post(); s != http.StatusSeeOther {
		t.Fatalf("first setup = %d", s)
	}
	if s := post(); s != http.StatusGone {
		t.Fatalf("second setup = %d, want 410", s)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, err := openAndCount(t, filepath.Join(dir, "trellis.db")); err != nil || n != 1 {
		t.Fatalf("users after setup: %d %v", n, err)
	}
}
