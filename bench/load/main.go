// Command load is Trellis's HTTP load generator: it sends one request shape
// from many concurrent workers for a while and reports throughput and latency
// percentiles, so the numbers in docs/PERFORMANCE.md can be reproduced.
//
//	go run ./bench/load -url http://127.0.0.1:8420/api/v1/me -token trl_... -c 32 -d 10s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	target := flag.String("url", "", "URL to request (GET)")
	token := flag.String("token", "", "send Authorization: Bearer TOKEN")
	user := flag.String("user", "", "send HTTP basic with this user ...")
	pass := flag.String("password", "", "... and this password or token")
	conc := flag.Int("c", 16, "concurrent workers")
	dur := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()
	if *target == "" {
		fmt.Fprintln(os.Stderr, "load: -url is required")
		os.Exit(2)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()

	var mu sync.Mutex
	var lat []time.Duration
	codes := map[int]int{}
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			myCodes := map[int]int{}
			myErrs := 0
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", *target, nil)
				if *token != "" {
					req.Header.Set("Authorization", "Bearer "+*token)
				} else if *user != "" {
					req.SetBasicAuth(*user, *pass)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						myErrs++
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				myCodes[resp.StatusCode]++
			}
			mu.Lock()
			lat = append(lat, mine...)
			for k, v := range myCodes {
				codes[k] += v
			}
			errs += myErrs
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("requests %d in %s with %d workers: %.0f req/s\n", len(lat), elapsed.Round(time.Millisecond), *conc, float64(len(lat))/elapsed.Seconds())
	fmt.Printf("latency p50 %s  p90 %s  p99 %s  max %s\n", pct(.50), pct(.90), pct(.99), pct(1))
	fmt.Printf("status codes %v  transport errors %d\n", codes, errs)
	if errs > 0 || len(codes) != 1 || codes[200] == 0 {
		os.Exit(1)
	}
}
