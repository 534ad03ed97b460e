package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/store"
)

// TestDurabilitySIGKILL kills the real server binary ten times during a
// concurrent log-batch stream and checks after each restart that every
// acknowledged point is present, that no batch is partly written, and (on
// SQLite) that the database passes integrity_check.
func TestDurabilitySIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary; skipped with -short")
	}
	apptest.Backends(t, testDurabilitySIGKILL)
}

type durServer struct {
	t    *testing.T
	bin  string
	args []string
	addr string
	cmd  *exec.Cmd
}

func (s *durServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, append([]string{"serve", "--addr", s.addr}, s.args...)...)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for range 200 {
		if resp, err := http.Get("http://" + s.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	s.t.Fatal("server did not become ready")
}

func (s *durServer) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func testDurabilitySIGKILL(t *testing.T, b apptest.Backend) {
	db := b.DB(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "trellis")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/trellis").CombinedOutput(); err != nil {
		t.Fatalf("build: %v %s", err, out)
	}
	args := []string{"--data-dir", filepath.Join(dir, "data")}
	if db != "" {
		args = append(args, "--db", db)
	}
	create := exec.Command(bin, append([]string{"user", "create", "ada", "--admin"}, args...)...)
	create.Env = append(os.Environ(), "TRELLIS_PASSWORD="+apptest.Password)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("user create: %v %s", err, out)
	}
	srv := &durServer{t: t, bin: bin, args: args, addr: freeAddr(t)}
	srv.start()
	base := "http://" + srv.addr
	call := func(ctx context.Context, method, path, body string, out any) (int, error) {
		req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.SetBasicAuth("ada", apptest.Password)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err
		}
		if out != nil && resp.StatusCode < 300 {
			err = json.Unmarshal(b, out)
		}
		return resp.StatusCode, err
	}
	ctx := context.Background()
	if st, err := call(ctx, "POST", "/api/v1/projects", `{"key":"DUR","name":"Durability"}`, nil); st != 201 || err != nil {
		t.Fatalf("create project: %d %v", st, err)
	}
	const writers = 4
	runs := make([]string, writers)
	for w := range runs {
		var out struct {
			Run struct {
				Info struct {
					RunID string `json:"run_id"`
				} `json:"info"`
			} `json:"run"`
		}
		if st, err := call(ctx, "POST", "/p/DUR/api/2.0/mlflow/runs/create", `{}`, &out); st != 200 || err != nil {
			t.Fatalf("create run: %d %v", st, err)
		}
		runs[w] = out.Run.Info.RunID
	}
	var mu sync.Mutex
	acked := make([]map[int]bool, writers)
	for w := range acked {
		acked[w] = map[int]bool{}
	}
	next := make([]int, writers)
	for range 10 {
		cctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for cctx.Err() == nil {
					b := next[w]
					next[w]++
					var pts []string
					for i := range 100 {
						pts = append(pts, fmt.Sprintf(`{"key":"m","value":%d,"timestamp":%d,"step":%d}`, b, b, b*100+i))
					}
					body := `{"run_id":"` + runs[w] + `","metrics":[` + strings.Join(pts, ",") + `]}`
					if st, err := call(cctx, "POST", "/p/DUR/api/2.0/mlflow/runs/log-batch", body, nil); err == nil && st == 200 {
						mu.Lock()
						acked[w][b] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+rand.IntN(350)) * time.Millisecond)
		srv.kill() // SIGKILL while batches are in flight
		cancel()
		wg.Wait()
		srv.start()
	}
	// Every acknowledged batch is whole; any other batch is whole or absent.
	total := 0
	for w := range writers {
		var out struct {
			Metrics []struct {
				Step int `json:"step"`
			} `json:"metrics"`
		}
		if st, err := call(ctx, "GET", "/p/DUR/api/2.0/mlflow/metrics/get-history?metric_key=m&run_id="+runs[w], "", &out); st != 200 || err != nil {
			t.Fatalf("history: %d %v", st, err)
		}
		count := map[int]int{}
		for _, m := range out.Metrics {
			count[m.Step/100]++
		}
		for b, n := range count {
			if n != 100 {
				t.Errorf("writer %d batch %d is partial: %d of 100 points", w, b, n)
			}
		}
		for b := range acked[w] {
			if count[b] != 100 {
				t.Errorf("writer %d batch %d was acknowledged but has %d points", w, b, count[b])
			}
		}
		total += len(acked[w])
	}
	if total == 0 {
		t.Fatal("no batch was acknowledged; the test proved nothing")
	}
	t.Logf("%d acknowledged batches survived 10 SIGKILLs", total)
	srv.kill()
	if db == "" {
		sdb, err := store.Open(ctx, filepath.Join(dir, "data", "trellis.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer sdb.Close()
		if err := sdb.IntegrityCheck(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
