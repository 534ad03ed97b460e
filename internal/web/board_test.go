package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/work"
)

// TestExperimentBoardCounts shows each stage's count of experiments: the
// experiment board loads them all, so none is reported hidden.
func TestExperimentBoardCounts(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("ada", false)
	p := e.mustProject(s, "BAL", "Balloons")
	for _, title := range []string{"a", "b"} {
		if _, err := e.work.CreateItem(e.ctx(s), p, work.NewItem{Kind: work.KindExperiment, Title: title, Hypothesis: "We believe " + title + " helps"}); err != nil {
			t.Fatal(err)
		}
	}
	w := e.get("/p/BAL/experiments", s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `data-count>2<`)
	wantNoBody(t, w, "more; filter to see them")
}

// TestExperimentBoardHeadingsAndDecisions heads the experiment board's
// columns as the flow board heads its statuses, keeps the stage ids the
// moves post, and shows a decided card's verdict and outcome.
func TestExperimentBoardHeadingsAndDecisions(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("ada", false)
	p := e.mustProject(s, "BAL", "Balloons")
	var keys []string
	for _, title := range []string{"Focal loss", "Mixup"} {
		it, err := e.work.CreateItem(e.ctx(s), p, work.NewItem{Kind: work.KindExperiment, Title: title, Hypothesis: "We believe " + title + " helps", TimeBox: "2d"})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, it.Key)
	}
	if _, _, err := e.work.Decide(e.ctx(s), p, keys[0], work.DecisionInput{Outcome: work.OutcomeMoreResearch, Verdict: "inconclusive", Reason: "Too noisy", TimeBox: "3d"}); err != nil {
		t.Fatal(err)
	}
	w := e.get("/p/BAL/experiments", s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w,
		`<span class="column-name">Ideation</span>`, `<span class="column-name">Active</span>`,
		`<span class="column-name">Analysis</span>`, `<span class="column-name">Decision</span>`,
		`data-column="ideation"`, `data-column="decision"`,
		`verdict-inconclusive`, `inconclusive · More research</span>`)
	wantNoBody(t, w, `column-name">ideation<`, `column-name">decision<`)
	if n := strings.Count(w.Body.String(), "decision-badge"); n != 1 {
		t.Errorf("%d decision badges, want 1 (only the decided card)", n)
	}

	// The flow board shares the card and column templates: its statuses
	// head the columns as they are named, and no card has a decision badge.
	w = e.get("/p/BAL/board", s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `<section class="board-column" aria-label="To do">`, `<span class="column-name">To do</span>`, `data-column="To do"`)
	wantNoBody(t, w, "decision-badge")
}
