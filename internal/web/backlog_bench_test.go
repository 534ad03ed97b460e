package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/work"
)

// benchProject builds a SQLite store with project BIG of n items through
// the service (kinds, statuses, assignees and labels mixed; a tenth in the
// active sprint) and returns a handler and a session for its admin.
func benchProject(b *testing.B, n int) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	a := auth.NewService(db, auth.HashParams{Memory: 64, Time: 1, Threads: 1})
	w := work.NewService(db, a)
	g := goal.NewService(db, tracking.NewService(db))
	ui, err := New(Options{Auth: a, Work: w, Goals: g, BaseURL: "http://trellis.test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	u, err := a.CreateUser(ctx, auth.NewUser{Name: "ada", Password: testPassword})
	if err != nil {
		b.Fatal(err)
	}
	_, session, err := a.Login(ctx, "ada", testPassword)
	if err != nil {
		b.Fatal(err)
	}
	actx := auth.NewContext(ctx, &auth.Principal{User: u, Scope: auth.ScopeWrite})
	p, err := w.CreateProject(actx, work.NewProject{Key: "BIG", Name: "Big"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.CreateSprint(actx, p, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-13"}); err != nil {
		b.Fatal(err)
	}
	if _, err := w.StartSprint(actx, p, "S1"); err != nil {
		b.Fatal(err)
	}
	statuses := []string{"Backlog", "To do", "In progress", "In review", "Done"}
	for i := range n {
		in := work.NewItem{Kind: work.Kinds[i%4], Title: fmt.Sprintf("Item number %d about balloons", i), Status: statuses[i%5],
			Description: "Some **Markdown** text.", Points: 3, TimeBox: "2d", Hypothesis: "We believe it helps",
			DoDChecked: work.DefaultDoD[work.Kinds[i%4]]}
		if in.Kind != work.KindExperiment {
			in.Hypothesis = ""
		}
		if i%3 == 0 {
			in.Assignees = []string{"ada"}
		}
		if i%4 == 0 {
			in.Labels = []string{"learning", "data"}
		}
		if i%10 == 0 {
			in.Sprint = "S1"
		}
		if in.Kind == work.KindResearch {
			in.Learning = "What the time box taught us" // closing research needs it
		}
		it, err := w.CreateItem(actx, p, in)
		if err != nil {
			b.Fatal(err)
		}
		// Every tenth card carries a checked spec: the board fetches the
		// badges of all its cards in one query.
		if i%10 == 5 {
			if _, err := g.AttachSpec(actx, p, it.Key, "bench.feature", benchSpec); err != nil {
				b.Fatal(err)
			}
		}
	}
	mux := http.NewServeMux()
	ui.Surface().Register(mux)
	return withSession(a, mux), session
}

// benchSpec is a spec of two scenarios the server checks (and finds no
// runs for) and one it skips.
const benchSpec = `Feature: bench
  Scenario: accurate
    Given the latest run of item "BIG-1"
    Then metric "acc" should be at least 0.8
  Scenario: fast
    Given the latest run of item "BIG-1"
    Then metric "latency_ms" should be at most 50
  Scenario: offline
    Given labels from "l.csv"
    And predictions from "p.csv"
    When the predictions are scored as classification
    Then accuracy should be at least 0.9
`

// BenchmarkPages10k renders the backlog and board pages of a project with
// 10,000 items, server-side, through the real handlers and store.
func BenchmarkPages10k(b *testing.B) {
	h, session := benchProject(b, 10000)
	for _, page := range []string{"/p/BIG/backlog", "/p/BIG/backlog?q=balloons&kind=development", "/p/BIG/board",
		"/p/BIG/board?lanes=assignee", "/p/BIG/board?sprint=active", "/p/BIG/experiments"} {
		b.Run(page, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, page, nil)
				r.AddCookie(&http.Cookie{Name: SessionCookie, Value: session})
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%s = %d: %.300s", page, w.Code, w.Body.String())
				}
			}
		})
	}
}
