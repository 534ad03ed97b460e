package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// itemRuns reads an item's linked runs from the tracking service for
// goal.EvaluateItem: the links, then each run's latest metrics. Deleted
// runs, and runs gone since they were linked, are left out.
type itemRuns struct {
	track *tracking.Service
	proj  *work.Project
}

func (ir itemRuns) LinkedRuns(ctx context.Context, item string) ([]goal.LinkedRun, error) {
	links, err := ir.track.ItemRuns(ctx, ir.proj, item)
	if err != nil {
		return nil, err
	}
	out := make([]goal.LinkedRun, 0, len(links))
	for _, l := range links {
		r, err := ir.track.Run(ctx, ir.proj, l.RunID)
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		if r.Info.LifecycleStage == tracking.StageDeleted {
			continue
		}
		m := make(map[string]float64, len(r.Metrics))
		for _, x := range r.Metrics {
			m[x.Key] = x.Value
		}
		out = append(out, goal.LinkedRun{ID: r.Info.ID, StartTime: r.Info.StartTime, Metrics: m})
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

type goalObservation struct {
	RunID     string    `json:"run_id"`
	Value     *float64  `json:"value"` // null when undefined
	Undefined string    `json:"undefined,omitempty"`
	StartedAt time.Time `json:"run_started_at"`
}

type goalResult struct {
	goal.Goal
	Key    string           `json:"key"`
	Text   string           `json:"text"`
	Status goal.Status      `json:"status"`
	Latest *goalObservation `json:"latest"`
	Best   *goalObservation `json:"best"`
}

type goalsEvaluation struct {
	Item  string       `json:"item"`
	Runs  int          `json:"runs"`
	Goals []goalResult `json:"goals"`
}

func toObservation(o *goal.Observation) *goalObservation {
	if o == nil {
		return nil
	}
	w := &goalObservation{RunID: o.RunID, StartedAt: trellis.FromMillis(o.At)}
	if o.Value.Defined {
		v := o.Value.V
		w.Value = &v
	} else {
		w.Undefined = o.Value.Reason
	}
	return w
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
	out := goalsEvaluation{Item: ev.Item, Runs: ev.Runs, Goals: make([]goalResult, len(ev.Goals))}
	for i, g := range ev.Goals {
		out.Goals[i] = goalResult{Goal: g.Goal, Key: g.Goal.MetricKey(), Text: g.Goal.String(), Status: g.Status,
			Latest: toObservation(g.Latest), Best: toObservation(g.Best)}
	}
	return writeJSON(w, http.StatusOK, out)
}
