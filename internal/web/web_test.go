package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

const testPassword = "correct-horse-battery-9"

// env is one UI over a fresh SQLite store, behind a stand-in for the
// server's session middleware.
type env struct {
	t        *testing.T
	ui       *UI
	auth     *auth.Service
	projects *project.Service
	work     *work.Service
	track    *tracking.Service
	goals    *goal.Service
	h        http.Handler
	logs     *syncBuffer
}

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

func newEnv(t *testing.T) *env {
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
	a := auth.NewService(db, auth.HashParams{Memory: 64, Time: 1, Threads: 1})
	ps := project.NewService(db, a)
	w := work.NewService(db, ps)
	tr := tracking.NewService(db)
	gs := goal.NewService(db, tr)
	// Goals as the server wires them: a run that finishes re-checks specs,
	// a decision keeps the goal results of its moment.
	tr.OnRunFinished(func(ctx context.Context, ev tracking.RunFinished) {
		if err := gs.SpecRunFinished(ctx, ev); err != nil {
			t.Errorf("spec hook: %v", err)
		}
	})
	w.OnDecided(func(ctx context.Context, ev work.Decided) {
		if err := gs.SnapshotDecision(ctx, ev.Project, goal.ItemRef{ID: ev.Decision.ItemID, Key: ev.Decision.Item}, ev.Decision.DecidedAt); err != nil {
			t.Errorf("goal snapshot: %v", err)
		}
	})
	logs := &syncBuffer{}
	ui, err := New(Options{Auth: a, Projects: ps, Work: w, Tracking: tr, Goals: gs, BaseURL: "http://trellis.test/", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ui.Surface().Register(mux)
	return &env{t: t, ui: ui, auth: a, projects: ps, work: w, track: tr, goals: gs, h: withSession(a, mux), logs: logs}
}

// withSession stands in for the server's middleware: it resolves the
// session cookie into a principal, and a stale cookie into an anonymous call.
func withSession(a *auth.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(SessionCookie); err == nil {
			p, err := a.AuthenticateSession(r.Context(), c.Value)
			switch {
			case err == nil:
				r = r.WithContext(auth.NewContext(r.Context(), p))
			case trellis.ErrorCode(err) != trellis.EUNAUTHENTICATED:
				r = r.WithContext(route.WithCredentialError(r.Context(), err))
			}
		}
		next.ServeHTTP(w, r)
	})
}

type req struct {
	method  string
	target  string
	body    io.Reader // a raw body, when form is nil
	form    url.Values
	session string
	header  map[string]string
}

func (e *env) do(rq req) *httptest.ResponseRecorder {
	e.t.Helper()
	body := rq.body
	if rq.form != nil {
		body = strings.NewReader(rq.form.Encode())
	}
	if rq.method == "" {
		rq.method = http.MethodGet
	}
	r := httptest.NewRequest(rq.method, rq.target, body)
	if rq.form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rq.session != "" {
		r.AddCookie(&http.Cookie{Name: SessionCookie, Value: rq.session})
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func (e *env) get(target, session string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(req{target: target, session: session})
}

func (e *env) post(target, session string, form url.Values) *httptest.ResponseRecorder {
	e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return e.do(req{method: http.MethodPost, target: target, session: session, form: form})
}

// mustUser creates a user and returns a session for them.
func (e *env) mustUser(name string, admin bool) string {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.auth.CreateUser(ctx, auth.NewUser{Name: name, Password: testPassword, Admin: admin}); err != nil {
		e.t.Fatalf("create user %s: %v", name, err)
	}
	_, session, err := e.auth.Login(ctx, name, testPassword)
	if err != nil {
		e.t.Fatalf("login %s: %v", name, err)
	}
	return session
}

// mustProject creates a project as the session's user.
func (e *env) mustProject(session, key, name string) *project.Project {
	e.t.Helper()
	ctx := e.ctx(session)
	p, err := e.projects.CreateProject(ctx, project.NewProject{Key: key, Name: name, Description: "about " + name})
	if err != nil {
		e.t.Fatalf("create project %s: %v", key, err)
	}
	return p
}

func (e *env) ctx(session string) context.Context {
	e.t.Helper()
	p, err := e.auth.AuthenticateSession(context.Background(), session)
	if err != nil {
		e.t.Fatalf("authenticate: %v", err)
	}
	return auth.NewContext(context.Background(), p)
}

func (e *env) valid(session string) bool {
	_, err := e.auth.AuthenticateSession(context.Background(), session)
	return err == nil
}

func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie set; headers %v", SessionCookie, w.Header())
	return nil
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body:\n%s", w.Code, status, w.Body.String())
	}
}

func wantRedirect(t *testing.T, w *httptest.ResponseRecorder, location string) {
	t.Helper()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != location {
		t.Fatalf("got %d Location %q, want 303 to %q; body:\n%s", w.Code, w.Header().Get("Location"), location, w.Body.String())
	}
}

func wantBody(t *testing.T, w *httptest.ResponseRecorder, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("body lacks %q; body:\n%s", s, w.Body.String())
		}
	}
}

func wantNoBody(t *testing.T, w *httptest.ResponseRecorder, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(w.Body.String(), s) {
			t.Errorf("body contains %q", s)
		}
	}
}
