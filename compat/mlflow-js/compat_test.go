// Package mlflowjs proves MLflow compatibility with a client Trellis did not
// write: it boots a freshly built `trellis serve` (on SQLite, and on
// PostgreSQL when TRELLIS_TEST_POSTGRES is set), creates a user, a project
// and a write token, and runs mlflow.test.mjs, which drives the server with
// the npm package `mlflow` (pinned in package-lock.json), once at the
// project's URI (/p/KEY) and once at the bare server URL.
//
// Requirements: node on PATH and `npm ci` run in this directory. Missing
// requirements skip the test, unless TRELLIS_TEST_REQUIRE_ALL=1, which turns
// the skip into a failure (CI sets it).
//
// TRELLIS_E2E_BINARY=/path/to/trellis uses that binary instead of building
// ../../cmd/trellis.
package mlflowjs

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/servetest"
	"github.com/trellisml/trellis/internal/storetest"
)

const (
	nodeTimeout  = 2 * time.Minute
	testFile     = "mlflow.test.mjs"
	userName     = "jscompat"
	userPassword = "js-compat-password-0123"
	projectKey   = "JSC"
)

// postJSON sends body to base+path as the admin (HTTP basic) and decodes a
// 201 answer into out.
func postJSON(t *testing.T, base, path string, body, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(userName, userPassword)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, res.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("POST %s: decode %s: %v", path, data, err)
	}
}

func TestMLflowJSClient(t *testing.T) {
	servetest.RequireNode(t, "mlflow-js", "mlflow")
	bin := servetest.Build(t, "../../cmd/trellis")
	dbs := []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "trellis.db") }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresDSN(t) }},
	}
	for _, tc := range dbs {
		t.Run(tc.name, func(t *testing.T) {
			lg := servetest.NewLogger(t)
			defer lg.Close()
			db := tc.db(t)
			dataDir := t.TempDir()
			servetest.Admin(t, bin, userName, userPassword, "--data-dir", dataDir, "--db", db)
			srv := servetest.Start(t, bin, lg, false, dataDir, "--db", db)
			defer srv.Stop(t)
			base := srv.URL

			var project struct {
				Key string `json:"key"`
			}
			postJSON(t, base, "/api/v1/projects", map[string]string{"key": projectKey, "name": "mlflow-js compatibility"}, &project)
			var token struct {
				Secret string `json:"secret"`
			}
			postJSON(t, base, "/api/v1/tokens", map[string]string{"name": "mlflow-js", "scope": "write"}, &token)
			if project.Key != projectKey || !strings.HasPrefix(token.Secret, "trl_") {
				t.Fatalf("setup answered project %q, token %q", project.Key, token.Secret)
			}

			// The project's own mount, then the bare server URL, which
			// serves the user's only project: what a user who sets
			// MLFLOW_TRACKING_URI to the server's address gets.
			for _, uri := range []string{base + "/p/" + projectKey, base} {
				start := time.Now()
				if err := servetest.RunNode(t, lg, nodeTimeout, testFile, "MLFLOW_TRACKING_URI="+uri, "MLFLOW_TRACKING_TOKEN="+token.Secret); err != nil {
					t.Fatalf("the npm mlflow client failed against Trellis at %s (see node: lines above): %v", uri, err)
				}
				t.Logf("%s passed against %s in %s", testFile, uri, time.Since(start).Round(time.Millisecond))
			}
		})
	}
}
