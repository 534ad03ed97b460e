package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/work"
)

// benchFixture is what every page benchmark starts from: a migrated store
// at dsn with project BIG and its admin ada, and the UI wired over it as
// the server wires it. Benchmarks seed their data through the services.
type benchFixture struct {
	h       http.Handler    // the UI behind the session middleware
	session string          // ada's session cookie value
	ctx     context.Context // acting as ada
	db      *store.DB
	w       *work.Service
	tr      *tracking.Service
	gs      *goal.Service
	p       *project.Project
}

func newBenchFixture(b testing.TB, dsn string) *benchFixture {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	a := auth.NewService(db, auth.HashParams{Memory: 64, Time: 1, Threads: 1})
	ps := project.NewService(db, a)
	f := &benchFixture{db: db, w: work.NewService(db, ps), tr: tracking.NewService(db)}
	f.gs = goal.NewService(db, f.tr)
	ui, err := New(Options{Auth: a, Projects: ps, Work: f.w, Tracking: f.tr, Goals: f.gs, BaseURL: "http://trellis.test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	u, err := a.CreateUser(ctx, auth.NewUser{Name: "ada", Password: testPassword})
	if err != nil {
		b.Fatal(err)
	}
	if _, f.session, err = a.Login(ctx, "ada", testPassword); err != nil {
		b.Fatal(err)
	}
	f.ctx = auth.NewContext(ctx, &auth.Principal{User: u, Scope: auth.ScopeWrite})
	if f.p, err = ps.CreateProject(f.ctx, project.NewProject{Key: "BIG", Name: "Big"}); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	ui.Surface().Register(mux)
	f.h = withSession(a, mux)
	return f
}
