package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// itemRuns reads an item's linked runs from the tracking service for
// goal.EvaluateItem: the links, then the linked runs with their latest
// metrics through run searches of up to 1000 ids each (one query per page
// instead of one per run). Deleted runs and experiments are left out, as
// are runs gone since they were linked.
type itemRuns struct {
	track *tracking.Service
	proj  *work.Project
}

// searchPage is how many experiments one search answers, and searchIDs
// how many run ids one run search asks for: 500 quoted ids keep the filter
// under the search language's 20,000 characters.
const (
	searchPage = 1000
	searchIDs  = 500
)

func (ir itemRuns) LinkedRuns(ctx context.Context, item string) ([]goal.LinkedRun, error) {
	links, err := ir.track.ItemRuns(ctx, ir.proj, item)
	if err != nil || len(links) == 0 {
		return nil, err
	}
	var exps []string
	for token := ""; ; {
		es, next, err := ir.track.SearchExperiments(ctx, ir.proj, tracking.SearchInput{MaxResults: searchPage, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			exps = append(exps, strconv.FormatInt(e.ID, 10))
		}
		if token = next; token == "" {
			break
		}
	}
	var out []goal.LinkedRun
	for len(links) > 0 && len(exps) > 0 {
		n := min(len(links), searchIDs)
		quoted := make([]string, n)
		for i, l := range links[:n] {
			quoted[i] = "'" + l.RunID + "'" // 32 hex digits: nothing to escape
		}
		links = links[n:]
		in := tracking.SearchRunsInput{ExperimentIDs: exps, SearchInput: tracking.SearchInput{
			Filter: "attributes.run_id IN (" + strings.Join(quoted, ",") + ")", MaxResults: searchIDs}}
		runs, _, err := ir.track.SearchRuns(ctx, ir.proj, in)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			m := make(map[string]float64, len(r.Metrics))
			for _, x := range r.Metrics {
				m[x.Key] = x.Value
			}
			out = append(out, goal.LinkedRun{ID: r.Info.ID, StartTime: r.Info.StartTime, Metrics: m})
		}
	}
	return out, nil
}

// goalsRequest carries the goals to evaluate as a Gherkin spec: its Then
// steps are the goals. Until goals are stored on items, the caller sends
// them with each request.
type goalsRequest struct {
	Spec string `json:"spec"`
	Name string `json:"name"` // the spec's file name, for error messages
}

func (api *API) evaluateGoals(w http.ResponseWriter, r *http.Request) error {
	item := r.URL.Query().Get("item")
	if item == "" {
		return trellis.Invalid("item", "item is required: ?item=KEY")
	}
	var req goalsRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Spec) == "" {
		return trellis.Invalid("spec", "spec is required: the text of a .feature file whose Then steps are the goals")
	}
	name := req.Name
	if name == "" {
		name = "spec.feature"
	}
	sp, err := goal.ParseSpec(name, []byte(req.Spec))
	if err != nil {
		return trellis.Invalid("spec", "%s", err.Error())
	}
	goals := sp.Goals()
	if len(goals) == 0 {
		return trellis.Invalid("spec", "%s states no goals: no Then step checks a metric", name)
	}
	ev, err := goal.EvaluateItem(r.Context(), itemRuns{api.track, route.ProjectFrom(r.Context())}, item, goals)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ev.JSON())
}
