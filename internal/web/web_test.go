package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

const testPassword = "correct-horse-battery-9"

// env is one UI over a fresh SQLite store, behind a stand-in for the
// server's session middleware.
type env struct {
	t        *testing.T
	ui       *UI
	auth     *auth.Service
	projects *project.Service
	work     *work.Service
	track    *tracking.Service
	goals    *goal.Service
	h        http.Handler
	logs     *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := auth.NewService(db, auth.HashParams{Memory: 64, Time: 1, Threads: 1})
	ps := project.NewService(db, a)
	w := work.NewService(db, ps)
	tr := tracking.NewService(db)
	gs := goal.NewService(db, tr)
	// Goals as the server wires them: a run that finishes re-checks specs,
	// a decision keeps the goal results of its moment.
	tr.OnRunFinished(func(ctx context.Context, ev tracking.RunFinished) {
		if err := gs.SpecRunFinished(ctx, ev); err != nil {
			t.Errorf("spec hook: %v", err)
		}
	})
	w.OnDecided(func(ctx context.Context, ev work.Decided) {
		if err := gs.SnapshotDecision(ctx, ev.Project, goal.ItemRef{ID: ev.Decision.ItemID, Key: ev.Decision.Item}, ev.Decision.DecidedAt); err != nil {
			t.Errorf("goal snapshot: %v", err)
		}
	})
	logs := &syncBuffer{}
	ui, err := New(Options{Auth: a, Projects: ps, Work: w, Tracking: tr, Goals: gs, BaseURL: "http://trellis.test/", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ui.Surface().Register(mux)
	return &env{t: t, ui: ui, auth: a, projects: ps, work: w, track: tr, goals: gs, h: withSession(a, mux), logs: logs}
}

// withSession stands in for the server's middleware: it resolves the
// session cookie into a principal, and a stale cookie into an anonymous call.
func withSession(a *auth.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(SessionCookie); err == nil {
			p, err := a.AuthenticateSession(r.Context(), c.Value)
			switch {
			case err == nil:
				r = r.WithContext(auth.NewContext(r.Context(), p))
			case trellis.ErrorCode(err) != trellis.EUNAUTHENTICATED:
				r = r.WithContext(route.WithCredentialError(r.Context(), err))
			}
		}
		next.ServeHTTP(w, r)
	})
}

type req struct {
	method  string
	target  string
	body    io.Reader // a raw body, when form is nil
	form    url.Values
	session string
	header  map[string]string
}

func (e *env) do(rq req) *httptest.ResponseRecorder {
	e.t.Helper()
	body := rq.body
	if rq.form != nil {
		body = strings.NewReader(rq.form.Encode())
	}
	if rq.method == "" {
		rq.method = http.MethodGet
	}
	r := httptest.NewRequest(rq.method, rq.target, body)
	if rq.form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rq.session != "" {
		r.AddCookie(&http.Cookie{Name: SessionCookie, Value: rq.session})
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func (e *env) get(target, session string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(req{target: target, session: session})
}

func (e *env) post(target, session string, form url.Values) *httptest.ResponseRecorder {
	e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return e.do(req{method: http.MethodPost, target: target, session: session, form: form})
}

// mustUser creates a user and returns a session for them.
func (e *env) mustUser(name string, admin bool) string {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.auth.CreateUser(ctx, auth.NewUser{Name: name, Password: testPassword, Admin: admin}); err != nil {
		e.t.Fatalf("create user %s: %v", name, err)
	}
	_, session, err := e.auth.Login(ctx, name, testPassword)
	if err != nil {
		e.t.Fatalf("login %s: %v", name, err)
	}
	return session
}

// mustProject creates a project as the session's user.
func (e *env) mustProject(session, key, name string) *project.Project {
	e.t.Helper()
	ctx := e.ctx(session)
	p, err := e.projects.CreateProject(ctx, project.NewProject{Key: key, Name: name, Description: "about " + name})
	if err != nil {
		e.t.Fatalf("create project %s: %v", key, err)
	}
	return p
}

func (e *env) ctx(session string) context.Context {
	e.t.Helper()
	p, err := e.auth.AuthenticateSession(context.Background(), session)
	if err != nil {
		e.t.Fatalf("authenticate: %v", err)
	}
	return auth.NewContext(context.Background(), p)
}

func (e *env) valid(session string) bool {
	_, err := e.auth.AuthenticateSession(context.Background(), session)
	return err == nil
}

func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie set; headers %v", SessionCookie, w.Header())
	return nil
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body:\n%s", w.Code, status, w.Body.String())
	}
}

