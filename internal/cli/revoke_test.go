package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAccessEndsAtOnce checks that taking access away applies to the very
// next request, although the server remembers credential lookups for a few
// seconds: each credential is used (so it sits in the cache) right before it
// is revoked, and the request after the change must already be refused.
func TestAccessEndsAtOnce(t *testing.T) { backends(t, testAccessEndsAtOnce) }

func testAccessEndsAtOnce(t *testing.T, db string) {
	f := startFixture(t, db)
	search := func(user string) int {
		t.Helper()
		status, _ := f.do(user, "POST", "/p/BAL/api/2.0/mlflow/experiments/search", strings.NewReader(`{"max_results":1}`))
		return status
	}
	createExperiment := func(user, name string) int {
		t.Helper()
		status, _ := f.do(user, "POST", "/p/BAL/api/2.0/mlflow/experiments/create", strings.NewReader(`{"name":"`+name+`"}`))
		return status
	}
	want := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: status %d, want %d", what, got, want)
		}
	}

	t.Run("revoked token", func(t *testing.T) {
		status, body := f.do("editor", "POST", "/api/v1/tokens", strings.NewReader(`{"name":"short-lived"}`))
		want("create token", status, http.StatusCreated)
		var created struct {
			Token struct {
				ID string `json:"id"`
			} `json:"token"`
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal(body, &created); err != nil {
			t.Fatal(err)
		}
		f.tokens["editor-2"] = created.Secret
		for range 3 {
			want("search with the new token", search("editor-2"), http.StatusOK)
		}
		status, _ = f.do("editor", "DELETE", "/api/v1/tokens/"+created.Token.ID, nil)
		want("revoke", status, http.StatusNoContent)
		want("search right after the revocation", search("editor-2"), http.StatusUnauthorized)
		want("the user's other token", search("editor"), http.StatusOK)
	})

	t.Run("removed member", func(t *testing.T) {
		want("viewer searches", search("viewer"), http.StatusOK)
		status, _ := f.do("owner", "DELETE", "/api/v1/projects/BAL/members/viewer", nil)
		want("remove member", status, http.StatusNoContent)
		want("search right after the removal", search("viewer"), http.StatusNotFound)
	})

	t.Run("lowered role", func(t *testing.T) {
		want("editor creates", createExperiment("editor", "before"), http.StatusOK)
		status, _ := f.do("owner", "PUT", "/api/v1/projects/BAL/members/editor", strings.NewReader(`{"role":"viewer"}`))
		want("lower role", status, http.StatusOK)
		want("create right after", createExperiment("editor", "after"), http.StatusForbidden)
		want("a viewer still reads", search("editor"), http.StatusOK)
	})

	t.Run("disabled user", func(t *testing.T) {
		want("other reads /me", meStatus(f, "other"), http.StatusOK)
		status, _ := f.do("root", "PATCH", "/api/v1/users/other", strings.NewReader(`{"disabled":true}`))
		want("disable", status, http.StatusOK)
		want("/me right after", meStatus(f, "other"), http.StatusUnauthorized)
		status, _ = f.do("root", "PATCH", "/api/v1/users/other", strings.NewReader(`{"disabled":false}`))
		want("enable", status, http.StatusOK)
		want("/me after enabling again", meStatus(f, "other"), http.StatusOK)
	})

	t.Run("changed password", func(t *testing.T) {
		basic := func(password string) int {
			t.Helper()
			req, err := http.NewRequest("GET", f.base+"/api/v1/me", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth("owner", password)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		want("basic with the password", basic(testPassword), http.StatusOK)
		want("basic again (cached)", basic(testPassword), http.StatusOK)
		next := "another long enough password"
		if err := f.run.Auth.SetPassword(t.Context(), "owner", next); err != nil {
			t.Fatal(err)
		}
		want("old password right after the change", basic(testPassword), http.StatusUnauthorized)
		want("new password", basic(next), http.StatusOK)
	})
}

func meStatus(f *fixture, user string) int {
	status, _ := f.do(user, "GET", "/api/v1/me", nil)
	return status
}
