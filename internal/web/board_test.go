package web

import (
	"net/http"
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
