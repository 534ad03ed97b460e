package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/work"
)

// BenchmarkSpecSummaries1000 reads the spec badges of a board: one query
// over a project with 1,000 items that each have a spec of 3 checked
// scenarios (the 10k-item benchmark of the board pages puts a spec on
// every tenth item).
func BenchmarkSpecSummaries1000(b *testing.B) {
	benchBackends(b, func(b *testing.B, db *store.DB) {
		ctx, _, p := benchFixture(b, db)
		items := make([]*work.Item, 1000)
		for i := range items {
			items[i] = &work.Item{ID: fmt.Sprintf("it%05d", i), ProjectID: p.ID, Number: int64(i + 1), Kind: work.KindDevelopment,
				Title: "item", Status: "Backlog", Priority: "none", Rank: float64(i), CreatedAt: time.Now(), UpdatedAt: time.Now()}
		}
		if err := db.CreateItems(ctx, items); err != nil {
			b.Fatal(err)
		}
		outcomes := []speccheck.Outcome{speccheck.Passed, speccheck.Failed, speccheck.Skipped}
		for _, it := range items {
			v := &goal.SpecVersion{ItemID: it.ID, ProjectID: p.ID, Name: "b.feature", Text: "Feature: b", CreatedAt: time.Now()}
			if _, err := db.AddSpecVersion(ctx, v); err != nil {
				b.Fatal(err)
			}
			rs := make([]*goal.SpecResult, 3)
			for j := range rs {
				rs[j] = &goal.SpecResult{Version: 1, Scenario: "s", Line: j + 2, Outcome: outcomes[j], Checks: []goal.CheckValue{}, CheckedAt: time.Now()}
			}
			if _, err := db.SaveSpecResults(ctx, it.ID, p.ID, 1, rs); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for b.Loop() {
			sums, err := db.FindSpecSummaries(ctx, p.ID)
			if err != nil || len(sums) != 1000 {
				b.Fatalf("%d summaries, %v", len(sums), err)
			}
		}
	})
}
