package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
	"github.com/trellisml/trellis/internal/store"
)

// syncBuffer lets the test read what the server goroutine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSetupURLIsOneTime runs trellis serve on an empty store: it prints a
// setup URL, which creates the first admin once and is gone after.
func TestSetupURLIsOneTime(t *testing.T) {
	for _, name := range []string{"TRELLIS_DB", "TRELLIS_ARTIFACTS", "TRELLIS_BASE_URL", "TRELLIS_ALLOW_ARTIFACT_LOCATION"} {
		t.Setenv(name, "")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json"}, strings.NewReader(""), &out, &errOut)
	}()
	var setup string
	deadline := time.Now().Add(10 * time.Second)
	for setup == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		for _, line := range strings.Split(out.String(), "\n") {
			if i := strings.Index(line, "http"); i >= 0 && strings.Contains(line, "/setup?token=") {
				setup = line[i:]
			}
		}
	}
	if setup == "" {
		t.Fatalf("no setup URL printed: %s", out.String())
	}
	u, _ := url.Parse(setup)
	form := url.Values{"token": {u.Query().Get("token")}, "name": {"first"}, "password": {apptest.Password}, "confirm": {apptest.Password}}
	post := func() int {
		req, _ := http.NewRequest("POST", setup, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
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
