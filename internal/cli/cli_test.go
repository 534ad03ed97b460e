package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
	"github.com/trellisml/trellis/internal/store"
)

func openAndCount(t *testing.T, path string) (int, error) {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.CountUsers(context.Background())
}

// runCLI runs the command line in-process and returns exit code and output.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLIAgainstServer(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	cfgPath := filepath.Join(t.TempDir(), "cli", "config.json")
	t.Setenv("TRELLIS_CLIENT_CONFIG", cfgPath)
	t.Setenv("TRELLIS_SERVER", "")
	t.Setenv("TRELLIS_TOKEN", "")
	t.Setenv("TRELLIS_PASSWORD", "")

	if code, _, errOut := runCLI(t, "wrong password here\n", "login", "--server", a.URL, "--user", "owner"); code != cli.ExitFailure || !strings.Contains(errOut, "Invalid username or password") {
		t.Fatalf("login with a wrong password: %d %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, apptest.Password+"\n", "login", "--server", a.URL, "--user", "owner"); code != 0 {
		t.Fatalf("login: %d %s %s", code, out, errOut)
	}
	st, err := os.Stat(cfgPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file mode: %v %v", st.Mode(), err)
	}

	if code, out, errOut := runCLI(t, "", "project", "create", "DOG", "--name", "Dogs"); code != 0 || !strings.Contains(out, "DOG") {
		t.Fatalf("project create: %d %s %s", code, out, errOut)
	}
	code, out, _ := runCLI(t, "", "project", "list", "--json")
	var list struct {
		Projects []struct{ Key, Role string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Projects) != 2 {
		t.Fatalf("project list --json: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "", "project", "list"); code != 0 || !strings.Contains(out, "KEY") || !strings.Contains(out, "BAL") {
		t.Fatalf("project list: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "", "project", "show", "BAL"); code != 0 || !strings.Contains(out, "viewer") || !strings.Contains(out, "Balloons") {
		t.Fatalf("project show: %d %s", code, out)
	}
	// Exit codes: input errors 2, failures 1.
	if code, _, errOut := runCLI(t, "", "project", "create", "bad-key"); code != cli.ExitUsage || !strings.Contains(errOut, "key") {
		t.Fatalf("bad key: %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "", "project", "show", "CAT"); code != cli.ExitFailure {
		t.Fatalf("another team's project: %d", code)
	}
	if code, _, _ := runCLI(t, "", "project", "frobnicate"); code == 0 {
		t.Fatalf("unknown subcommand succeeded")
	}
	if code, _, _ := runCLI(t, "", "project", "show"); code != cli.ExitUsage {
		t.Fatalf("missing argument: %d", code)
	}
	if code, _, _ := runCLI(t, "", "project", "list", "--no-such-flag"); code != cli.ExitUsage {
		t.Fatalf("unknown flag: %d", code)
	}

	code, out, _ = runCLI(t, "", "token", "create", "--name", "ci", "--scope", "read", "--json")
	var created struct {
		Secret string
		Token  struct{ ID, Scope string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil || !strings.HasPrefix(created.Secret, "trl_") || created.Token.Scope != "read" {
		t.Fatalf("token create: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, "", "token", "list"); code != 0 || !strings.Contains(out, "ci") || !strings.Contains(out, "LAST USED") {
		t.Fatalf("token list: %d %s", code, out)
	}
	if code, _, _ := runCLI(t, "", "token", "create", "--name", "x", "--expires", "soon"); code != cli.ExitUsage {
		t.Fatalf("bad expiry: %d", code)
	}
	if code, _, _ := runCLI(t, "", "token", "revoke", created.Token.ID); code != 0 {
		t.Fatalf("token revoke: %d", code)
	}
	if code, out, _ := runCLI(t, "", "logout"); code != 0 || !strings.Contains(out, "logged out") {
		t.Fatalf("logout: %d %s", code, out)
	}
	if code, _, errOut := runCLI(t, "", "project", "list"); code != cli.ExitUsage || !strings.Contains(errOut, "login") {
		t.Fatalf("after logout: %d %s", code, errOut)
	}
}

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TRELLIS_PASSWORD", "")
	if code, out, errOut := runCLI(t, apptest.Password+"\n", "user", "create", "ada", "--admin", "--data-dir", dir); code != 0 || !strings.Contains(out, "instance admin ada") {
		t.Fatalf("user create: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "short\n", "user", "create", "bob", "--data-dir", dir); code != cli.ExitUsage || !strings.Contains(errOut, "12") {
		t.Fatalf("short password: %d %s", code, errOut)
	}
	t.Setenv("TRELLIS_PASSWORD", "password1234")
	if code, _, errOut := runCLI(t, "", "user", "create", "bob", "--data-dir", dir); code != cli.ExitUsage || !strings.Contains(errOut, "common") {
		t.Fatalf("common password: %d %s", code, errOut)
	}
	if code, out, _ := runCLI(t, "", "migrate", "--data-dir", dir); code != 0 || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate: %d %s", code, out)
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	if code, out, errOut := runCLI(t, "", "backup", backup, "--data-dir", dir); code != 0 || !strings.Contains(out, "integrity check ok") {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	if n, err := openAndCount(t, backup); err != nil || n != 1 {
		t.Fatalf("backup holds %d users: %v", n, err)
	}
	if code, out, _ := runCLI(t, "", "version"); code != 0 || !strings.HasPrefix(out, "trellis ") {
		t.Fatalf("version: %d %s", code, out)
	}
	code, out, _ := runCLI(t, "", "config", "--db", "postgres://trellis:hunter2@db:5432/trellis?sslmode=disable", "--json")
	if code != 0 || strings.Contains(out, "hunter2") || !strings.Contains(out, "postgres://trellis:xxxxx@db:5432") {
		t.Fatalf("config redaction: %d %s", code, out)
	}
	if code, _, _ := runCLI(t, "", "config", "--log-format", "yaml"); code != cli.ExitUsage {
		t.Fatalf("bad log format: %d", code)
	}
}
