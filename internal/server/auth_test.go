package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/auth"
)

func TestBasicAuth(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	basic := func(user, secret string) int {
		req, _ := http.NewRequest("GET", a.URL+"/api/v1/me", nil)
		req.SetBasicAuth(user, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := basic("viewer", apptest.Password); s != 200 {
		t.Fatalf("basic with password = %d", s)
	}
	if s := basic("viewer", a.Token("viewer")); s != 200 {
		t.Fatalf("basic with token = %d", s)
	}
	if s := basic("owner", a.Token("viewer")); s != 401 {
		t.Fatalf("basic with another user's token = %d", s)
	}
	// A changed password ends the cached verification at once.
	if _, err := a.Auth.SetPassword(context.Background(), "viewer", auth.NewPassword{Password: "another long password"}); err != nil {
		t.Fatal(err)
	}
	if s := basic("viewer", apptest.Password); s != 401 {
		t.Fatalf("basic with the old password after a change = %d", s)
	}
	if s := basic("viewer", "another long password"); s != 200 {
		t.Fatalf("basic with the new password = %d", s)
	}
	// Wrong credentials are a 401 even on a route that would otherwise 404.
	if status, _ := a.Do("", "GET", "/api/v1/projects/BAL", nil, "Authorization", "Bearer trl_forged"); status != 401 {
		t.Fatalf("forged token = %d", status)
	}
}
