// Package e2e drives the browser end-to-end tests (every *.test.mjs) against
// a freshly built Trellis binary. flow.test.mjs runs first, because it claims
// the instance through the one-time setup URL; the driver then creates a
// user of its own for each other file, which builds its own data through
// the UI, so the files do not depend on each other's data.
//
// Requirements: node on PATH, Debian's chromium at /usr/bin/chromium
// (or TRELLIS_E2E_CHROMIUM), and `npm ci` run in this directory. Missing
// requirements skip the test, unless TRELLIS_TEST_REQUIRE_ALL=1, which turns
// the skip into a failure (CI sets it).
//
// TRELLIS_E2E_BINARY=/path/to/trellis uses that binary instead of building
// ../cmd/trellis. The files get its path as TRELLIS_BIN, to run the CLI as a
// user would (goals.test.mjs checks specs with it).
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/servetest"
)

const nodeTimeout = 5 * time.Minute

func chromiumPath() string {
	if p := os.Getenv("TRELLIS_E2E_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// testFiles lists the *.test.mjs files, flow.test.mjs first.
func testFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.test.mjs")
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i] == "flow.test.mjs" && files[j] != "flow.test.mjs" })
	if len(files) == 0 || files[0] != "flow.test.mjs" {
		t.Fatalf("e2e: flow.test.mjs is missing (found %v)", files)
	}
	return files
}

func TestBrowserFlow(t *testing.T) {
	servetest.RequireNode(t, "e2e", "playwright-core")
	if _, err := os.Stat(chromiumPath()); err != nil {
		servetest.Missing(t, "e2e", "%s is missing (apt-get install --no-install-recommends chromium)", chromiumPath())
	}
	lg := servetest.NewLogger(t)
	defer lg.Close()

	bin := servetest.Build(t, "../cmd/trellis")
	srv := servetest.Start(t, bin, lg, true, t.TempDir())
	t.Logf("server at %s, setup URL %s", srv.URL, srv.SetupURL)

	for i, file := range testFiles(t) {
		env := []string{"TRELLIS_URL=" + srv.URL, "TRELLIS_SETUP_URL=" + srv.SetupURL, "TRELLIS_E2E_CHROMIUM=" + chromiumPath(), "TRELLIS_BIN=" + bin}
		if i > 0 {
			// Each file after the first builds its own data as its own user.
			name, password := fmt.Sprintf("e2e%d", i), "e2e-password-for-"+strings.TrimSuffix(file, ".test.mjs")
			servetest.Admin(t, bin, name, password, "--data-dir", srv.DataDir)
			env = append(env, "TRELLIS_E2E_USER="+name, "TRELLIS_E2E_PASSWORD="+password)
		}
		start := time.Now()
		if err := servetest.RunNode(t, lg, nodeTimeout, file, env...); err != nil {
			t.Errorf("browser test %s failed (see node: lines above; screenshots in e2e/artifacts/): %v", file, err)
		} else {
			t.Logf("browser test %s passed in %s", file, time.Since(start).Round(time.Millisecond))
		}
	}
	srv.Stop(t)
}
