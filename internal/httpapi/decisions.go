package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// DecisionResponse is the answer of POST /items/{item}/decision.
type DecisionResponse struct {
	Decision *work.Decision `json:"decision"`
	FollowUp *work.Item     `json:"follow_up,omitempty"`
}

func (api *API) decide(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	var req work.DecisionInput
	if err := decode(r, &req); err != nil {
		return err
	}
	d, follow, err := api.work.Decide(r.Context(), route.ProjectFrom(r.Context()), ref, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, DecisionResponse{Decision: d, FollowUp: follow})
}

type decisionList struct {
	Decisions []*work.Decision `json:"decisions"`
}

func (api *API) hypothesisLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ds, err := api.work.HypothesisLog(r.Context(), route.ProjectFrom(r.Context()),
		work.HypothesisFilter{Verdict: q.Get("verdict"), Outcome: q.Get("outcome"), Text: q.Get("q")})
	if err != nil {
		return err
	}
	if len(ds) > 0 {
		ev, err := api.goals.EvidenceSentences(r.Context(), route.ProjectFrom(r.Context()))
		if err != nil {
			return err
		}
		for _, d := range ds {
			d.GoalResults = ev[d.ItemID]
		}
	}
	switch q.Get("format") {
	case "", "json":
		return writeJSON(w, http.StatusOK, decisionList{Decisions: ds})
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		return work.WriteHypothesisCSV(w, ds)
	case "markdown", "md":
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		return work.WriteHypothesisMarkdown(w, route.ProjectFrom(r.Context()), ds)
	}
	return trellis.Invalid("format", "format must be json, csv or markdown")
}
