package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
)

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

// TestAdminRevokesTokens: an instance admin ends every token of a user
// from the users page; nobody else can.
func TestAdminRevokesTokens(t *testing.T) {
	e := newEnv(t)
	root := e.mustUser("root", true)
	alice := e.mustUser("alice", false)
	_, raw, err := e.auth.CreateToken(e.ctx(alice), auth.NewToken{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	works := func() bool { _, err := e.auth.AuthenticateToken(context.Background(), raw); return err == nil }
	wantBody(t, e.get("/admin/users", root), `action="/admin/users/alice/revoke-tokens"`, ">Revoke tokens</button>")
	wantStatus(t, e.post("/admin/users/alice/revoke-tokens", alice, nil), http.StatusForbidden)
	if !works() {
		t.Fatal("a refused revocation ended the token")
	}
	wantRedirect(t, e.post("/admin/users/alice/revoke-tokens", root, nil), "/admin/users?ok=user-tokens-revoked")
	if works() {
		t.Fatal("the token works after the admin revoked it")
	}
	if !e.valid(alice) {
		t.Fatal("revoking tokens ended the user's session")
	}
	wantStatus(t, e.post("/admin/users/nobody/revoke-tokens", root, nil), http.StatusNotFound)
}
