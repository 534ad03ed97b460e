package work_test

import (
	"context"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// env is a work service over a real store, acting as ada, the admin of
// project BAL, in which bob is an editor and cy a viewer; its clock stands
// at now until the test moves it.
type env struct {
	ctx context.Context
	db  *store.DB
	ws  *work.Service
	ps  *project.Service
	p   *project.Project
	now time.Time
}

// newEnv builds the env on db with the clock at 2026-03-02 09:00 UTC.
func newEnv(tb testing.TB, db *store.DB) *env {
	tb.Helper()
	ctx := context.Background()
	as := auth.NewService(db, storetest.FastHash)
	ps := project.NewService(db, as)
	e := &env{db: db, ws: work.NewService(db, ps), ps: ps, now: at("2026-03-02", 9)}
	e.ws.SetClock(func() time.Time { return e.now })
	var ada *auth.User
	for _, name := range []string{"ada", "bob", "cy"} {
		u, err := as.CreateUser(ctx, auth.NewUser{Name: name, Password: "a long enough test password"})
		if err != nil {
			tb.Fatal(err)
		}
		if ada == nil {
			ada = u
		}
	}
	e.ctx = storetest.As(ctx, ada)
	e.p = newProject(tb, e.ctx, ps, "BAL", map[string]auth.Role{"bob": auth.RoleEditor, "cy": auth.RoleViewer})
	return e
}

// newProject creates project key, owned by the caller of ctx, with members.
// It is the only place the tests create projects or members.
func newProject(tb testing.TB, ctx context.Context, ps *project.Service, key string, members map[string]auth.Role) *project.Project {
	tb.Helper()
	p, err := ps.CreateProject(ctx, project.NewProject{Key: key, Name: "Project " + key})
	if err != nil {
		tb.Fatal(err)
	}
	for name, role := range members {
		if _, err := ps.SetMember(ctx, p, name, role); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

// at is hour o'clock UTC on day (YYYY-MM-DD).
func at(day string, hour int) time.Time {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		panic(err)
	}
	return d.Add(time.Duration(hour) * time.Hour)
}

func mustItem(tb testing.TB, e *env, in work.NewItem) *work.Item {
	tb.Helper()
	it, err := e.ws.CreateItem(e.ctx, e.p, in)
	if err != nil {
		tb.Fatalf("create %q: %v", in.Title, err)
	}
	return it
}

func mustUpdate(tb testing.TB, e *env, key string, upd work.ItemUpdate) *work.Item {
	tb.Helper()
	it, err := e.ws.UpdateItem(e.ctx, e.p, key, upd)
	if err != nil {
		tb.Fatalf("update %s: %v", key, err)
	}
	return it
}

func mustGet(tb testing.TB, e *env, key string) *work.Item {
	tb.Helper()
	it, err := e.ws.Item(e.ctx, e.p, key)
	if err != nil {
		tb.Fatalf("item %s: %v", key, err)
	}
	return it
}

func mustSprint(tb testing.TB, e *env, in work.NewSprint) *work.Sprint {
	tb.Helper()
	sp, err := e.ws.CreateSprint(e.ctx, e.p, in)
	if err != nil {
		tb.Fatalf("sprint %q: %v", in.Name, err)
	}
	return sp
}

// mustCount is the number of items in the env's project.
func mustCount(tb testing.TB, e *env) int {
	tb.Helper()
	by, err := e.db.CountItems(e.ctx, work.ItemFilter{ProjectID: e.p.ID})
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, c := range by {
		n += c
	}
	return n
}

// wantInvalid fails unless err is EINVALID naming field.
func wantInvalid(tb testing.TB, err error, field string) {
	tb.Helper()
	if trellis.ErrorCode(err) != trellis.EINVALID || trellis.ErrorField(err) != field {
		tb.Errorf("error %v (code %q, field %q), want %s naming %q", err, trellis.ErrorCode(err), trellis.ErrorField(err), trellis.EINVALID, field)
	}
}

// wantCode fails unless err has code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := trellis.ErrorCode(err); got != code {
		tb.Errorf("error %v (code %q), want %q", err, got, code)
	}
}

func ptr[T any](v T) *T { return &v }
