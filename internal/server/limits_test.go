package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/server"
	"github.com/trellisml/trellis/internal/storetest"
)

// listen serves srv on 127.0.0.1:0 until the test ends and returns its URL.
func listen(t *testing.T, srv *server.Server) string {
	t.Helper()
	addr, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + addr.String()
}

// token creates a user (an instance admin when admin is set) and returns
// a write token of theirs.
func token(t *testing.T, a *auth.Service, name string, admin bool) string {
	t.Helper()
	ctx := context.Background()
	u, err := a.CreateUser(ctx, auth.NewUser{Name: name, Password: "tangerine lamp orbit", Admin: admin})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := a.CreateToken(storetest.As(ctx, u), auth.NewToken{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// eat is a route that reads its whole body and reports how it went.
func eat(pattern string, upload bool, got chan<- error) route.Route {
	return route.Route{Method: "POST", Pattern: pattern, Access: route.Public, Upload: upload, Handler: func(w http.ResponseWriter, r *http.Request) error {
		_, err := io.Copy(io.Discard, r.Body)
		got <- err
		if err != nil {
			http.Error(w, "unreadable body", http.StatusInternalServerError) // what a careless handler answers
			return nil
		}
		return nil
	}}
}

// trickle POSTs to url a body of chunks bytes every interval, for total,
// then ends it. It returns when the server answered or cut the connection.
func trickle(url string, chunk int, every, total time.Duration) {
	pr, pw := io.Pipe()
	go func() {
		end := time.Now().Add(total)
		for time.Now().Before(end) {
			if _, err := pw.Write(make([]byte, chunk)); err != nil {
				return
			}
			time.Sleep(every)
		}
		pw.Close()
	}()
	resp, err := http.Post(url, "application/octet-stream", pr)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	pr.CloseWithError(errors.New("done"))
}

// TestBodyDeadlines checks the deadlines by route class, shortened through
// Options.Limits: a form or JSON body trickled at a byte per 100 ms is cut
// at its 300 ms deadline (in production 30 s; the probe trickled a byte per
// 5 s); an upload that keeps moving runs past it, one that stalls is cut
// one window later, and one that moves forever is cut at the total cap.
func TestBodyDeadlines(t *testing.T) {
	got := make(chan error, 1)
	lim := server.Limits{BodyTimeout: 300 * time.Millisecond, UploadWindow: 400 * time.Millisecond, UploadMinRate: 8 << 10, UploadTimeout: 1500 * time.Millisecond}
	srv, _ := newServerLimits(t, io.Discard, lim, eat("/form", false, got), eat("/upload", true, got))
	url := listen(t, srv) + "/t"
	for _, c := range []struct {
		name, path    string
		chunk         int
		every, total  time.Duration
		cut           bool
		after, before time.Duration // when the handler must have seen the cut
	}{
		{"trickled form", "/form", 1, 100 * time.Millisecond, 10 * time.Second, true, 250 * time.Millisecond, 1500 * time.Millisecond},
		{"quick form", "/form", 100, 0, 0, false, 0, 0},
		{"moving upload", "/upload", 2 << 10, 50 * time.Millisecond, time.Second, false, 0, 0},
		{"stalled upload", "/upload", 1 << 10, 10 * time.Second, 10 * time.Second, true, 350 * time.Millisecond, 2 * time.Second},
		{"endless upload", "/upload", 4 << 10, 20 * time.Millisecond, 10 * time.Second, true, 1400 * time.Millisecond, 3 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			go trickle(url+c.path, c.chunk, c.every, c.total)
			err := within(t, got)
			took := time.Since(start)
			if !c.cut {
				if err != nil {
					t.Fatalf("cut after %v: %v", took, err)
				}
				return
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) || took < c.after || took > c.before {
				t.Fatalf("read ended after %v with %v; want a deadline between %v and %v", took, err, c.after, c.before)
			}
		})
	}
}

// TestBodyReadInTimeKeepsHandlerTime checks that a body read before its
// deadline leaves the handler as long as it needs: the deadline must not
// outlive the body and cancel the request under the handler (net/http
// clears it when the body ends; this keeps it so).
func TestBodyReadInTimeKeepsHandlerTime(t *testing.T) {
	lim := server.Limits{BodyTimeout: 200 * time.Millisecond}
	srv, _ := newServerLimits(t, io.Discard, lim, route.Route{Method: "POST", Pattern: "/slow", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error {
		io.Copy(io.Discard, r.Body)
		time.Sleep(500 * time.Millisecond)
		if err := r.Context().Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		return nil
	}})
	resp, err := http.Post(listen(t, srv)+"/t/slow", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 {
		t.Fatalf("slow handler after a quick body: %d %s", resp.StatusCode, b)
	}
}

// TestAnonymousCap holds MaxAnonymous anonymous requests in flight: the next
// one, and one with a forged token, are refused with 503 and Retry-After,
// while a signed-in caller is still served; released, anonymous callers are
// served again.
func TestAnonymousCap(t *testing.T) {
	release := make(chan struct{})
	var entered atomic.Int32
	srv, a := newServerLimits(t, io.Discard, server.Limits{MaxAnonymous: 3},
		route.Route{Method: "GET", Pattern: "/hold", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error {
			entered.Add(1)
			<-release
			return nil
		}},
		route.Route{Method: "GET", Pattern: "/ok", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error { return nil }})
	url := listen(t, srv) + "/t"
	tok := token(t, a, "ada", false)
	get := func(path, bearer string) *http.Response {
		req, _ := http.NewRequest("GET", url+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return &http.Response{}
		}
		resp.Body.Close()
		return resp
	}
	held := make(chan struct{})
	for range 3 {
		go func() { get("/hold", ""); held <- struct{}{} }()
	}
	for deadline := time.Now().Add(5 * time.Second); entered.Load() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d anonymous requests got in", entered.Load())
		}
	}
	for _, bearer := range []string{"", "trl_forged"} {
		if resp := get("/ok", bearer); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("request %d without valid credentials beyond the cap (token %q): %d, Retry-After %q", 4, bearer, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if resp := get("/ok", tok); resp.StatusCode != 200 {
		t.Errorf("signed-in request while the anonymous cap is full: %d", resp.StatusCode)
	}
	close(release)
	for range 3 {
		<-held
	}
	if resp := get("/ok", ""); resp.StatusCode != 200 {
		t.Errorf("anonymous request after the held ones ended: %d", resp.StatusCode)
	}
}

// TestClientAbortIsNotAServerError ends requests from the client's side —
// a body broken off, a connection closed while the handler waits, a body
// too slow for its deadline — against handlers that answer 500 when that
// happens, and checks /metrics counts them as 499 and 408, not 500.
func TestClientAbortIsNotAServerError(t *testing.T) {
	got := make(chan error, 3)
	waiting := make(chan struct{}, 1)
	srv, a := newServerLimits(t, io.Discard, server.Limits{BodyTimeout: 300 * time.Millisecond}, eat("/eat", false, got),
		route.Route{Method: "GET", Pattern: "/wait", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error {
			waiting <- struct{}{}
			<-r.Context().Done()
			http.Error(w, "gave up", http.StatusInternalServerError)
			return nil
		}})
	base := listen(t, srv)
	host := strings.TrimPrefix(base, "http://")
	raw := func(req string) net.Conn {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// A body broken off after 10 of its 1000 bytes.
	c := raw("POST /t/eat HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
	time.Sleep(50 * time.Millisecond)
	c.Close()
	if err := within(t, got); err == nil {
		t.Fatal("a broken-off body read without error")
	}
	// A connection closed while the handler works.
	c = raw("GET /t/wait HTTP/1.1\r\nHost: x\r\n\r\n")
	within(t, waiting)
	c.Close()
	// A body too slow for its deadline.
	c = raw("POST /t/eat HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0")
	defer c.Close()
	within(t, got)

	admin := token(t, a, "root", true)
	want := []string{`code="499",method="POST",route="POST /t/eat"`, `code="499",method="GET",route="GET /t/wait"`, `code="408",method="POST",route="POST /t/eat"`}
	var metrics string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest("GET", base+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if metrics = string(b); !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(metrics, w) }) {
			break
		}
	}
	var missing []string
	for _, w := range want {
		if !strings.Contains(metrics, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 || strings.Contains(metrics, `code="500"`) {
		t.Errorf("client aborts must be counted as 499 and 408, never 500; missing %q in:\n%s", missing, grep(metrics, "trellis_http_requests_total{"))
	}
}

// within receives from ch, failing the test after 5 s.
func within[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("nothing happened within 5 s")
		panic("unreachable")
	}
}

// grep returns the lines of s that contain sub.
func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestUploadRoutes checks which routes of the whole program read their
// body as an upload: exactly the artifact PUTs and multipart part PUTs of
// both MLflow artifact mounts. Every other body — the login form, /api/v1,
// MLflow JSON — must arrive within the form deadline.
func TestUploadRoutes(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	var uploads []string
	for _, rt := range a.Server.Routes() {
		if rt.Upload {
			uploads = append(uploads, fmt.Sprintf("%s %s", rt.Method, rt.Pattern))
		}
	}
	slices.Sort(uploads)
	want := []string{
		"PUT /api/2.0/mlflow-artifacts/artifacts/{path...}",
		"PUT /api/2.0/mlflow-artifacts/mpu/part/{upload}/{part}",
		"PUT /p/{key}/api/2.0/mlflow-artifacts/artifacts/{path...}",
		"PUT /p/{key}/api/2.0/mlflow-artifacts/mpu/part/{upload}/{part}",
	}
	if !slices.Equal(uploads, want) {
		t.Fatalf("upload routes:\n%s\nwant:\n%s", strings.Join(uploads, "\n"), strings.Join(want, "\n"))
	}
}
