package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
)

func TestSecurityHeadersAndCrossOrigin(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	resp, err := http.Get(a.URL + "/login")
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
	status, _ := a.Do("owner", "POST", "/api/v1/projects", strings.NewReader(`{"key":"EVIL","name":"x"}`),
		"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if status != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", status)
	}
}
