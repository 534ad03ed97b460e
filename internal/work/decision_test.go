package work_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/work"
)

func mustDecide(tb testing.TB, e *env, key string, in work.DecisionInput) (*work.Decision, *work.Item) {
	tb.Helper()
	d, follow, err := e.ws.Decide(e.ctx, e.p, key, in)
	if err != nil {
		tb.Fatalf("decide %s: %v", key, err)
	}
	return d, follow
}

func mustLog(tb testing.TB, e *env, f work.HypothesisFilter) []string {
	tb.Helper()
	ds, err := e.ws.HypothesisLog(e.ctx, e.p, f)
	if err != nil {
		tb.Fatalf("log %+v: %v", f, err)
	}
	keys := []string{}
	for _, d := range ds {
		keys = append(keys, d.Item)
	}
	return keys
}

func newExperiment(tb testing.TB, e *env, title string, in work.NewItem) *work.Item {
	tb.Helper()
	in.Kind, in.Title, in.Hypothesis, in.TimeBox = work.KindExperiment, title, "We believe "+title+" helps", "2d"
	return mustItem(tb, e, in)
}

func TestDecideValidation(t *testing.T) { storetest.Backends(t, testDecideValidation) }

func testDecideValidation(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	exp := newExperiment(t, e, "mosaic", work.NewItem{})
	dev := mustItem(t, e, work.NewItem{Kind: work.KindDevelopment, Title: "serve"})
	links := make([]string, 51)
	for i := range links {
		links[i] = fmt.Sprintf("https://runs/%d", i)
	}
	for _, c := range []struct {
		in    work.DecisionInput
		field string
	}{
		{work.DecisionInput{Outcome: "ship", Verdict: "supported"}, "outcome"},
		{work.DecisionInput{Verdict: "supported"}, "outcome"},
		{work.DecisionInput{Outcome: "Abandon", Verdict: "refuted", Reason: "r"}, "outcome"},
		{work.DecisionInput{Outcome: "abandon", Verdict: "maybe", Reason: "r"}, "verdict"},
		{work.DecisionInput{Outcome: "abandon", Reason: "r"}, "verdict"},
		{work.DecisionInput{Outcome: "abandon", Verdict: "refuted"}, "reason"},
		{work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: " \n "}, "reason"},
		{work.DecisionInput{Outcome: "productionize", Verdict: "supported", Reason: strings.Repeat("r", 10001)}, "reason"},
		{work.DecisionInput{Outcome: "productionize", Verdict: "supported", Evidence: []string{"javascript:alert(1)"}}, "evidence"},
		{work.DecisionInput{Outcome: "productionize", Verdict: "supported", Evidence: []string{"ftp://runs/1"}}, "evidence"},
		{work.DecisionInput{Outcome: "productionize", Verdict: "supported", Evidence: []string{"https://runs/" + strings.Repeat("x", 2000)}}, "evidence"},
		{work.DecisionInput{Outcome: "productionize", Verdict: "supported", Evidence: links}, "evidence"},
		{work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive"}, "time_box"},
		{work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive", TimeBox: " "}, "time_box"},
		{work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive", TimeBox: "soon"}, "time_box"},
	} {
		_, _, err := e.ws.Decide(e.ctx, e.p, exp.Key, c.in)
		wantInvalid(t, err, c.field)
	}
	_, _, err := e.ws.Decide(e.ctx, e.p, dev.Key, work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "r"})
	wantCode(t, err, "conflict")
	_, _, err = e.ws.Decide(e.ctx, e.p, "BAL-99", work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "r"})
	wantCode(t, err, "not_found")
	// Nothing of the refusals was kept.
	got := mustGet(t, e, exp.Key)
	if got.Stage != work.StageIdeation || got.Status != "Backlog" || !got.DoneAt.IsZero() || got.Learning != "" {
		t.Errorf("refused decisions changed the item: %+v", got)
	}
	if d, err := e.ws.DecisionOf(e.ctx, e.p, got); d != nil || err != nil {
		t.Errorf("decision of an undecided item: %+v %v", d, err)
	}
	if keys := mustLog(t, e, work.HypothesisFilter{}); len(keys) != 0 || mustCount(t, e) != 2 {
		t.Errorf("log %v, %d items", keys, mustCount(t, e))
	}
	// 50 links, blank ones skipped, are enough.
	d, _ := mustDecide(t, e, exp.Key, work.DecisionInput{Outcome: "productionize", Verdict: "supported", Evidence: append(links[:50], " ", "")})
	if len(d.Evidence) != 50 {
		t.Errorf("evidence %d links", len(d.Evidence))
	}
}

