package storetest

import (
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

func testDecisions(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	newExp := func(title string) *work.Item {
		return must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "experiment", Title: title, Hypothesis: "We believe " + title + " helps", TimeBox: "2d", Assignees: []string{"bob"}}))
	}
	e1, e2, e3 := newExp("mosaic"), newExp("focal loss"), newExp("bigger backbone")
	dev := must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "d"}))
	_, _, err := ws.Decide(ctx, p, dev.Key, work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "r"})
	wantCode(t, err, trellis.ECONFLICT)
	for _, c := range []struct {
		in    work.DecisionInput
		field string
	}{
		{work.DecisionInput{Outcome: "ship", Verdict: "supported"}, "outcome"},
		{work.DecisionInput{Outcome: "abandon", Verdict: "maybe"}, "verdict"},
		{work.DecisionInput{Outcome: "abandon", Verdict: "refuted"}, "reason"},
		{work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive"}, "time_box"},
		{work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive", TimeBox: "soon"}, "time_box"},
		{work.DecisionInput{Outcome: "productionize", Verdict: "supported", Evidence: []string{"javascript:alert(1)"}}, "evidence"},
	} {
		_, _, err := ws.Decide(ctx, p, e1.Key, c.in)
		if trellis.ErrorCode(err) != trellis.EINVALID || trellis.ErrorField(err) != c.field {
			t.Errorf("%+v: %v, want field %s", c.in, err, c.field)
		}
	}
	d1, dev1 := must2(t)(ws.Decide(ctx, p, e1.Key, work.DecisionInput{Outcome: "productionize", Verdict: "supported", Evidence: []string{"https://runs/1"}}))
	if dev1 == nil || dev1.Kind != work.KindDevelopment || d1.FollowUp != dev1.Key || dev1.Assignees[0] != "bob" {
		t.Fatalf("productionize: %+v %+v", d1, dev1)
	}
	got := must[*work.Item](t)(ws.Item(ctx, p, dev1.Key))
	if len(got.Links) != 1 || got.Links[0].Type != work.LinkFollowUpOf || got.Links[0].Key != e1.Key {
		t.Fatalf("follow-up links %+v", got.Links)
	}
	decided := must[*work.Item](t)(ws.Item(ctx, p, e1.Key))
	if decided.Stage != work.StageDecision || decided.Status != "Done" {
		t.Fatalf("decided experiment %+v", decided)
	}
	_, _, err = ws.Decide(ctx, p, e1.Key, work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "again"})
	wantCode(t, err, trellis.ECONFLICT)
	_, none := must2(t)(ws.Decide(ctx, p, e2.Key, work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "no gain on v3"}))
	if none != nil {
		t.Fatalf("abandon created %+v", none)
	}
	_, res := must2(t)(ws.Decide(ctx, p, e3.Key, work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive", TimeBox: "1w"}))
	if res.Kind != work.KindResearch || res.TimeBox != "1w" {
		t.Fatalf("more research %+v", res)
	}
	log := must[[]*work.Decision](t)(ws.HypothesisLog(ctx, p, work.HypothesisFilter{}))
	if len(log) != 3 {
		t.Fatalf("log %d entries", len(log))
	}
	refuted := must[[]*work.Decision](t)(ws.HypothesisLog(ctx, p, work.HypothesisFilter{Verdict: "refuted"}))
	if len(refuted) != 1 || refuted[0].Item != e2.Key || refuted[0].Reason != "no gain on v3" || refuted[0].DecidedBy != "ada" {
		t.Fatalf("refuted %+v", refuted)
	}
}

func must2(tb testing.TB) func(*work.Decision, *work.Item, error) (*work.Decision, *work.Item) {
	return func(d *work.Decision, it *work.Item, err error) (*work.Decision, *work.Item) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return d, it
	}
}
