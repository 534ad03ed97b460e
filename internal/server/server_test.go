package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/server"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/trellis"
)

func newServer(t testing.TB, logs io.Writer, routes ...route.Route) *server.Server {
	t.Helper()
	srv, _ := newServerAuth(t, logs, routes...)
	return srv
}

// newServerAuth is newServer that also returns its auth service.
func newServerAuth(t testing.TB, logs io.Writer, routes ...route.Route) (*server.Server, *auth.Service) {
	t.Helper()
	return newServerLimits(t, logs, server.Limits{}, routes...)
}

// newServerLimits is newServerAuth with limits.
func newServerLimits(t testing.TB, logs io.Writer, limits server.Limits, routes ...route.Route) (*server.Server, *auth.Service) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := auth.NewService(db, storetest.FastHash)
	log := slog.New(slog.NewJSONHandler(logs, nil))
	sf := route.Surface{Name: "test", Prefix: "/t", Routes: routes, Projects: project.NewService(db, a),
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) { http.Error(w, trellis.ErrorMessage(err), 400) }}
	return server.New(server.Options{Addr: "127.0.0.1:0", Logger: log, Auth: a, Store: db, SessionCookie: "s", Surfaces: []route.Surface{sf}, Limits: limits}), a
}

func TestPanicBecomesLogged500(t *testing.T) {
	var logs bytes.Buffer
	srv := newServer(t, &logs, route.Route{Method: "GET", Pattern: "/boom", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error {
		panic("kaboom")
	}})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/t/boom", nil))
	id := rec.Header().Get("X-Request-Id")
	if rec.Code != 500 || id == "" || !strings.Contains(rec.Body.String(), id) {
		t.Fatalf("panic answer: %d %q id=%q", rec.Code, rec.Body.String(), id)
	}
	if !strings.Contains(logs.String(), `"panic":"kaboom"`) || !strings.Contains(logs.String(), `"request_id":"`+id+`"`) {
		t.Fatalf("panic not logged with its request id: %s", logs.String())
	}
}

func TestOneLogLinePerRequest(t *testing.T) {
	var logs bytes.Buffer
	srv := newServer(t, &logs, route.Route{Method: "GET", Pattern: "/ok/{id}", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error {
		_, err := w.Write([]byte("hi"))
		return err
	}})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/t/ok/42", nil))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"route":"GET /t/ok/{id}"`) || !strings.Contains(lines[0], `"status":200`) {
		t.Fatalf("log lines: %q", lines)
	}
}

func TestRouteWithoutRuleDoesNotRegister(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a route without an authorization rule was registered")
		}
	}()
	newServer(t, io.Discard, route.Route{Method: "GET", Pattern: "/open", Handler: func(w http.ResponseWriter, r *http.Request) error { return nil }})
}

func TestBodyLimit(t *testing.T) {
	srv := newServer(t, io.Discard, route.Route{Method: "POST", Pattern: "/eat", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error {
		if _, err := io.ReadAll(r.Body); err != nil {
			return trellis.Errorf(trellis.ETOOLARGE, "too large")
		}
		return nil
	}})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/t/eat", strings.NewReader(strings.Repeat("x", 2<<20))))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "too large") {
		t.Fatalf("oversized body: %d %s", rec.Code, rec.Body.String())
	}
}

// BenchmarkMiddleware is what every request pays around its handler: request
// id, log line, metrics, security headers, cross-origin check, bearer-token
// authentication (after the first request, from the credential cache) and
// the route guard.
func BenchmarkMiddleware(b *testing.B) {
	srv, a := newServerAuth(b, io.Discard, route.Route{Method: "POST", Pattern: "/ok", Access: route.Authenticated, Handler: func(w http.ResponseWriter, r *http.Request) error {
		_, err := w.Write([]byte("{}"))
		return err
	}})
	ctx := context.Background()
	u, err := a.CreateUser(ctx, auth.NewUser{Name: "ada", Password: "tangerine lamp orbit"})
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := a.CreateToken(storetest.As(ctx, u), auth.NewToken{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/t/ok", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