func TestDecide(t *testing.T) { storetest.Backends(t, testDecide) }

func testDecide(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	var heard []string
	e.ws.OnDecided(func(_ context.Context, ev work.Decided) {
		heard = append(heard, ev.Project.Key+" "+ev.Decision.Item+" "+ev.Decision.Outcome)
	})
	mustSprint(t, e, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-06"})
	epic := mustItem(t, e, work.NewItem{Kind: work.KindDevelopment, Title: "scorer", Points: 5})
	exp := newExperiment(t, e, "mosaic", work.NewItem{Parent: epic.Key, Assignees: []string{"bob"}, Labels: []string{"vision"}, Priority: "high", Sprint: "S1"})
	if _, err := e.ws.StartSprint(e.ctx, e.p, "S1"); err != nil {
		t.Fatal(err)
	}

	// Productionize: the experiment is decided and done, a development
	// story follows it up.
	e.now = at("2026-03-03", 10)
	d, follow := mustDecide(t, e, exp.Key, work.DecisionInput{Outcome: "productionize", Verdict: "supported",
		Evidence: []string{" https://runs/1 ", "", "http://runs/2"}})
	want := &work.Decision{ItemID: exp.ID, Item: exp.Key, Title: "mosaic", Hypothesis: "We believe mosaic helps", Outcome: "productionize",
		Verdict: "supported", Reason: "", Evidence: []string{"https://runs/1", "http://runs/2"}, FollowUpID: follow.ID, FollowUp: "BAL-3",
		DecidedBy: "ada", DecidedAt: e.now}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("decision\n%+v, want\n%+v", d, want)
	}
	stored, err := e.ws.DecisionOf(e.ctx, e.p, exp)
	if err != nil {
		t.Fatal(err)
	}
	stored.DecidedAt = stored.DecidedAt.UTC()
	if want.FollowUpID = stored.FollowUpID; !reflect.DeepEqual(stored, want) {
		t.Errorf("stored decision\n%+v, want\n%+v", stored, want)
	}
	decided := mustGet(t, e, exp.Key)
	if decided.Stage != work.StageDecision || decided.Status != "Done" || !decided.StartedAt.Equal(e.now) || !decided.DoneAt.Equal(e.now) ||
		decided.Learning != "" || decided.TimeBoxExpired {
		t.Errorf("decided experiment %+v", decided)
	}
	fu := mustGet(t, e, follow.Key)
	if fu.Key != "BAL-3" || fu.Kind != work.KindDevelopment || fu.Title != "Productionize: mosaic" || fu.Phase != "productionize" ||
		fu.Description != "Origin: experiment BAL-2, hypothesis supported.\n\n> We believe mosaic helps" || fu.Status != "Backlog" ||
		fu.Priority != "high" || !slices.Equal(fu.Labels, []string{"vision"}) || !slices.Equal(fu.Assignees, []string{"bob"}) ||
		fu.Parent != epic.Key || fu.SprintID != "" || fu.CreatedBy != "ada" || !fu.CreatedAt.Equal(e.now) ||
		!reflect.DeepEqual(fu.Links, []work.Link{{Type: work.LinkFollowUpOf, Key: exp.Key, Title: "mosaic", Direction: "out"}}) {
		t.Errorf("follow-up %+v", fu)
	}
	hist, err := e.ws.History(e.ctx, e.p, exp.Key)
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, ev := range hist {
		if ev.Field != "created" {
			changes = append(changes, fmt.Sprintf("%s:%s>%s", ev.Field, ev.Old, ev.New))
		}
	}
	slices.Sort(changes)
	if wantCh := []string{"decision:>productionize (supported)", "stage:ideation>decision", "status:Backlog>Done"}; !slices.Equal(changes, wantCh) {
		t.Errorf("history %q, want %q", changes, wantCh)
	}
	// The sprint burns the decided experiment's two days.
	if got, wantDays := mustDays(t, e, decided.SprintID), "2026-03-02 2/0, 2026-03-03 2/2"; got != wantDays {
		t.Errorf("sprint days %q, want %q", got, wantDays)
	}
	// A second decision is refused and changes nothing.
	_, _, err = e.ws.Decide(e.ctx, e.p, exp.Key, work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "again"})
	wantCode(t, err, "conflict")
	if again, _ := e.ws.DecisionOf(e.ctx, e.p, exp); again == nil || again.Outcome != "productionize" || mustCount(t, e) != 3 {
		t.Errorf("after a second decision: %+v, %d items", again, mustCount(t, e))
	}

	// Abandon: the reason becomes the learning, unless there is one.
	focal := newExperiment(t, e, "focal loss", work.NewItem{})
	bigger := newExperiment(t, e, "bigger backbone", work.NewItem{Learning: "GPU memory is the limit"})
	e.now = at("2026-03-04", 10)
	d, follow = mustDecide(t, e, focal.Key, work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "  no gain on v3 \n"})
	if follow != nil || d.FollowUp != "" || d.Reason != "no gain on v3" || len(d.Evidence) != 0 {
		t.Errorf("abandon: %+v %+v", d, follow)
	}
	if got := mustGet(t, e, focal.Key); got.Learning != "no gain on v3" || got.Status != "Done" {
		t.Errorf("abandoned %+v", got)
	}
	mustDecide(t, e, bigger.Key, work.DecisionInput{Outcome: "abandon", Verdict: "inconclusive", Reason: "out of memory"})
	if got := mustGet(t, e, bigger.Key); got.Learning != "GPU memory is the limit" {
		t.Errorf("kept learning %q", got.Learning)
	}

	// More research: a research item with the new time box and title.
	crops := newExperiment(t, e, "random crops", work.NewItem{})
	e.now = at("2026-03-05", 10)
	d, follow = mustDecide(t, e, crops.Key, work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive", Reason: "too noisy",
		TimeBox: " 1w ", Title: " Try bigger crops "})
	fu = mustGet(t, e, follow.Key)
	if d.FollowUp != fu.Key || fu.Kind != work.KindResearch || fu.TimeBox != "1w" || fu.Title != "Try bigger crops" || fu.Phase != "explore" ||
		fu.Description != "Follow-up of experiment "+crops.Key+" (hypothesis inconclusive).\n\ntoo noisy" || fu.Priority != "none" {
		t.Errorf("more research %+v", fu)
	}
	if wantHeard := []string{"BAL BAL-2 productionize", "BAL BAL-4 abandon", "BAL BAL-5 abandon", "BAL BAL-6 more_research"}; !slices.Equal(heard, wantHeard) {
		t.Errorf("OnDecided heard %q, want %q", heard, wantHeard)
	}
}

