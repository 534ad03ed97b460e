package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
)

// TestPasswordChangeRevokesTokens: POST /me/password ends the caller's
// tokens only when asked, and then on the very next request; an instance
// admin's PATCH /users/{name} forces it, alone or with a new password.
func TestPasswordChangeRevokesTokens(t *testing.T) {
	apptest.Backends(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.Start(t, b)
		const next, again = apptest.Password + " two", apptest.Password + " three"
		a.Check(t, []apptest.Case{
			{Name: "a wrong current password", User: "owner", Method: "POST", Path: "/api/v1/me/password",
				Body: `{"current_password":"not the password","new_password":"` + next + `","revoke_tokens":true}`, Status: http.StatusBadRequest, Field: "current_password"},
			{Name: "a weak new password", User: "owner", Method: "POST", Path: "/api/v1/me/password",
				Body: `{"current_password":"` + apptest.Password + `","new_password":"short"}`, Status: http.StatusBadRequest, Field: "new_password"},
			{Name: "a read token cannot change the password", User: "owner-read", Method: "POST", Path: "/api/v1/me/password",
				Body: `{"current_password":"` + apptest.Password + `","new_password":"` + next + `"}`, Status: http.StatusForbidden},
			{Name: "the tokens survived the refusals", User: "owner-read", Method: "GET", Path: "/api/v1/me", Status: http.StatusOK},
			{Name: "a change keeps the tokens by default", User: "owner", Method: "POST", Path: "/api/v1/me/password",
				Body: `{"current_password":"` + apptest.Password + `","new_password":"` + next + `"}`, Status: http.StatusOK, Contains: []string{`"revoked_tokens":0`}},
			{Name: "so the read token still works", User: "owner-read", Method: "GET", Path: "/api/v1/me", Status: http.StatusOK},
			{Name: "revoke_tokens ends both of owner's tokens", User: "owner", Method: "POST", Path: "/api/v1/me/password",
				Body: `{"current_password":"` + next + `","new_password":"` + again + `","revoke_tokens":true}`, Status: http.StatusOK, Contains: []string{`"revoked_tokens":2`}},
			{Name: "the token that asked is refused at once", User: "owner", Method: "GET", Path: "/api/v1/me", Status: http.StatusUnauthorized},
			{Name: "and so is the read token", User: "owner-read", Method: "GET", Path: "/api/v1/me", Status: http.StatusUnauthorized},
			{Name: "on the MLflow API too", User: "owner-read", Method: "POST", Path: "/p/BAL/api/2.0/mlflow/experiments/search", Body: `{"max_results":1}`, Status: http.StatusUnauthorized},

			{Name: "only instance admins revoke others' tokens", User: "editor", Method: "PATCH", Path: "/api/v1/users/viewer",
				Body: `{"revoke_tokens":true}`, Status: http.StatusForbidden},
			{Name: "viewer's token is used, so cached", User: "viewer", Method: "GET", Path: "/api/v1/me", Status: http.StatusOK},
			{Name: "the admin revokes viewer's tokens", User: "root", Method: "PATCH", Path: "/api/v1/users/viewer",
				Body: `{"revoke_tokens":true}`, Status: http.StatusOK, Contains: []string{`"revoked_tokens":1`, `"disabled":false`}},
			{Name: "viewer's token is refused at once", User: "viewer", Method: "GET", Path: "/api/v1/me", Status: http.StatusUnauthorized},
			{Name: "editor's token is used, so cached", User: "editor", Method: "GET", Path: "/api/v1/me", Status: http.StatusOK},
			{Name: "the admin sets a weak password", User: "root", Method: "PATCH", Path: "/api/v1/users/editor",
				Body: `{"password":"short","revoke_tokens":true}`, Status: http.StatusBadRequest, Field: "password"},
			{Name: "which revoked nothing", User: "editor", Method: "GET", Path: "/api/v1/me", Status: http.StatusOK},
			{Name: "the admin sets a password and forces the revocation", User: "root", Method: "PATCH", Path: "/api/v1/users/editor",
				Body: `{"password":"` + next + `","revoke_tokens":true}`, Status: http.StatusOK, Contains: []string{`"revoked_tokens":1`}},
			{Name: "editor's token is refused at once", User: "editor", Method: "GET", Path: "/api/v1/me", Status: http.StatusUnauthorized},
			{Name: "an unknown user", User: "root", Method: "PATCH", Path: "/api/v1/users/nobody", Body: `{"revoke_tokens":true}`, Status: http.StatusNotFound},
		})
		// The new passwords work; the old ones do not.
		if _, _, err := a.Auth.Login(t.Context(), "owner", again); err != nil {
			t.Errorf("owner's new password: %v", err)
		}
		if _, _, err := a.Auth.Login(t.Context(), "editor", next); err != nil {
			t.Errorf("editor's new password: %v", err)
		}
	})
}

// TestReEnableRevivesNoToken: tokens issued before a disable stay dead
// after the user is enabled again.
func TestReEnableRevivesNoToken(t *testing.T) {
	apptest.Backends(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.Start(t, b)
		a.Check(t, []apptest.Case{
			{User: "other", Method: "GET", Path: "/api/v1/me", Status: http.StatusOK},
			{User: "root", Method: "PATCH", Path: "/api/v1/users/other", Body: `{"disabled":true}`, Status: http.StatusOK, Contains: []string{`"disabled":true`}},
			{User: "other", Method: "GET", Path: "/api/v1/me", Status: http.StatusUnauthorized},
			{User: "root", Method: "PATCH", Path: "/api/v1/users/other", Body: `{"disabled":false}`, Status: http.StatusOK, Contains: []string{`"disabled":false`}},
			{Name: "the token from before the disable is still refused", User: "other", Method: "GET", Path: "/api/v1/me", Status: http.StatusUnauthorized},
			{Name: "on the MLflow API too", User: "other", Method: "POST", Path: "/p/CAT/api/2.0/mlflow/experiments/search", Body: `{"max_results":1}`, Status: http.StatusUnauthorized},
		})
		if _, _, err := a.Auth.Login(t.Context(), "other", apptest.Password); err != nil {
			t.Errorf("re-enabled user cannot sign in: %v", err)
		}
	})
}
