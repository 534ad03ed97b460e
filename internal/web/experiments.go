package web

import (
	"net/http"
	"net/url"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

type experimentsView struct {
	layout
	Lanes    []*boardLane
	Columns  []*boardColumn
	Warnings []string
	Filter   url.Values
	CanEdit  bool
	Specs    map[string]*goal.SpecSummary // spec badges by item id
	Goals    map[string]goal.GoalProgress // each item's goal progress, for the cards
}

// experimentsPage is the experiment board: Ideation → Active → Analysis →
// Decision, with drag and drop between stages.
func (ui *UI) experimentsPage(w http.ResponseWriter, r *http.Request) error {
	proj := route.ProjectFrom(r.Context())
	q := r.URL.Query()
	f := filterFrom(q)
	f.Status = ""
	b, err := ui.work.ExperimentBoard(r.Context(), proj, f)
	if err != nil {
		return err
	}
	v := &experimentsView{layout: ui.base(r, "Experiments · "+proj.Name, "experiments"), Warnings: b.Warnings, Filter: q,
		CanEdit: proj.Role.AtLeast(auth.RoleEditor)}
	v.Lanes, v.Columns = lanes(b, "")
	if v.Specs, err = ui.specSummaries(r.Context(), proj); err != nil {
		return err
	}
	if v.Goals, err = ui.goalProgress(r.Context(), proj, f.SprintID, work.KindExperiment); err != nil {
		return err
	}
	return ui.render(w, http.StatusOK, "experiments", v)
}

type hypothesesView struct {
	layout
	Decisions []*work.Decision
	Filter    url.Values
	Verdicts  []string
	Outcomes  []string
}

// hypothesesPage is the hypothesis log: what the team believed, what it
// found and what it did next.
func (ui *UI) hypothesesPage(w http.ResponseWriter, r *http.Request) error {
	proj := route.ProjectFrom(r.Context())
	q := r.URL.Query()
	f := work.HypothesisFilter{Verdict: q.Get("verdict"), Outcome: q.Get("outcome"), Text: q.Get("q")}
	ds, err := ui.work.HypothesisLog(r.Context(), proj, f)
	if err != nil {
		return err
	}
	if ui.goals != nil && len(ds) > 0 {
		ev, err := ui.goals.EvidenceSentences(r.Context(), proj)
		if err != nil {
			return err
		}
		for _, d := range ds {
			d.GoalResults = ev[d.ItemID]
		}
	}
	switch q.Get("format") {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+proj.Key+`-hypotheses.csv"`)
		return work.WriteHypothesisCSV(w, ds)
	case "markdown":
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+proj.Key+`-hypotheses.md"`)
		return work.WriteHypothesisMarkdown(w, proj, ds)
	}
	v := &hypothesesView{layout: ui.base(r, "Hypothesis log · "+proj.Name, "experiments"), Decisions: ds, Filter: q,
		Verdicts: work.Verdicts, Outcomes: work.Outcomes}
	return ui.render(w, http.StatusOK, "hypotheses", v)
}
