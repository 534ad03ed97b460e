package httpapi

import (
	"net/http"
	"strings"

	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
)

// goalRoutes are the goals of items and of projects: viewers read and
// evaluate, editors add, change and delete.
func (api *API) goalRoutes() []route.Route {
	return []route.Route{
		{Method: "GET", Pattern: "/projects/{key}/goals", Access: route.ProjectViewer, Handler: api.listGoals},
		{Method: "POST", Pattern: "/projects/{key}/goals", Access: route.ProjectEditor, Handler: api.addGoal},
		{Method: "GET", Pattern: "/projects/{key}/goals/evaluation", Access: route.ProjectViewer, Handler: api.evaluateProjectGoals},
		{Method: "GET", Pattern: "/projects/{key}/goals/progress", Access: route.ProjectViewer, Handler: api.goalProgress},
		{Method: "GET", Pattern: "/projects/{key}/goals/{id}", Access: route.ProjectViewer, Handler: api.getGoal},
		{Method: "PATCH", Pattern: "/projects/{key}/goals/{id}", Access: route.ProjectEditor, Handler: api.updateGoal},
		{Method: "DELETE", Pattern: "/projects/{key}/goals/{id}", Access: route.ProjectEditor, Handler: api.deleteGoal},
		{Method: "GET", Pattern: "/projects/{key}/items/{item}/goals", Access: route.ProjectViewer, Handler: api.listGoals},
		{Method: "POST", Pattern: "/projects/{key}/items/{item}/goals", Access: route.ProjectEditor, Handler: api.addGoal},
		{Method: "GET", Pattern: "/projects/{key}/items/{item}/goals/evaluation", Access: route.ProjectViewer, Handler: api.evaluateItemGoals},
		// POST because the goals travel in the body; it changes nothing, so viewers may call it.
		{Method: "POST", Pattern: "/projects/{key}/goals/evaluate", Access: route.ProjectViewer, ReadOnly: true, Handler: api.evaluateGoals},
	}
}

// GoalList is the body of the goal lists.
type GoalList struct {
	Goals []*goal.StoredGoal `json:"goals"`
}

// NewGoal is the body of POST .../goals: a goal's fields, the threshold
// required (a missing number must not silently become 0).
type NewGoal struct {
	Metric         string               `json:"metric"`
	Comparator     speccheck.Comparator `json:"comparator"`
	Threshold      *float64             `json:"threshold"`
	Class          string               `json:"class"`
	Slice          string               `json:"slice"`
	Dataset        string               `json:"dataset"`
	DatasetVersion string               `json:"dataset_version"`
	Experiment     string               `json:"experiment"`
	RunTag         string               `json:"run_tag"`
	Note           string               `json:"note"`
}

// Goal returns the goal the request describes.
func (n NewGoal) Goal() (goal.Goal, error) {
	if n.Threshold == nil {
		return goal.Goal{}, trellis.Invalid("threshold", "threshold is required: a number, e.g. 0.9")
	}
	return goal.Goal{Metric: n.Metric, Comparator: n.Comparator, Threshold: *n.Threshold, Class: n.Class, Slice: n.Slice,
		Dataset: n.Dataset, DatasetVersion: n.DatasetVersion, Experiment: n.Experiment, RunTag: n.RunTag, Note: n.Note}, nil
}

// itemRef is the {item} of an item's goal route, or "" on a project's.
func itemRef(r *http.Request) (string, error) {
	if r.PathValue("item") == "" {
		return "", nil
	}
	return pathValue(r, "item")
}

func (api *API) listGoals(w http.ResponseWriter, r *http.Request) error {
	ref, err := itemRef(r)
	if err != nil {
		return err
	}
	gs, err := api.goals.Goals(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, GoalList{Goals: gs})
}

func (api *API) addGoal(w http.ResponseWriter, r *http.Request) error {
	ref, err := itemRef(r)
	if err != nil {
		return err
	}
	var req NewGoal
	if err := decode(r, &req); err != nil {
		return err
	}
	g, err := req.Goal()
	if err != nil {
		return err
	}
	sg, err := api.goals.AddGoal(r.Context(), route.ProjectFrom(r.Context()), ref, g)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sg)
}

func (api *API) getGoal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathValue(r, "id")
	if err != nil {
		return err
	}
	g, err := api.goals.Goal(r.Context(), route.ProjectFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (api *API) updateGoal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathValue(r, "id")
	if err != nil {
		return err
	}
	var upd goal.GoalUpdate
	if err := decode(r, &upd); err != nil {
		return err
	}
	g, err := api.goals.UpdateGoal(r.Context(), route.ProjectFrom(r.Context()), id, upd)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (api *API) deleteGoal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathValue(r, "id")
	if err != nil {
		return err
	}
	if err := api.goals.DeleteGoal(r.Context(), route.ProjectFrom(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (api *API) evaluateItemGoals(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	ev, err := api.goals.EvaluateItemGoals(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ev.JSON())
}

func (api *API) evaluateProjectGoals(w http.ResponseWriter, r *http.Request) error {
	ev, err := api.goals.EvaluateProjectGoals(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ev.JSON())
}

// GoalProgress is the body of GET /goals/progress: per item key with
// goals, how many are met.
type GoalProgress struct {
	Items map[string]ProgressJSON `json:"items"`
}

// ProgressJSON is one item's goal progress.
type ProgressJSON struct {
	Met   int `json:"met"`
	Total int `json:"total"`
}

func (api *API) goalProgress(w http.ResponseWriter, r *http.Request) error {
	p, err := api.goals.ItemProgress(r.Context(), route.ProjectFrom(r.Context()), "", "")
	if err != nil {
		return err
	}
	out := GoalProgress{Items: make(map[string]ProgressJSON, len(p))}
	for k, v := range p {
		out.Items[k] = ProgressJSON{Met: v.Met, Total: v.Total}
	}
	return writeJSON(w, http.StatusOK, out)
}

// goalsRequest carries goals that are not stored as a Gherkin spec: its
// Then steps are the goals (what `trellis spec eval` sends).
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
	sp, err := speccheck.ParseSpec(name, []byte(req.Spec))
	if err != nil {
		return trellis.Invalid("spec", "%s", err.Error())
	}
	goals := goal.SpecGoals(sp)
	if len(goals) == 0 {
		return trellis.Invalid("spec", "%s states no goals: no Then step checks a metric", name)
	}
	ev, err := api.goals.EvaluateGoals(r.Context(), route.ProjectFrom(r.Context()), item, goals)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ev.JSON())
}
