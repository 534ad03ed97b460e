package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

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

// decideFields maps work's decision fields to the decide form's inputs.
var decideFields = map[string]string{"outcome": "outcome", "verdict": "verdict", "reason": "reason", "evidence": "evidence", "time_box": "time_box", "title": "title"}

// itemDecide records the decision on an experiment.
func (ui *UI) itemDecide(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	ref := r.PathValue("item")
	pf := r.PostForm
	in := work.DecisionInput{Outcome: pf.Get("outcome"), Verdict: pf.Get("verdict"), Reason: pf.Get("reason"),
		Evidence: strings.Fields(pf.Get("evidence")), TimeBox: pf.Get("time_box"), Title: pf.Get("title")}
	if in.Outcome != work.OutcomeMoreResearch {
		in.TimeBox = ""
	}
	_, follow, err := ui.work.Decide(r.Context(), proj, ref, in)
	if err != nil {
		df := newForm(pf)
		if _, ok := formError(&df, err, decideFields); ok {
			return ui.renderItem(w, r, route.Status(err), ref, itemForms{DecideForm: df})
		}
		return err
	}
	if follow != nil {
		return redirect(w, r, itemURL(proj, follow.Key, "decided-follow-up"))
	}
	return redirect(w, r, itemURL(proj, ref, "decided"))
}
