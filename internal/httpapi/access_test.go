package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
)

// TestAccessEndsAtOnce checks that taking access away applies to the very
// next request, although the server remembers credential lookups for a few
// seconds: each credential is used (so it sits in the cache) right before it
// is revoked, and the request after the change must already be refused.
func TestAccessEndsAtOnce(t *testing.T) { apptest.Backends(t, testAccessEndsAtOnce) }

func testAccessEndsAtOnce(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	// search and createExperiment go as a fixture user or, with a token,
	// with that secret.
	search := func(user string, token ...string) int {
		t.Helper()
		status, _ := a.Do(user, "POST", "/p/BAL/api/2.0/mlflow/experiments/search", strings.NewReader(`{"max_results":1}`), bearer(token)...)
		return status
	}
	createExperiment := func(user, name string) int {
		t.Helper()
		status, _ := a.Do(user, "POST", "/p/BAL/api/2.0/mlflow/experiments/create", strings.NewReader(`{"name":"`+name+`"}`))
		return status
	}
	me := func(user string) int {
		t.Helper()
		status, _ := a.Do(user, "GET", "/api/v1/me", nil)
		return status
	}
	want := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: status %d, want %d", what, got, want)
		}
	}

	t.Run("revoked token", func(t *testing.T) {
		status, body := a.Do("editor", "POST", "/api/v1/tokens", strings.NewReader(`{"name":"short-lived"}`))
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
		for range 3 {
			want("search with the new token", search("", created.Secret), http.StatusOK)
		}
		status, _ = a.Do("editor", "DELETE", "/api/v1/tokens/"+created.Token.ID, nil)
		want("revoke", status, http.StatusNoContent)
		want("search right after the revocation", search("", created.Secret), http.StatusUnauthorized)
		want("the user's other token", search("editor"), http.StatusOK)
	})

	t.Run("removed member", func(t *testing.T) {
		want("viewer searches", search("viewer"), http.StatusOK)
		status, _ := a.Do("owner", "DELETE", "/api/v1/projects/BAL/members/viewer", nil)
		want("remove member", status, http.StatusNoContent)
		want("search right after the removal", search("viewer"), http.StatusNotFound)
	})

	t.Run("lowered role", func(t *testing.T) {
		want("editor creates", createExperiment("editor", "before"), http.StatusOK)
		status, _ := a.Do("owner", "PUT", "/api/v1/projects/BAL/members/editor", strings.NewReader(`{"role":"viewer"}`))
		want("lower role", status, http.StatusOK)
		want("create right after", createExperiment("editor", "after"), http.StatusForbidden)
		want("a viewer still reads", search("editor"), http.StatusOK)
	})

	t.Run("disabled user", func(t *testing.T) {
		want("other reads /me", me("other"), http.StatusOK)
		status, _ := a.Do("root", "PATCH", "/api/v1/users/other", strings.NewReader(`{"disabled":true}`))
		want("disable", status, http.StatusOK)
		want("/me right after", me("other"), http.StatusUnauthorized)
		status, _ = a.Do("root", "PATCH", "/api/v1/users/other", strings.NewReader(`{"disabled":false}`))
		want("enable", status, http.StatusOK)
		// Re-enabling revives no token issued before the disable.
		want("/me after enabling again", me("other"), http.StatusUnauthorized)
		if _, _, err := a.Auth.Login(t.Context(), "other", apptest.Password); err != nil {
			t.Errorf("sign-in after enabling again: %v", err)
		}
	})

	t.Run("changed password", func(t *testing.T) {
		basic := func(password string) int {
			t.Helper()
			req, err := http.NewRequest("GET", a.URL+"/api/v1/me", nil)
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
		want("basic with the password", basic(apptest.Password), http.StatusOK)
		want("basic again (cached)", basic(apptest.Password), http.StatusOK)
		next := "another long enough password"
		if _, err := a.Auth.SetPassword(t.Context(), "owner", auth.NewPassword{Password: next}); err != nil {
			t.Fatal(err)
		}
		want("old password right after the change", basic(apptest.Password), http.StatusUnauthorized)
		want("new password", basic(next), http.StatusOK)
	})
}

// bearer is the Authorization header pair of the token, if one is given.
func bearer(token []string) []string {
	if len(token) == 0 {
		return nil
	}
	return []string{"Authorization", "Bearer " + token[0]}
}

// TestListsDoNotLeak checks that list endpoints show only the caller's projects.
func TestListsDoNotLeak(t *testing.T) { apptest.Backends(t, testListsDoNotLeak) }

func testListsDoNotLeak(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	keys := func(user string) []string {
		status, b := a.Do(user, "GET", "/api/v1/projects", nil)
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
	_, body := a.Do("other", "GET", "/projects", nil)
	if bytes.Contains(body, []byte("Balloons")) {
		t.Error("the projects page shows another project's name")
	}
}
