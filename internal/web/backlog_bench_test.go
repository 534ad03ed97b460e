package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/trellisml/trellis/internal/work"
)

// benchProject builds a SQLite store with project BIG of n items through
// the service (kinds, statuses, assignees and labels mixed; a tenth in the
// active sprint) and returns a handler and a session for its admin.
func benchProject(b *testing.B, n int) (http.Handler, string) {
	b.Helper()
	f := newBenchFixture(b, filepath.Join(b.TempDir(), "bench.db"))
	w, g, actx, p := f.w, f.gs, f.ctx, f.p
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
	return f.h, f.session
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
