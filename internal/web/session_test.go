package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/work"
)

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

// TestLoginThrottle: past the free failures, the form says how long to
// wait, and so does Retry-After (the owner's view from another address is
// in internal/server's TestLoginThrottle).
func TestLoginThrottle(t *testing.T) {
	e := newEnv(t)
	e.mustUser("alice", false)
	for range auth.PairFreeFailures {
		w := e.post("/login", "", url.Values{"name": {"alice"}, "password": {"nope nope nope"}})
		wantStatus(t, w, http.StatusUnauthorized)
	}
	w := e.post("/login", "", url.Values{"name": {"alice"}, "password": {testPassword}})
	wantStatus(t, w, http.StatusTooManyRequests)
	wantBody(t, w, "Too many failed sign-in attempts from your address. Try again in 1 second.")
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
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
