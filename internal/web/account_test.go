package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
)

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

	// A created token redirects (a reload must not create another) to the
	// account page, which shows the secret once.
	w = e.post("/account/tokens", s, url.Values{"token_name": {"ci"}, "scope": {"read"}, "expires": {"never"}})
	wantRedirect(t, w, "/account#new-token-title")
	var carried *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == newTokenCookie {
			carried = c
		}
	}
	if carried == nil || !carried.HttpOnly || carried.Path != "/account" || carried.SameSite != http.SameSiteStrictMode {
		t.Fatalf("new-token cookie: %+v", carried)
	}
	w = e.do(req{target: "/account", header: map[string]string{"Cookie": SessionCookie + "=" + s + "; " + carried.Name + "=" + carried.Value}})
	wantStatus(t, w, http.StatusOK)
	if c := w.Result().Cookies(); len(c) != 1 || c[0].Name != newTokenCookie || c[0].MaxAge >= 0 {
		t.Errorf("the new-token cookie is not cleared: %+v", c)
	}
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

// TestChangePasswordRevokeTokens: "Also revoke my API tokens" starts
// unticked; ticked, the change ends every token of the user at once.
func TestChangePasswordRevokeTokens(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	_, raw, err := e.auth.CreateToken(e.ctx(s), auth.NewToken{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	works := func() bool { _, err := e.auth.AuthenticateToken(context.Background(), raw); return err == nil }
	w := e.get("/account", s)
	wantBody(t, w, `<input type="checkbox" name="revoke_tokens" value="1"> Also revoke my API tokens`)

	// A refused change keeps the box as it was sent, and every token.
	w = e.post("/account/password", s, url.Values{"current": {"not it at all"}, "new": {"x"}, "confirm": {"x"}, "revoke_tokens": {"1"}})
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `name="revoke_tokens" value="1" checked`)
	if !works() {
		t.Fatal("a refused change revoked the token")
	}
	next := "another-long-secret-42"
	w = e.post("/account/password", s, url.Values{"current": {testPassword}, "new": {next}, "confirm": {next}})
	wantRedirect(t, w, "/account?ok=password-changed")
	if !works() {
		t.Fatal("a change with the box unticked revoked the token")
	}
	s = sessionCookie(t, w).Value
	w = e.post("/account/password", s, url.Values{"current": {next}, "new": {next + "!"}, "confirm": {next + "!"}, "revoke_tokens": {"1"}})
	wantRedirect(t, w, "/account?ok=password-changed-tokens-revoked")
	if works() {
		t.Fatal("the token works after a change that revoked the tokens")
	}
	w = e.get("/account?ok=password-changed-tokens-revoked", sessionCookie(t, w).Value)
	wantBody(t, w, "your API tokens revoked", "No tokens yet")
}

// TestAccountDefaultProjectNone shows "none" while no default tracking
// project is set, with a picker that does not pretend the first project
// is chosen, and the chosen one once set.
func TestAccountDefaultProjectNone(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("alice", false)
	e.mustProject(s, "BAL", "Balloons")
	w := e.get("/account", s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `data-default-project="">Currently: <strong>none</strong>`, `<option value="" selected disabled>None set: choose a project</option>`, `>Set as default</button>`)
	wantNoBody(t, w, `<option value="BAL" selected>`)

	w = e.post("/account/default-project", s, url.Values{"project": {"BAL"}})
	if w.Code != http.StatusSeeOther && w.Code != http.StatusFound {
		t.Fatalf("set default: %d %s", w.Code, w.Body.String())
	}
	w = e.get("/account", s)
	wantBody(t, w, `Currently: <strong>BAL · Balloons</strong>`, `<option value="BAL" selected>`, `>Save</button>`)
	wantNoBody(t, w, "None set")
}
