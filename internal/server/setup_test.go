package server_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
	"github.com/trellisml/trellis/internal/store"
)

// TestSetupURLIsOneTime runs trellis serve on an empty store: it prints a
// setup URL, which creates the first admin once and is gone after.
func TestSetupURLIsOneTime(t *testing.T) {
	for _, name := range []string{"TRELLIS_DB", "TRELLIS_ARTIFACTS", "TRELLIS_BASE_URL", "TRELLIS_ALLOW_ARTIFACT_LOCATION"} {
		t.Setenv(name, "")
	}
	// A serve that hangs before printing is stopped by the deadline, which
	// closes its stdout and so ends the wait for the setup URL.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	// trellis serve prints the setup URL to stdout, read line by line
	// until it comes; the rest is drained so that serve never blocks.
	stdout, w := io.Pipe()
	var errOut bytes.Buffer // read once serve has returned
	done := make(chan int, 1)
	go func() {
		code := cli.Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json"}, strings.NewReader(""), w, &errOut)
		w.Close()
		done <- code
	}()
	var setup string
	var printed []string
	lines := bufio.NewScanner(stdout)
	for setup == "" && lines.Scan() {
		line := lines.Text()
		printed = append(printed, line)
		if i := strings.Index(line, "http"); i >= 0 && strings.Contains(line, "/setup?token=") {
			setup = line[i:]
		}
	}
	if setup == "" {
		t.Fatalf("no setup URL printed (exit %d): %q %s", <-done, printed, errOut.String())
	}
	go io.Copy(io.Discard, stdout)
	u, _ := url.Parse(setup)
	form := url.Values{"token": {u.Query().Get("token")}, "name": {"first"}, "password": {apptest.Password}, "confirm": {apptest.Password}}
	post := func() int {
		req, _ := http.NewRequest("POST", setup, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := (&http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post(); s != http.StatusSeeOther {
		t.Fatalf("first setup = %d", s)
	}
	if s := post(); s != http.StatusGone {
		t.Fatalf("second setup = %d, want 410", s)
	}
	cancel()
	if code := <-done; code != cli.ExitOK {
		t.Fatalf("serve exit %d: %s", code, errOut.String())
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "trellis.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.CountUsers(context.Background()); err != nil || n != 1 {
		t.Fatalf("users after setup: %d %v", n, err)
	}
}
