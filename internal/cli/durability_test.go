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
// acknowledged batch is present with the run name and the item link it
// implies, that no batch is partly written (points, name and link are all
// there or all absent), and (on SQLite) that the database passes
// integrity_check.
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

// batchItem is the item key writer w's batch b mentions in the run name it
// sets, and so links its run to.
func batchItem(w, b int) string { return fmt.Sprintf("DUR-%d", w*100000+b+1) }

func batchName(w, b int) string {
	return fmt.Sprintf("writer %d batch %d for %s", w, b, batchItem(w, b))
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
					// The name implies an item link: a batch is its
					// points, the rename and the link, all or nothing.
					body := `{"run_id":"` + runs[w] + `","metrics":[` + strings.Join(pts, ",") + `],"tags":[{"key":"mlflow.runName","value":"` + batchName(w, b) + `"}]}`
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
	// Whole means its 100 points, its item link, and — for the last batch
	// of a run there — the run's name.
	total := 0
	for w := range writers {
		links := map[string]bool{}
		var items struct {
			Links []struct {
				Item string `json:"item"`
			} `json:"links"`
		}
		if st, err := call(ctx, "GET", "/api/v1/projects/DUR/runs/"+runs[w]+"/items", "", &items); st != 200 || err != nil {
			t.Fatalf("run items: %d %v", st, err)
		}
		for _, l := range items.Links {
			links[l.Item] = true
		}
		var run struct {
			Run struct {
				Info struct {
					RunName string `json:"run_name"`
				} `json:"info"`
			} `json:"run"`
		}
		if st, err := call(ctx, "GET", "/p/DUR/api/2.0/mlflow/runs/get?run_id="+runs[w], "", &run); st != 200 || err != nil {
			t.Fatalf("get run: %d %v", st, err)
		}
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
		last := -1
		for b, n := range count {
			if n != 100 {
				t.Errorf("writer %d batch %d is partial: %d of 100 points", w, b, n)
			}
			last = max(last, b)
		}
		for b := range next[w] {
			if key := batchItem(w, b); links[key] != (count[b] > 0) {
				t.Errorf("writer %d batch %d: %d points, link to %s %v", w, b, count[b], key, links[key])
			}
		}
		// A writer sends its batches one after the other, so the run is
		// named by its last batch that is there.
		if last >= 0 && run.Run.Info.RunName != batchName(w, last) {
			t.Errorf("writer %d: run named %q, but its last batch there is %d (%q)", w, run.Run.Info.RunName, last, batchName(w, last))
		}
		for b := range acked[w] {
			if count[b] != 100 || !links[batchItem(w, b)] {
				t.Errorf("writer %d batch %d was acknowledged but has %d points, link %v", w, b, count[b], links[batchItem(w, b)])
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
