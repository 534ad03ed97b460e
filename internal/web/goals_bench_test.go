package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/work"
)

// goalsBenchProject builds project BIG with items items, each with 3 goals
// and runsPer linked runs logging 5 metrics (3 of them the goals'), a
// tenth of the items in the active sprint, on SQLite or (pg) PostgreSQL.
// It returns a handler, an admin session, the goal service and the project.
func goalsBenchProject(b testing.TB, pg bool, items, runsPer int) (http.Handler, string, *goal.Service, *project.Project) {
	b.Helper()
	dsn := filepath.Join(b.TempDir(), "bench.db")
	if pg {
		dsn = storetest.PostgresDSN(b)
	}
	return goalsBenchProjectAt(b, dsn, items, runsPer)
}

func goalsBenchProjectAt(b testing.TB, dsn string, items, runsPer int) (http.Handler, string, *goal.Service, *project.Project) {
	f := newBenchFixture(b, dsn)
	db, w, tr, gs, actx, p := f.db, f.w, f.tr, f.gs, f.ctx, f.p
	if _, err := w.CreateSprint(actx, p, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-13"}); err != nil {
		b.Fatal(err)
	}
	if _, err := w.StartSprint(actx, p, "S1"); err != nil {
		b.Fatal(err)
	}
	exp, err := tr.CreateExperiment(actx, p, "bench", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	expID := fmt.Sprint(exp.ID)
	statuses := []string{"Backlog", "To do", "In progress", "In review", "Done"}
	metrics := []string{"accuracy", "loss", "f1.spam", "precision.spam", "recall.spam"}
	for i := range items {
		in := work.NewItem{Kind: work.Kinds[i%4], Title: fmt.Sprintf("Item %d", i), Status: statuses[i%5], Points: 3, TimeBox: "2d", Hypothesis: "We believe it helps", Learning: "learned",
			DoDChecked: work.DefaultDoD[work.Kinds[i%4]]}
		if in.Kind != work.KindExperiment {
			in.Hypothesis = ""
		}
		if i%10 == 0 {
			in.Sprint = "S1"
		}
		it, err := w.CreateItem(actx, p, in)
		if err != nil {
			b.Fatal(err)
		}
		for _, g := range []goal.Goal{{Metric: "accuracy", Comparator: speccheck.AtLeast, Threshold: 0.5}, {Metric: "loss", Comparator: speccheck.AtMost, Threshold: 0.5},
			{Metric: "f1", Class: "spam", Comparator: speccheck.MoreThan, Threshold: 0.5}} {
			if _, err := gs.AddGoal(actx, p, it.Key, g); err != nil {
				b.Fatal(err)
			}
		}
		finished := "FINISHED"
		for j := range runsPer {
			run, err := tr.CreateRun(actx, p, tracking.NewRun{ExperimentID: expID, Name: fmt.Sprintf("iter %d", j),
				StartTime: int64(1_770_000_000_000 + j*1000), Tags: []tracking.Tag{{Key: tracking.TagItem, Value: it.Key}}})
			if err != nil {
				b.Fatal(err)
			}
			var batch tracking.Batch
			for k, m := range metrics {
				batch.Metrics = append(batch.Metrics, tracking.Metric{Key: m, Value: float64((i+j+k)%10) / 10, Timestamp: 1})
			}
			if err := tr.LogBatch(actx, p, run.Info.ID, batch); err != nil {
				b.Fatal(err)
			}
			// Runs finish, as real training runs do (only finished runs
			// decide a goal); every tenth item's latest run still trains.
			if j == runsPer-1 && i%10 == 0 {
				continue
			}
			if _, err := tr.UpdateRun(actx, p, run.Info.ID, tracking.RunUpdate{Status: &finished}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if db.Dialect() == store.Postgres {
		// Statistics as autovacuum would have gathered them on a corpus
		// this size; without them the planner guesses one row per table
		// and nests loops (ItemProgress 1.1 s instead of 0.15 s).
		storetest.Analyze(b, dsn)
	}
	return f.h, f.session, gs, p
}

// BenchmarkBoardGoals renders the boards and sprint page of a project of
// 1,000 items with 3 goals each and 10,000 linked runs, every card with its
// goal badge, and times the batch evaluation behind the badges alone.
func BenchmarkBoardGoals(b *testing.B) {
	for _, pg := range []bool{false, true} {
		b.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(b *testing.B) {
			h, session, gs, p := goalsBenchProject(b, pg, 1000, 10)
			b.Run("ItemProgress", func(b *testing.B) {
				for b.Loop() {
					m, err := gs.ItemProgress(context.Background(), p, "", "")
					if err != nil || len(m) != 1000 {
						b.Fatalf("%d items, %v", len(m), err)
					}
				}
			})
			for _, page := range []string{"/p/BIG/board", "/p/BIG/board?sprint=active", "/p/BIG/experiments", "/p/BIG/items/BIG-1"} {
				b.Run(strings.TrimPrefix(page, "/p/BIG/"), func(b *testing.B) {
					for b.Loop() {
						r := httptest.NewRequest(http.MethodGet, page, nil)
						r.AddCookie(&http.Cookie{Name: SessionCookie, Value: session})
						w := httptest.NewRecorder()
						h.ServeHTTP(w, r)
						if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "data-goal-") {
							b.Fatalf("%s = %d: %.300s", page, w.Code, w.Body.String())
						}
					}
				})
			}
		})
	}
}