func wantRedirect(t *testing.T, w *httptest.ResponseRecorder, location string) {
	t.Helper()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != location {
		t.Fatalf("got %d Location %q, want 303 to %q; body:\n%s", w.Code, w.Header().Get("Location"), location, w.Body.String())
	}
}

func wantBody(t *testing.T, w *httptest.ResponseRecorder, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("body lacks %q; body:\n%s", s, w.Body.String())
		}
	}
}

func wantNoBody(t *testing.T, w *httptest.ResponseRecorder, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(w.Body.String(), s) {
			t.Errorf("body contains %q", s)
		}
	}
}

func TestSetupFlow(t *testing.T) {
	e := newEnv(t)
	token, ok, err := e.auth.SetupToken(context.Background())
	if err != nil || !ok {
		t.Fatalf("SetupToken: %v %v", ok, err)
	}
	wantStatus(t, e.get("/setup?token=wrong", ""), http.StatusGone)

	w := e.get("/setup?token="+url.QueryEscape(token), "")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `<label for="name">Username</label>`, `<label for="password">Password</label>`,
		`<label for="confirm">Confirm password</label>`, `name="demo" value="1" checked`, `>Create admin</button>`)
	if w.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("setup page Referrer-Policy = %q", w.Header().Get("Referrer-Policy"))
	}

	form := url.Values{"token": {token}, "name": {"admin"}, "password": {testPassword}, "confirm": {testPassword + "x"}, "demo": {"1"}}
	w = e.post("/setup", "", form)
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, "The passwords do not match.", `value="admin"`)
	wantNoBody(t, w, testPassword)

	form.Set("password", "short")
	form.Set("confirm", "short")
	w = e.post("/setup", "", form)
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="password-error"`, "at least 12 characters")

	form.Set("password", testPassword)
	form.Set("confirm", testPassword)
	w = e.post("/setup", "", form)
	wantRedirect(t, w, "/projects")
	c := sessionCookie(t, w)
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.MaxAge != int(auth.SessionTTL.Seconds()) {
		t.Errorf("cookie = %+v", c)
	}
	if !e.valid(c.Value) {
		t.Fatal("setup session does not authenticate")
	}
	w = e.get("/projects", c.Value)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `id="user-menu"`, "admin", "Balloon detector", `href="/p/BAL"`)
	// The demo has tracking runs, linked to its experiment items.
	w = e.get("/p/BAL/runs", c.Value)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "balloon-detector", "mosaic 640px", "metrics.recall", "FINISHED", "RUNNING")
	ps, err := e.projects.Projects(e.ctx(c.Value), true)
	if err != nil || len(ps) != 1 {
		t.Fatalf("projects = %v, %v", ps, err)
	}
	hires, err := e.work.Items(e.ctx(c.Value), ps[0], work.ItemFilter{Text: "Higher input resolution"})
	if err != nil || len(hires) != 1 {
		t.Fatalf("demo item: %v %v", hires, err)
	}
	w = e.get("/p/BAL/items/"+hires[0].Key, c.Value)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, hires[0].Key+" 1024px</a>", hires[0].Key+" 1024px fp16</a>", `<th scope="col">recall</th>`, "Compare these runs")
	wantNoBody(t, w, "No runs linked")

	// The token is single-use.
	w = e.get("/setup?token="+url.QueryEscape(token), "")
	wantStatus(t, w, http.StatusGone)
	wantBody(t, w, "already")
	wantNoBody(t, w, "Create admin")
	wantStatus(t, e.post("/setup", "", form), http.StatusGone)
}

func TestSetupWithoutDemo(t *testing.T) {
	e := newEnv(t)
	token, _, _ := e.auth.SetupToken(context.Background())
	w := e.post("/setup", "", url.Values{"token": {token}, "name": {"Root"}, "password": {testPassword}, "confirm": {testPassword}})
	wantRedirect(t, w, "/projects")
	session := sessionCookie(t, w).Value
	ps, err := e.projects.Projects(e.ctx(session), true)
	if err != nil || len(ps) != 0 {
		t.Fatalf("projects = %v, %v; want none", ps, err)
	}
	if p, _ := e.auth.AuthenticateSession(context.Background(), session); p.User.Name != "root" || !p.User.Admin {
		t.Fatalf("user = %+v, want admin root", p.User)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	w := e.get("/login", "")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "setup link")

	old := e.mustUser("alice", false)
	w = e.get("/login", "")
	wantNoBody(t, w, "setup link")
	wantBody(t, w, `<label for="name">Username</label>`, `<label for="password">Password</label>`, `>Sign in</button>`)

	w = e.post("/login", "", url.Values{"name": {"alice"}, "password": {"wrong password!"}})
	wantStatus(t, w, http.StatusUnauthorized)
	wantBody(t, w, "Invalid username or password.", `value="alice"`)
	if len(w.Result().Cookies()) != 0 {
		t.Errorf("failed login set cookies: %v", w.Result().Cookies())
	}

	// Signing in over an existing session rotates it.
	w = e.do(req{method: "POST", target: "/login", session: old,
		form: url.Values{"name": {"alice"}, "password": {testPassword}, "next": {"/account?x=1"}}})
	wantRedirect(t, w, "/account?x=1")
	fresh := sessionCookie(t, w).Value
	if fresh == old || !e.valid(fresh) {
		t.Fatal("new session missing or unchanged")
	}
	if e.valid(old) {
		t.Fatal("old session survived the new sign-in")
	}

	// Signed in, the login page moves along.
	wantRedirect(t, e.get("/login", fresh), "/projects")
}

func TestLoginLockout(t *testing.T) {
	e := newEnv(t)
	e.mustUser("alice", false)
	for range auth.LockoutFailures {
		e.post("/login", "", url.Values{"name": {"alice"}, "password": {"nope nope nope"}})
	}
	w := e.post("/login", "", url.Values{"name": {"alice"}, "password": {testPassword}})
	wantStatus(t, w, http.StatusTooManyRequests)
	wantBody(t, w, "Too many failed sign-in attempts")
}

func TestOpenRedirects(t *testing.T) {
	for _, next := range []string{"//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "/\t/evil.com",
		"javascript:alert(1)", "evil.com", "http:/evil.com", "///evil.com", ""} {
		if got := localPath(next); got != "" {
			t.Errorf("localPath(%q) = %q, want rejected", next, got)
		}
	}
	for _, next := range []string{"/", "/projects", "/p/BAL/runs?x=1&y=%2F%2Fz", "/account#tokens"} {
		if got := localPath(next); got != next {
			t.Errorf("localPath(%q) = %q, want kept", next, got)
		}
	}

	e := newEnv(t)
	e.mustUser("alice", false)
	for _, next := range []string{"//evil.com", "https://evil.com", "/\\evil.com"} {
		w := e.post("/login", "", url.Values{"name": {"alice"}, "password": {testPassword}, "next": {next}})
		wantRedirect(t, w, "/projects")
		// Nor does the form carry it along.
		w = e.get("/login?next="+url.QueryEscape(next), "")
		wantNoBody(t, w, "evil.com")
	}
}

func TestUnauthenticated(t *testing.T) {
	e := newEnv(t)
	wantRedirect(t, e.get("/projects?archived=1", ""), "/login?next=%2Fprojects%3Farchived%3D1")
	wantRedirect(t, e.get("/", ""), "/login")

	// A stale cookie is cleared on the way to the login page.
	w := e.get("/account", "stale-session")
	wantRedirect(t, w, "/login?next=%2Faccount")
	if c := sessionCookie(t, w); c.MaxAge >= 0 {
		t.Errorf("stale cookie not cleared: %+v", c)
	}

	w = e.post("/logout", "", nil)
	wantStatus(t, w, http.StatusUnauthorized)
	wantBody(t, w, "Sign in required")

	w = e.do(req{method: "POST", target: "/account/tokens", form: url.Values{}, header: map[string]string{"HX-Request": "true"}})
	if w.Header().Get("HX-Redirect") != "/login?next=%2Faccount%2Ftokens" {
		t.Errorf("htmx 401: HX-Redirect = %q", w.Header().Get("HX-Redirect"))
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	w := e.post("/logout", s, nil)
	wantRedirect(t, w, "/login?ok=signed-out")
	if c := sessionCookie(t, w); c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("cookie not cleared: %+v", c)
	}
	if e.valid(s) {
		t.Error("session survived logout")
	}
	wantBody(t, e.get("/login?ok=signed-out", ""), "You have signed out.")
	wantNoBody(t, e.get("/login?ok=%3Cb%3Ehi", ""), "&lt;b&gt;hi", "<b>hi")
}

func TestSecureCookie(t *testing.T) {
	e := newEnv(t)
	e.ui.https = true
	e.mustUser("alice", false)
	w := e.post("/login", "", url.Values{"name": {"alice"}, "password": {testPassword}})
	if c := sessionCookie(t, w); !c.Secure {
		t.Error("cookie not Secure behind an https BaseURL")
	}
}

func TestProjectCreate(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	wantBody(t, e.get("/projects", s), "No projects yet", `href="/projects/new"`)
	w := e.get("/projects/new", s)
	wantBody(t, w, `<label for="key">Project key</label>`, `<label for="name">Name</label>`,
		`<label for="description">Description</label>`, `<textarea id="description"`, `>Create project</button>`)

	w = e.post("/projects/new", s, url.Values{"key": {"1x"}, "name": {"Balloons & more"}, "description": {"Hot <air>"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="key-error"`, "Key must be 2–10 uppercase letters", `value="1x"`,
		`value="Balloons &amp; more"`, `Hot &lt;air&gt;</textarea>`, `aria-invalid="true"`)

	w = e.post("/projects/new", s, url.Values{"key": {"bal"}, "name": {"Balloons"}, "description": {"Hot air."}})
	wantRedirect(t, w, "/p/BAL")

	w = e.post("/projects/new", s, url.Values{"key": {"BAL"}, "name": {"Again"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, "Project key BAL is taken.", `value="Again"`)

	w = e.get("/projects", s)
	wantBody(t, w, `<a class="stretched" href="/p/BAL">Balloons</a>`)

	w = e.get("/p/BAL", s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "Balloons", "Hot air.", "admin", "export MLFLOW_TRACKING_URI=http://trellis.test/p/BAL",
		"export MLFLOW_TRACKING_TOKEN=&lt;a token from your account page&gt;", `href="/account#tokens"`)
}

func TestArchivedProjects(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	e.mustProject(s, "BAL", "Balloons")
	wantRedirect(t, e.post("/p/BAL/settings/archive", s, url.Values{"archived": {"1"}}), "/p/BAL/settings?ok=project-archived")
	wantNoBody(t, e.get("/projects", s), "/p/BAL")
	wantBody(t, e.get("/projects?archived=1", s), `href="/p/BAL"`, "archived", "Hide archived")
	wantBody(t, e.get("/p/BAL/settings", s), "Unarchive project")
	wantRedirect(t, e.post("/p/BAL/settings/archive", s, url.Values{"archived": {"0"}}), "/p/BAL/settings?ok=project-unarchived")
	wantBody(t, e.get("/projects", s), `href="/p/BAL"`)
}

func TestSettingsAccess(t *testing.T) {
	e := newEnv(t)
	admin := e.mustUser("alice", false)
	viewer := e.mustUser("bob", false)
	outsider := e.mustUser("carol", false)
	p := e.mustProject(admin, "BAL", "Balloons")
	if _, err := e.projects.SetMember(e.ctx(admin), p, "bob", auth.RoleViewer); err != nil {
		t.Fatal(err)
	}

	w := e.get("/p/BAL/settings", viewer)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "Only project admins can change its settings", "alice", "bob", "export MLFLOW_TRACKING_URI=")
	wantNoBody(t, w, "Save changes", "Add member", "Remove", "Archive project", `<datalist`)

	for _, path := range []string{"/p/BAL/settings", "/p/BAL/settings/archive", "/p/BAL/settings/members", "/p/BAL/settings/members/remove"} {
		w := e.post(path, viewer, url.Values{"name": {"Hijacked"}, "user": {"bob"}, "role": {"admin"}, "archived": {"1"}})
		wantStatus(t, w, http.StatusForbidden)
	}
	wantStatus(t, e.get("/p/BAL/settings", outsider), http.StatusNotFound)
	wantStatus(t, e.get("/p/BAL", outsider), http.StatusNotFound)
	wantStatus(t, e.post("/p/BAL/settings", outsider, url.Values{"name": {"x"}}), http.StatusNotFound)

	w = e.get("/p/BAL/settings", admin)
	wantBody(t, w, "Save changes", "Add member", `<option value="carol">`, `>Remove</button>`, `aria-label="Role for bob"`)

	w = e.post("/p/BAL/settings", admin, url.Values{"name": {"  "}, "description": {"kept text"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="name-error"`, "kept text")
	wantRedirect(t, e.post("/p/BAL/settings", admin, url.Values{"name": {"Balloons v2"}, "description": {"new"}}), "/p/BAL/settings?ok=project-saved")
	wantBody(t, e.get("/p/BAL/settings?ok=project-saved", admin), "Project saved.", `value="Balloons v2"`)
}

func TestMembers(t *testing.T) {
	e := newEnv(t)
	admin := e.mustUser("alice", false)
	e.mustUser("bob", false)
	e.mustProject(admin, "BAL", "Balloons")

	wantRedirect(t, e.post("/p/BAL/settings/members", admin, url.Values{"user": {"Bob"}, "role": {"editor"}}), "/p/BAL/settings?ok=member-saved#members")
	wantBody(t, e.get("/p/BAL/settings", admin), "bob")

	w := e.post("/p/BAL/settings/members", admin, url.Values{"user": {"nobody"}, "role": {"viewer"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="member-user-error"`, "No user named", `value="nobody"`)

	// The last admin can neither leave nor step down.
	w = e.post("/p/BAL/settings/members/remove", admin, url.Values{"user": {"alice"}})
	wantStatus(t, w, http.StatusConflict)
	wantBody(t, w, "at least one admin")
	w = e.post("/p/BAL/settings/members", admin, url.Values{"user": {"alice"}, "role": {"viewer"}, "row": {"1"}})
	wantStatus(t, w, http.StatusConflict)
	wantBody(t, w, "at least one admin")
	wantNoBody(t, w, `id="member-user" name="user" list="member-users" autocomplete="off" autocapitalize="none" spellcheck="false" required value="alice"`)

	w = e.post("/p/BAL/settings/members/remove", admin, url.Values{"user": {"carol"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantRedirect(t, e.post("/p/BAL/settings/members/remove", admin, url.Values{"user": {"bob"}}), "/p/BAL/settings?ok=member-removed#members")
}

var secretRE = regexp.MustCompile(`<code id="new-token">(trl_[A-Za-z0-9_-]+)</code>`)

func TestTokens(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	w := e.get("/account", s)
	wantBody(t, w, "No tokens yet", `<label for="token-name">Token name</label>`, `<label for="token-scope">Scope</label>`,
		`<option value="90d" selected>`, `>Create token</button>`, `<label for="current">Current password</label>`)

	w = e.post("/account/tokens", s, url.Values{"token_name": {" "}, "scope": {"read"}, "expires": {"90d"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="token-name-error"`, `<option value="read" selected>`)
	w = e.post("/account/tokens", s, url.Values{"token_name": {"ci"}, "scope": {"read"}, "expires": {"soon"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="token-expires-error"`, `value="ci"`)

	w = e.post("/account/tokens", s, url.Values{"token_name": {"ci"}, "scope": {"read"}, "expires": {"never"}})
	wantStatus(t, w, http.StatusOK)
	m := secretRE.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no secret in page:\n%s", w.Body.String())
	}
	secret := m[1]
	wantBody(t, w, "will not be shown again", `data-copy="new-token"`)
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", w.Header().Get("Cache-Control"))
	}
	p, err := e.auth.AuthenticateToken(context.Background(), secret)
	if err != nil || p.Scope != auth.ScopeRead || p.User.Name != "alice" {
		t.Fatalf("token: %+v %v", p, err)
	}

	w = e.get("/account", s)
	wantNoBody(t, w, secret, `id="new-token"`)
	wantBody(t, w, ">ci</td>", secret[:10]+"…", ">Revoke</button>", "never")

	toks, _ := e.auth.Tokens(e.ctx(s))
	wantRedirect(t, e.post("/account/tokens/"+toks[0].ID+"/revoke", s, nil), "/account?ok=token-revoked#tokens")
	if _, err := e.auth.AuthenticateToken(context.Background(), secret); err == nil {
		t.Fatal("revoked token still works")
	}
	wantStatus(t, e.post("/account/tokens/"+toks[0].ID+"/revoke", s, nil), http.StatusNotFound)

	// Another user's token id is not found either.
	other := e.mustUser("bob", false)
	_, _, err = e.auth.CreateToken(e.ctx(other), auth.NewToken{Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	bt, _ := e.auth.Tokens(e.ctx(other))
	wantStatus(t, e.post("/account/tokens/"+bt[0].ID+"/revoke", s, nil), http.StatusNotFound)
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	newPW := "another-long-secret-42"

	w := e.post("/account/password", s, url.Values{"current": {testPassword}, "new": {newPW}, "confirm": {newPW + "!"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="confirm-error"`)

	w = e.post("/account/password", s, url.Values{"current": {"not it at all"}, "new": {newPW}, "confirm": {newPW}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="current-error"`)

	w = e.post("/account/password", s, url.Values{"current": {testPassword}, "new": {"short"}, "confirm": {"short"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="new-error"`)

	w = e.post("/account/password", s, url.Values{"current": {testPassword}, "new": {newPW}, "confirm": {newPW}})
	wantRedirect(t, w, "/account?ok=password-changed")
	fresh := sessionCookie(t, w).Value
	if e.valid(s) || !e.valid(fresh) {
		t.Fatal("want old session ended and a fresh one")
	}
	if _, _, err := e.auth.Login(context.Background(), "alice", newPW); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestAdminUsers(t *testing.T) {
	e := newEnv(t)
	root := e.mustUser("root", true)
	plain := e.mustUser("alice", false)

	wantStatus(t, e.get("/admin/users", plain), http.StatusForbidden)
	wantStatus(t, e.post("/admin/users", plain, url.Values{"name": {"x"}}), http.StatusForbidden)
	wantNoBody(t, e.get("/projects", plain), `href="/admin/users"`)
	wantBody(t, e.get("/projects", root), `href="/admin/users"`)

	w := e.get("/admin/users", root)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "alice", "root", `<label for="name">Username</label>`, "Instance admin", `>Create user</button>`, ">Disable</button>")

	w = e.post("/admin/users", root, url.Values{"name": {"b"}, "password": {testPassword}, "admin": {"1"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="name-error"`, `name="admin" value="1" checked`)
	wantRedirect(t, e.post("/admin/users", root, url.Values{"name": {"Bob"}, "password": {testPassword}}), "/admin/users?ok=user-created")
	if _, _, err := e.auth.Login(context.Background(), "bob", testPassword); err != nil {
		t.Fatalf("created user cannot sign in: %v", err)
	}

	w = e.post("/admin/users/root/disable", root, nil)
	wantStatus(t, w, http.StatusConflict)
	wantBody(t, w, "You cannot disable your own account.")

	wantRedirect(t, e.post("/admin/users/alice/disable", root, nil), "/admin/users?ok=user-disabled")
	if e.valid(plain) {
		t.Fatal("disabled user's session still works")
	}
	wantRedirect(t, e.post("/admin/users/alice/enable", root, nil), "/admin/users?ok=user-enabled")
	wantStatus(t, e.post("/admin/users/nobody/disable", root, nil), http.StatusNotFound)
}

func TestStatic(t *testing.T) {
	e := newEnv(t)
	cssURL, err := e.ui.assets.url("app.css")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{12}\.css$`).MatchString(cssURL) {
		t.Fatalf("asset URL %q", cssURL)
	}
	w := e.get(cssURL, "")
	wantStatus(t, w, http.StatusOK)
	if got := w.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("Content-Type = %q", got)
	}
	raw, _ := staticFS.ReadFile("static/app.css")
	if !bytes.Equal(w.Body.Bytes(), raw) {
		t.Error("served bytes differ from the embedded file")
	}

	w = e.do(req{target: cssURL, header: map[string]string{"Accept-Encoding": "br, gzip"}})
	wantStatus(t, w, http.StatusOK)
	if w.Header().Get("Content-Encoding") != "gzip" || w.Body.Len() >= len(raw) {
		t.Errorf("gzip: encoding %q, %d bytes of %d", w.Header().Get("Content-Encoding"), w.Body.Len(), len(raw))
	}
	if w := e.do(req{target: cssURL, header: map[string]string{"Accept-Encoding": "gzip;q=0, br"}}); w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused with q=0")
	}
	etag := w.Header().Get("ETag")
	w = e.do(req{target: cssURL, header: map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag}})
	wantStatus(t, w, http.StatusNotModified)

	jsURL, _ := e.ui.assets.url("app.js")
	if w := e.get(jsURL, ""); w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Type"), "javascript") {
		t.Errorf("app.js: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, bad := range []string{"/static/app.css", "/static/app.000000000000.css", "/static/app.js", "/static/nope.txt", "/static/vendor/"} {
		if w := e.get(bad, ""); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", bad, w.Code)
		}
	}
}

// TestWithoutVendor proves the UI works when `make` has not copied the
// browser libraries: the pages simply leave htmx out.
func TestWithoutVendor(t *testing.T) {
	e := newEnv(t)
	css, _ := staticFS.ReadFile("static/app.css")
	js, _ := staticFS.ReadFile("static/app.js")
	icon, _ := staticFS.ReadFile("static/favicon.svg")
	as, err := loadAssets(fstest.MapFS{"app.css": {Data: css}, "app.js": {Data: js}, "favicon.svg": {Data: icon}})
	if err != nil {
		t.Fatal(err)
	}
	e.ui.assets = as
	if e.ui.pages, err = e.ui.parseTemplates(); err != nil {
		t.Fatal(err)
	}
	w := e.get("/login", "")
	wantStatus(t, w, http.StatusOK)
	wantNoBody(t, w, "htmx.min")
	if _, err := loadAssets(fstest.MapFS{"app.css": {Data: css}}); err == nil {
		t.Error("missing app.js accepted")
	}
}

var (
	inlineScriptRE = regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	inlineStyleRE  = regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=|javascript:`)
)

// TestPagesRender renders every page for an instance admin, and checks what
// the CSP would otherwise break silently in a browser.
func TestPagesRender(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("root", true)
	e.mustProject(s, "BAL", "Balloons")
	if _, _, err := e.auth.CreateToken(e.ctx(s), auth.NewToken{Name: "laptop", TTL: 0}); err != nil {
		t.Fatal(err)
	}
	token, _, _ := e.auth.SetupToken(context.Background()) // no-op: users exist

	pages := []string{"/projects", "/projects?archived=1", "/projects/new", "/p/BAL", "/p/BAL/settings", "/account", "/admin/users"}
	for _, c := range capabilities {
		pages = append(pages, "/p/BAL/"+c.Slug)
	}
	for _, path := range pages {
		t.Run(path, func(t *testing.T) {
			w := e.get(path, s)
			wantStatus(t, w, http.StatusOK)
			checkPage(t, w)
			wantBody(t, w, `id="user-menu"`, ">root</span>", ">Sign out</span>")
			if strings.HasPrefix(path, "/p/") {
				wantBody(t, w, `aria-current="page"`, `data-project="BAL"`)
				for _, c := range capabilities {
					wantBody(t, w, `href="/p/BAL/`+c.Slug+`"`)
				}
			}
		})
	}
	for _, c := range capabilities {
		if c.Slug == "runs" || c.Slug == "goals" {
			continue // tracking and goals are wired in: their real pages replace the placeholders
		}
		wantBody(t, e.get("/p/BAL/"+c.Slug, s), c.Arrives)
	}
	for _, path := range []string{"/login", "/nope", "/setup?token=" + token} {
		w := e.get(path, "")
		checkPage(t, w)
	}
	w := e.get("/nope", "")
	wantStatus(t, w, http.StatusNotFound)
	wantBody(t, w, "Not found")
}

func checkPage(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	body := w.Body.String()
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, tag := range inlineScriptRE.FindAllString(body, -1) {
		if !strings.Contains(tag, ` src="/static/`) {
			t.Errorf("inline script: %s", tag)
		}
	}
	if m := inlineStyleRE.FindString(body); m != "" {
		t.Errorf("inline style or handler: %q", m)
	}
	for _, s := range []string{`<meta name="htmx-config" content='{"includeIndicatorStyles":false}'>`, `<link rel="stylesheet" href="/static/app.`} {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %s", s)
		}
	}
}

func TestWriteError(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		err    error
		status int
	}{
		{trellis.Errorf(trellis.EINVALID, "bad"), 400},
		{trellis.Errorf(trellis.EFORBIDDEN, "no"), 403},
		{trellis.Errorf(trellis.ENOTFOUND, "gone fishing"), 404},
		{trellis.Errorf(trellis.ECONFLICT, "clash"), 409},
		{trellis.Errorf(trellis.EGONE, "used"), 410},
		{trellis.Errorf(trellis.ETOOLARGE, "big"), 413},
		{trellis.Errorf(trellis.ETOOMANY, "slow"), 429},
		{trellis.Errorf(trellis.EUNAVAILABLE, "later"), 503},
		{trellis.Errorf(trellis.EINTERNAL, "db password is hunter2"), 500},
		{io.ErrUnexpectedEOF, 500},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		e.ui.writeError(w, httptest.NewRequest("POST", "/x", nil), c.err)
		if w.Code != c.status {
			t.Errorf("%v: status %d, want %d", c.err, w.Code, c.status)
		}
		if c.status == 500 {
			wantNoBody(t, w, "hunter2", "unexpected EOF")
			wantBody(t, w, "Something went wrong")
		} else {
			wantBody(t, w, trellis.ErrorMessage(c.err))
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "hunter2") || !strings.Contains(logs, "unexpected EOF") {
		t.Errorf("500s not logged: %s", logs)
	}

	// htmx gets a notice, not a page to swap in.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/x", nil)
	r.Header.Set("HX-Request", "true")
	e.ui.writeError(w, r, trellis.Errorf(trellis.EFORBIDDEN, "no"))
	if w.Code != 403 || w.Body.String() != "no" || w.Header().Get("HX-Reswap") != "none" {
		t.Errorf("htmx error: %d %q %v", w.Code, w.Body.String(), w.Header())
	}
}

func TestTooLargeForm(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	w := e.post("/projects/new", s, url.Values{"key": {"BIG"}, "name": {"x"}, "description": {strings.Repeat("a", 2<<20)}})
	wantStatus(t, w, http.StatusRequestEntityTooLarge)
}

// TestRoutes checks the table against the rules the server relies on, and
// that it mounts beside the other surfaces' kinds of patterns.
func TestRoutes(t *testing.T) {
	e := newEnv(t)
	publicPosts := map[string]bool{"/setup": true, "/login": true}
	for _, rt := range e.ui.Surface().Routes {
		if !rt.Access.Valid() {
			t.Errorf("%s %s has no access rule", rt.Method, rt.Pattern)
		}
		if rt.Method == "POST" && rt.Access == route.Public && !publicPosts[rt.Pattern] {
			t.Errorf("POST %s is public", rt.Pattern)
		}
		if strings.HasPrefix(rt.Pattern, "/p/{key}") && rt.Access.Role() == auth.RoleNone {
			t.Errorf("%s %s is a project route without a project rule", rt.Method, rt.Pattern)
		}
	}
	mux := http.NewServeMux()
	e.ui.Surface().Register(mux)
	ok := func(w http.ResponseWriter, r *http.Request) {}
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("/api/v1/", ok)
	mux.HandleFunc("GET /api/2.0/mlflow/experiments/get", ok)
	mux.HandleFunc("POST /p/{key}/api/2.0/mlflow/runs/create", ok)
}
