package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
)

// TestAbsoluteURLsIgnoreHost: every absolute URL the server prints (tracking
// URIs on pages, MLflow's error advice, multipart part URLs, redirects)
// comes from --base-url, never from the request's Host or X-Forwarded-Host,
// which a client, or a link someone was lured into, chooses.
func TestAbsoluteURLsIgnoreHost(t *testing.T) {
	const base, evil = "https://trellis.example.org", "evil.example"
	a := apptest.Start(t, apptest.SQLite, func(c *cli.Config) { c.BaseURL = base })
	// The base URL names no reachable host here, so requests go to the
	// server's handler directly.
	send := func(user, method, path, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Host = evil
		req.Header.Set("X-Forwarded-Host", evil)
		req.Header.Set("X-Forwarded-Proto", "http")
		req.Header.Set("Forwarded", "host="+evil)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if user != "" {
			req.Header.Set("Authorization", "Bearer "+a.Token(user))
		}
		w := httptest.NewRecorder()
		a.Server.Handler().ServeHTTP(w, req)
		return w
	}
	var run struct {
		Run struct {
			Info struct {
				ExperimentID string `json:"experiment_id"`
			}
		}
	}
	if w := send("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/create", `{}`); w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &run) != nil {
		t.Fatalf("runs/create: %d %s", w.Code, w.Body)
	}
	expID := run.Run.Info.ExperimentID
	for _, c := range []struct {
		user, method, path, body string
		status                   int
		want                     string // a URL built from the base URL the answer must hold
	}{
		{"", "GET", "/login", "", http.StatusOK, ""},
		{"", "GET", "/account", "", http.StatusSeeOther, ""},
		{"", "GET", "/setup?token=x", "", http.StatusGone, ""},
		{"root", "GET", "/account", "", http.StatusOK, "MLFLOW_TRACKING_URI=" + base},
		{"owner", "GET", "/p/BAL/runs", "", http.StatusOK, ""},
		{"owner", "GET", "/p/BAL", "", http.StatusOK, base + "/p/BAL"},
		{"root", "POST", "/api/2.0/mlflow/experiments/search", `{"max_results":1}`, http.StatusBadRequest, "MLFLOW_TRACKING_URI=" + base + "/p/KEY"},
		{"root", "POST", "/api/2.0/mlflow/runs/create", `{}`, http.StatusBadRequest, base + "/p/BAL"}, // "for example"
		{"editor", "POST", "/p/BAL/api/2.0/mlflow-artifacts/mpu/create/" + expID + "/x/artifacts", `{"path":"a.bin","num_parts":2}`, http.StatusOK, base + "/p/BAL/api/2.0/mlflow-artifacts/mpu/part/"},
		{"editor", "GET", "/api/v1/me", "", http.StatusOK, ""},
		{"", "GET", "/api/v1/openapi.json", "", http.StatusOK, ""},
	} {
		w := send(c.user, c.method, c.path, c.body)
		resp, b := w.Result(), w.Body.Bytes()
		name := c.method + " " + c.path + " as " + c.user
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %.300s", name, resp.StatusCode, c.status, b)
		}
		if strings.Contains(string(b), evil) {
			t.Errorf("%s: the answer holds the request's Host: %.500s", name, b)
		}
		for k, vs := range resp.Header {
			for _, v := range vs {
				if strings.Contains(v, evil) {
					t.Errorf("%s: header %s holds the request's Host: %s", name, k, v)
				}
			}
		}
		if c.want != "" && !strings.Contains(string(b), c.want) {
			t.Errorf("%s: the answer lacks %q: %.500s", name, c.want, b)
		}
	}
}
