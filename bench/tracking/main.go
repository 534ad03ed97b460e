// Command tracking measures the MLflow-compatible tracking workloads of
// issue 4 against a running Trellis server with one sequential keep-alive
// client, as the peers were measured:
//
//	go run ./bench/tracking -server http://127.0.0.1:8420 -project BAL -token trl_... [-runs 2000]
//
// Without -project it talks to the unprefixed tracking URI, which serves
// the token user's default project.
//
// It creates its own tracking experiment, so it can run against any
// project an editor token reaches.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type client struct {
	base  string
	token string
	http  *http.Client
}

func (c *client) call(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

type kv struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type metric struct {
	Key       string  `json:"key"`
	Value     float64 `json:"value"`
	Timestamp int64   `json:"timestamp"`
	Step      int64   `json:"step"`
}

func (c *client) createRun(exp string) (string, error) {
	var out struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			} `json:"info"`
		} `json:"run"`
	}
	err := c.call("POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": exp, "start_time": time.Now().UnixMilli()}, &out)
	return out.Run.Info.RunID, err
}

// smallBatch is the first workload's batch: 5 params, 3 tags, 10 metrics.
func smallBatch(run string, i int) map[string]any {
	b := map[string]any{"run_id": run}
	var ps, ts []kv
	var ms []metric
	for j := range 5 {
		v := "y"
		if j == 0 && i%2 == 0 {
			v = "x"
		}
		ps = append(ps, kv{fmt.Sprintf("p%d", j), v})
	}
	for j := range 3 {
		ts = append(ts, kv{fmt.Sprintf("t%d", j), "v"})
	}
	now := time.Now().UnixMilli()
	for j := range 10 {
		ms = append(ms, metric{fmt.Sprintf("m%d", j), float64((i*7919+j*104729)%1000) / 1000, now, 0})
	}
	b["params"], b["tags"], b["metrics"] = ps, ts, ms
	return b
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func main() {
	server := flag.String("server", "http://127.0.0.1:8420", "Trellis base URL")
	project := flag.String("project", "", "project key (the tracking URI is SERVER/p/KEY); empty: the unprefixed SERVER, the token user's default project")
	token := flag.String("token", os.Getenv("TRELLIS_TOKEN"), "editor API token")
	runs := flag.Int("runs", 2000, "runs in the search workload")
	points := flag.Int("points", 200000, "points in the get-history workload")
	dur := flag.Duration("d", 5*time.Second, "duration of the throughput workloads")
	only := flag.String("only", "create,batch,search,history", "workloads to run, comma-separated (create, batch, search, history), e.g. to profile one")
	flag.Parse()
	want := map[string]bool{}
	for _, w := range strings.Split(*only, ",") {
		want[strings.TrimSpace(w)] = true
	}
	if *token == "" {
		fmt.Fprintln(os.Stderr, "tracking: -token is required")
		os.Exit(2)
	}
	base := strings.TrimRight(*server, "/")
	if *project != "" {
		base += "/p/" + *project
	}
	c := &client{base: base, token: *token,
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: time.Minute}}
	fail := func(err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "tracking:", err)
			os.Exit(1)
		}
	}
	var exp struct {
		ID string `json:"experiment_id"`
	}
	fail(c.call("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": fmt.Sprintf("bench-%d", time.Now().UnixNano())}, &exp))

	// 1. create a run + log-batch of 5 params, 3 tags, 10 metrics.
	n := 0
	t0 := time.Now()
	for want["create"] && time.Since(t0) < *dur {
		run, err := c.createRun(exp.ID)
		fail(err)
		fail(c.call("POST", "/api/2.0/mlflow/runs/log-batch", smallBatch(run, n), nil))
		n++
	}
	if want["create"] {
		fmt.Printf("create run + log-batch (5p/3t/10m): %.0f runs/s (%d runs)\n", float64(n)/time.Since(t0).Seconds(), n)
	}

	// 2. log-batch of 1,000 points to one run.
	run, err := c.createRun(exp.ID)
	fail(err)
	batches := 0
	t0 = time.Now()
	for want["batch"] && time.Since(t0) < *dur {
		ms := make([]metric, 1000)
		for j := range ms {
			ms[j] = metric{"loss", float64(j), int64(batches), int64(batches*1000 + j)}
		}
		fail(c.call("POST", "/api/2.0/mlflow/runs/log-batch", map[string]any{"run_id": run, "metrics": ms}, nil))
		batches++
	}
	if want["batch"] {
		fmt.Printf("log-batch of 1,000 points: %.0f points/s (%d batches)\n", float64(batches*1000)/time.Since(t0).Seconds(), batches)
	}

	if want["search"] {
		// 3. search at -runs runs (seeded by 8 concurrent writers).
		var sexp struct {
			ID string `json:"experiment_id"`
		}
		fail(c.call("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": fmt.Sprintf("bench-search-%d", time.Now().UnixNano())}, &sexp))
		var wg sync.WaitGroup
		next := make(chan int)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					r, err := c.createRun(sexp.ID)
					fail(err)
					fail(c.call("POST", "/api/2.0/mlflow/runs/log-batch", smallBatch(r, i), nil))
				}
			}()
		}
		for i := range *runs {
			next <- i
		}
		close(next)
		wg.Wait()
		var lat []time.Duration
		found := 0
		for range 200 {
			var out struct {
				Runs []json.RawMessage `json:"runs"`
			}
			t := time.Now()
			fail(c.call("POST", "/api/2.0/mlflow/runs/search", map[string]any{"experiment_ids": []string{sexp.ID},
				"filter": "metrics.m0 > 0.5 and params.p0 = 'x'", "order_by": []string{"metrics.m0 DESC"}, "max_results": 100}, &out))
			lat = append(lat, time.Since(t))
			found = len(out.Runs)
		}
		fmt.Printf("search at %d runs (100 results, got %d): p50 %s, p95 %s\n", *runs, found, ms(pct(lat, 0.5)), ms(pct(lat, 0.95)))

	}
	if want["history"] {
		// 4. get-history of a -points metric, all pages.
		hrun, err := c.createRun(exp.ID)
		fail(err)
		for start := 0; start < *points; start += 1000 {
			batch := make([]metric, 0, 1000)
			for j := start; j < min(*points, start+1000); j++ {
				batch = append(batch, metric{"curve", float64(j) / 7, int64(j), int64(j)})
			}
			fail(c.call("POST", "/api/2.0/mlflow/runs/log-batch", map[string]any{"run_id": hrun, "metrics": batch}, nil))
		}
		var lat []time.Duration
		for range 5 {
			t := time.Now()
			got, tok := 0, ""
			for {
				var out struct {
					Metrics []json.RawMessage `json:"metrics"`
					Next    string            `json:"next_page_token"`
				}
				path := "/api/2.0/mlflow/metrics/get-history?run_id=" + hrun + "&metric_key=curve&max_results=25000"
				if tok != "" {
					path += "&page_token=" + tok
				}
				fail(c.call("GET", path, nil, &out))
				got += len(out.Metrics)
				if tok = out.Next; tok == "" {
					break
				}
			}
			lat = append(lat, time.Since(t))
			if got != *points {
				fail(fmt.Errorf("get-history returned %d points, want %d", got, *points))
			}
		}
		fmt.Printf("get-history of %d points, all pages of 25,000: p50 %s (best %s)\n", *points, ms(pct(lat, 0.5)), ms(slices.Min(lat)))
	}
}
