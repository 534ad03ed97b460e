package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
	"github.com/trellisml/trellis/internal/storetest"
)

const dsnSecret = "s3cret-pw"

// deadDSNs name databases with a password nobody may see, on a port where
// nothing listens (1), so every command that opens the store fails to
// connect and prints its start-up error.
var deadDSNs = []string{
	"postgres://u@127.0.0.1:1/db?connect_timeout=2&password=" + dsnSecret,
	"postgres://u:" + dsnSecret + "@127.0.0.1:1/db?connect_timeout=2",
	"postgresql://u@127.0.0.1:1/db?sslpassword=" + dsnSecret + "&password=" + dsnSecret,
	"host=127.0.0.1 port=1 user=u password=" + dsnSecret + " dbname=d connect_timeout=2",
	"host=127.0.0.1 port=1 user=u password='" + dsnSecret + " x' dbname=d",
	"  dbname=d password=" + dsnSecret + " host=127.0.0.1 port=1",
}

// TestDSNPasswordRedacted runs every command that prints the database
// (trellis config as text and JSON, and the start-up errors of migrate,
// serve, backup and the user commands) with a DSN carrying a password, and
// checks the password is never printed.
func TestDSNPasswordRedacted(t *testing.T) {
	t.Chdir(t.TempDir())
	commands := [][]string{{"config"}, {"config", "--json"}, {"migrate"}, {"serve", "--addr", "127.0.0.1:0"}, {"backup", "copy.db"}, {"user", "enable", "ada"}}
	for _, dsn := range deadDSNs {
		for _, args := range commands {
			// serve on a DSN that wrongly opens becomes a running server;
			// the deadline ends it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			var out, errOut bytes.Buffer
			code := cli.Main(ctx, append(args, "--db", dsn), strings.NewReader(""), &out, &errOut)
			cancel()
			if strings.Contains(out.String()+errOut.String(), dsnSecret) {
				t.Errorf("trellis %s --db %q printed the password:\n%s%s", strings.Join(args, " "), dsn, out.String(), errOut.String())
			}
			if args[0] != "config" && code == 0 {
				t.Errorf("trellis %s --db %q succeeded on a database that does not answer: %s", strings.Join(args, " "), dsn, out.String())
			}
		}
	}
}

// TestKeyValueDSNIsPostgres checks that a libpq key=value DSN, which pgx
// accepts, is taken for PostgreSQL: it must not become a SQLite file named
// after the connection string and its password.
func TestKeyValueDSNIsPostgres(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := runCLI(t, "", "migrate", "--data-dir", "data", "--db", "host=127.0.0.1 port=1 user=u password="+dsnSecret+" dbname=d connect_timeout=2")
	if code != cli.ExitFailure || !strings.Contains(errOut, "connect") {
		t.Errorf("migrate with a key=value DSN: %d %s %s", code, out, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a key=value DSN created files: %v", entries)
	}
	if code, out, _ := runCLI(t, "", "config", "--db", "host=db user=u password="+dsnSecret+" dbname=d"); code != 0 || !strings.Contains(out, "host=db user=u password=xxxxx dbname=d") {
		t.Errorf("config with a key=value DSN: %d %s", code, out)
	}
}

// TestServeLogRedacted starts trellis serve on a live PostgreSQL database
// whose DSN carries a password and checks the setup hint, the serving log
// line and trellis migrate's report hide it.
func TestServeLogRedacted(t *testing.T) {
	dsn := storetest.PostgresDSN(t) + "&password=" + dsnSecret + "&sslpassword=" + dsnSecret
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--db", dsn}, strings.NewReader(""), &out, &errOut)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errOut.String(), "serving") && time.Now().Before(deadline) {
		select {
		case code := <-done:
			t.Fatalf("serve ended with %d: %s %s", code, out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if !strings.Contains(errOut.String(), "serving") || !strings.Contains(out.String(), "--db") {
		t.Fatalf("serve did not print its setup hint and log line: %s %s", out.String(), errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), dsnSecret) {
		t.Errorf("serve printed the password:\n%s%s", out.String(), errOut.String())
	}
	if code, mout, merr := runCLI(t, "", "migrate", "--db", dsn); code != 0 || strings.Contains(mout+merr, dsnSecret) {
		t.Errorf("migrate: %d %s %s", code, mout, merr)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDataDirMadePrivate starts the server on a data directory others may
// enter, as an older version left it: it is made 0700.
func TestDataDirMadePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	apptest.Start(t, apptest.SQLite, func(c *cli.Config) { c.DataDir = dir })
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v, %v; want 0700", st.Mode().Perm(), err)
	}
}
