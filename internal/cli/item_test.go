package cli_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
	"github.com/trellisml/trellis/internal/work"
)

// TestItemAndSprintCLI drives trellis item and trellis sprint against a real
// server, as a user would.
func TestItemAndSprintCLI(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	t.Setenv("TRELLIS_CLIENT_CONFIG", t.TempDir()+"/config.json")
	t.Setenv("TRELLIS_SERVER", a.URL)
	t.Setenv("TRELLIS_TOKEN", a.Token("editor"))
	t.Setenv("TRELLIS_PROJECT", "")
	run := func(wantCode int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, stdin, args...)
		if code != wantCode {
			t.Fatalf("trellis %s = %d, want %d: %s %s", strings.Join(args, " "), code, wantCode, out, errOut)
		}
		return out + errOut
	}
	if out := run(cli.ExitUsage, "", "item", "create", "-p", "BAL", "--kind", "experiment", "--title", "Mosaic"); !strings.Contains(out, "hypothesis") {
		t.Fatalf("missing hypothesis: %s", out)
	}
	if out := run(cli.ExitUsage, "", "item", "create", "--kind", "development", "--title", "x"); !strings.Contains(out, "--project") {
		t.Fatalf("no project: %s", out)
	}
	run(0, "", "item", "create", "-p", "BAL", "--kind", "experiment", "--title", "Mosaic", "--hypothesis", "We believe mosaic helps", "--time-box", "2d")
	out := run(0, "## Why\nbecause\n", "item", "create", "-p", "BAL", "--kind", "development", "--title", "Serve", "--points", "5", "--description", "-", "--json")
	var dev work.Item
	if err := json.Unmarshal([]byte(out), &dev); err != nil || dev.Key != "BAL-2" || dev.Description != "## Why\nbecause\n" {
		t.Fatalf("create --json: %v %s", err, out)
	}
	if out := run(0, "", "item", "list", "-p", "BAL", "--kind", "experiment"); !strings.Contains(out, "BAL-1") || strings.Contains(out, "BAL-2") {
		t.Fatalf("list: %s", out)
	}
	run(0, "", "item", "edit", "BAL-2", "--assignee", "owner", "--label", "serving")
	run(cli.ExitUsage, "", "item", "edit", "BAL-2")
	if out := run(0, "", "item", "move", "BAL-2", "In progress"); !strings.Contains(out, "BAL-2 is In progress") {
		t.Fatalf("move: %s", out)
	}
	a.MustCall("editor", "PUT", "/api/v1/projects/BAL/filters/exps", `{"query":"kind=experiment"}`, nil)
	if out := run(0, "", "item", "list", "-p", "BAL", "--filter", "exps"); !strings.Contains(out, "BAL-1") || strings.Contains(out, "BAL-2") {
		t.Fatalf("list --filter: %s", out)
	}
	run(cli.ExitUsage, "", "item", "list", "-p", "BAL", "--filter", "nope")
	if out := run(0, "", "item", "search", "-p", "BAL", "mosa"); !strings.Contains(out, "BAL-1") || strings.Contains(out, "BAL-2") {
		t.Fatalf("search: %s", out)
	}
	if out := run(0, "", "item", "show", "BAL-2"); !strings.Contains(out, "assignees: owner") || !strings.Contains(out, "5 pts") {
		t.Fatalf("show: %s", out)
	}
	if out := run(0, "", "item", "comment", "BAL-2", "--body", "Ready for review, @owner?"); !strings.Contains(out, "mentioned owner") {
		t.Fatalf("comment: %s", out)
	}
	var inbox struct{ Notifications []work.Notification }
	a.MustCall("owner", "GET", "/api/v1/inbox", "", &inbox)
	if len(inbox.Notifications) != 1 || inbox.Notifications[0].Item != "BAL-2" {
		t.Fatalf("owner's inbox %+v", inbox)
	}
	if status, field := a.Call("owner", "POST", "/api/v1/inbox/read", `{"all":false}`, nil); status != 400 || field != "all" {
		t.Fatalf("inbox read without all = %d %q", status, field)
	}
	run(0, "", "sprint", "create", "S1", "-p", "BAL", "--starts", "2026-03-02", "--ends", "2026-03-13", "--capacity", "editor=10")
	run(cli.ExitUsage, "", "sprint", "create", "S2", "-p", "BAL", "--starts", "2026-03-02", "--ends", "2026-03-13", "--capacity", "editor")
	if out := run(0, "", "sprint", "plan", "S1", "-p", "BAL", "--add", "BAL-1", "--add", "BAL-2"); !strings.Contains(out, "load 7 of capacity 10") {
		t.Fatalf("plan: %s", out)
	}
	run(0, "", "sprint", "start", "S1", "-p", "BAL")
	if out := run(0, "", "item", "decide", "BAL-1", "--outcome", "abandon", "--verdict", "refuted", "--reason", "no gain"); !strings.Contains(out, "decided BAL-1: abandon") {
		t.Fatalf("decide: %s", out)
	}
	if out := run(0, "", "sprint", "close", "S1", "-p", "BAL", "--move-to", "backlog"); !strings.Contains(out, "experiments  2          2") {
		t.Fatalf("close: %s", out)
	}
	if out := run(0, "", "sprint", "list", "-p", "BAL"); !strings.Contains(out, "closed") {
		t.Fatalf("sprint list: %s", out)
	}

	// CSV import: refused rows are listed by line and nothing is imported.
	dir := t.TempDir()
	bad := dir + "/bad.csv"
	if err := os.WriteFile(bad, []byte("Summary,Issue Type,Story Points\nGood,Story,3\nOdd,Epic Saga,\nOff,Story,4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = run(cli.ExitUsage, "", "import", "csv", bad, "-p", "BAL", "--mapping", "jira")
	if !strings.Contains(out, "bad.csv:3 (kind)") || !strings.Contains(out, "bad.csv:4 (points)") || !strings.Contains(out, "nothing was imported") {
		t.Fatalf("import bad: %s", out)
	}
	good := dir + "/good.csv"
	if err := os.WriteFile(good, []byte("Summary,Issue Type,Story Points,Labels\nGood,Story,3,ml\nSpike it,Spike,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(0, "", "import", "csv", good, "-p", "BAL", "--mapping", "jira"); !strings.Contains(out, "imported 2 items") || !strings.Contains(out, "100%") {
		t.Fatalf("import good: %s", out)
	}
}