func TestHypothesisLog(t *testing.T) { storetest.Backends(t, testHypothesisLog) }

func testHypothesisLog(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	for i, c := range []struct {
		title string
		in    work.DecisionInput
	}{
		{"mosaic", work.DecisionInput{Outcome: "productionize", Verdict: "supported"}},
		{"focal loss", work.DecisionInput{Outcome: "abandon", Verdict: "refuted", Reason: "No gain on the Night split"}},
		{"bigger backbone", work.DecisionInput{Outcome: "more_research", Verdict: "inconclusive", TimeBox: "3d"}},
		{"label smoothing", work.DecisionInput{Outcome: "abandon", Verdict: "inconclusive", Reason: "noisy"}},
	} {
		exp := newExperiment(t, e, c.title, work.NewItem{})
		e.now = at("2026-03-02", 10).Add(time.Duration(i) * time.Hour)
		mustDecide(t, e, exp.Key, c.in)
	}
	// Items: BAL-1 mosaic (follow-up BAL-2), BAL-3 focal loss, BAL-4
	// bigger backbone (follow-up BAL-5), BAL-6 label smoothing.
	for _, c := range []struct {
		f    work.HypothesisFilter
		want []string
	}{
		{work.HypothesisFilter{}, []string{"BAL-6", "BAL-4", "BAL-3", "BAL-1"}},
		{work.HypothesisFilter{Verdict: "inconclusive"}, []string{"BAL-6", "BAL-4"}},
		{work.HypothesisFilter{Outcome: "abandon"}, []string{"BAL-6", "BAL-3"}},
		{work.HypothesisFilter{Outcome: "abandon", Verdict: "refuted"}, []string{"BAL-3"}},
		{work.HypothesisFilter{Outcome: "productionize", Verdict: "refuted"}, []string{}},
		{work.HypothesisFilter{Text: " NIGHT "}, []string{"BAL-3"}},           // the reason
		{work.HypothesisFilter{Text: "we believe mosaic"}, []string{"BAL-1"}}, // the hypothesis
		{work.HypothesisFilter{Text: "backbone"}, []string{"BAL-4"}},          // the title
		{work.HypothesisFilter{Text: "bal-6"}, []string{"BAL-6"}},             // the key
		{work.HypothesisFilter{Text: "BAL-5"}, []string{}},                    // not the follow-up's key
	} {
		if got := mustLog(t, e, c.f); !slices.Equal(got, c.want) {
			t.Errorf("log %+v = %v, want %v", c.f, got, c.want)
		}
	}
	ds, err := e.ws.HypothesisLog(e.ctx, e.p, work.HypothesisFilter{Verdict: "supported"})
	if err != nil || len(ds) != 1 {
		t.Fatalf("supported: %+v %v", ds, err)
	}
	if d := ds[0]; d.Title != "mosaic" || d.Hypothesis != "We believe mosaic helps" || d.FollowUp != "BAL-2" || d.DecidedBy != "ada" ||
		!d.DecidedAt.Equal(at("2026-03-02", 10)) {
		t.Errorf("supported entry %+v", d)
	}
	for _, c := range []struct {
		f     work.HypothesisFilter
		field string
	}{
		{work.HypothesisFilter{Verdict: "maybe"}, "verdict"},
		{work.HypothesisFilter{Outcome: "ship"}, "outcome"},
	} {
		_, err := e.ws.HypothesisLog(e.ctx, e.p, c.f)
		wantInvalid(t, err, c.field)
	}
	// Another project's log is its own.
	other := newProject(t, e.ctx, e.ps, "CAT", nil)
	if ds, err := e.ws.HypothesisLog(e.ctx, other, work.HypothesisFilter{}); err != nil || len(ds) != 0 {
		t.Errorf("other project's log %+v %v", ds, err)
	}
}

// Regression: Decide cut a long follow-up title at byte 300, which could
// split a character: SQLite stored the broken text, PostgreSQL refused the
// whole decision.
func TestDecideLongTitleStaysUTF8(t *testing.T) { storetest.Backends(t, testDecideLongTitleStaysUTF8) }

func testDecideLongTitleStaysUTF8(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	// "Productionize: " is 15 bytes; byte 300 falls inside the é.
	exp := newExperiment(t, e, strings.Repeat("a", 284)+"éé", work.NewItem{})
	_, follow, err := e.ws.Decide(e.ctx, e.p, exp.Key, work.DecisionInput{Outcome: "productionize", Verdict: "supported"})
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.ValidString(follow.Title) || follow.Title != "Productionize: "+strings.Repeat("a", 284) {
		t.Errorf("follow-up title %q", follow.Title)
	}
}
