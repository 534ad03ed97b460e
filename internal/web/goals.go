package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// goalRow is one goal of the Goals table with its evaluation.
type goalRow struct {
	ID     string
	Text   string
	Goal   goal.Goal
	Status goal.Status
	Latest *goal.Observation
	Best   *goal.Observation
	// Provisional is a later run still training, shown beside the verdict.
	Provisional *goal.Observation
	JudgedOn    string // which runs judge the goal
	NoData      string // what a goal without a deciding run waits for
}

// ThresholdInput is the threshold as the edit form shows it: every digit,
// so that saving the form unchanged changes nothing.
func (g goalRow) ThresholdInput() string { return strconv.FormatFloat(g.Goal.Threshold, 'g', -1, 64) }

// StatusSlug is the status as a CSS class and data attribute value: met,
// not-met, no-data, undefined.
func (g goalRow) StatusSlug() string { return strings.ReplaceAll(string(g.Status), " ", "-") }

// goalsSection is the Goals panel of an item page or of the project page.
type goalsSection struct {
	Enabled bool
	Item    string // the item key; empty for the project's own goals
	Action  string // where the add form posts
	Rows    []goalRow
	Met     int
	Runs    int
	CanEdit bool
	Form    form
	// Chart is the JSON the goal charts draw: per goal, its value in each
	// run in start order against the threshold, and the best per sprint.
	Chart       string
	Comparators []speccheck.Comparator
}

// goalChart is one goal's series for goals.js.
type goalChart struct {
	Goal      string        `json:"goal"`
	Metric    string        `json:"metric"`
	Threshold float64       `json:"threshold"`
	Runs      []chartPoint  `json:"runs"`
	Sprints   []sprintPoint `json:"sprints"`
}

type chartPoint struct {
	Name  string   `json:"name"`
	Value *float64 `json:"value"` // null when undefined
}

type sprintPoint struct {
	Name string  `json:"name"`
	Best float64 `json:"best"`
}

// goalFields maps the goal fields the service names to the form's inputs.
var goalFields = map[string]string{"metric": "metric", "comparator": "comparator", "threshold": "threshold", "class": "class",
	"slice": "slice", "dataset": "dataset", "dataset_version": "dataset_version", "experiment": "experiment", "run_tag": "run_tag", "note": "note"}

// goalsOf builds the Goals panel of an item (it not nil) or of the project.
func (ui *UI) goalsOf(ctx context.Context, proj *project.Project, it *work.Item, f form) (goalsSection, error) {
	gs := goalsSection{Enabled: ui.goals != nil, CanEdit: proj.Role.AtLeast(auth.RoleEditor), Form: f, Comparators: speccheck.Comparators,
		Action: "/p/" + proj.Key + "/goals"}
	if f.values == nil {
		gs.Form = newForm(url.Values{"comparator": {string(speccheck.AtLeast)}})
	}
	if ui.goals == nil {
		return gs, nil
	}
	var ev *goal.ItemEvaluation
	var err error
	if it != nil {
		gs.Item, gs.Action = it.Key, "/p/"+proj.Key+"/items/"+it.Key+"/goals"
		ev, err = ui.goals.EvaluateItemGoals(ctx, proj, it.Key)
	} else {
		ev, err = ui.goals.EvaluateProjectGoals(ctx, proj)
	}
	if err != nil {
		return gs, err
	}
	gs.Runs = ev.Runs
	if len(ev.Goals) == 0 {
		return gs, nil
	}
	sprints, err := ui.work.Sprints(ctx, proj)
	if err != nil {
		return gs, err
	}
	charts := make([]goalChart, len(ev.Goals))
	for i, g := range ev.Goals {
		gs.Rows = append(gs.Rows, goalRow{ID: g.ID, Text: g.Goal.String(), Goal: g.Goal, Status: g.Status, Latest: g.Latest, Best: g.Best,
			Provisional: g.Provisional, JudgedOn: g.Goal.JudgedOn(gs.Item), NoData: g.Goal.NoDataText()})
		if g.Status == goal.Met {
			gs.Met++
		}
		charts[i] = chartOf(g, sprints)
	}
	b, err := json.Marshal(charts)
	if err != nil {
		return gs, err
	}
	gs.Chart = string(b)
	return gs, nil
}

// chartOf lays out one goal's observations for the charts: the value of
// each run in start order, and the best value of the runs started within
// each sprint, in sprint order.
func chartOf(g goal.GoalResult, sprints []*work.Sprint) goalChart {
	c := goalChart{Goal: g.Goal.String(), Metric: g.Goal.Metric, Threshold: g.Goal.Threshold, Runs: []chartPoint{}, Sprints: []sprintPoint{}}
	best := map[string]float64{}
	for _, o := range g.Observations {
		if o.Unfinished {
			continue // a run still training is shown as provisional, not charted
		}
		p := chartPoint{Name: o.RunName}
		if p.Name == "" {
			p.Name = "run " + o.RunID[:min(12, len(o.RunID))]
		}
		if o.Value.Defined {
			v := o.Value.V
			p.Value = &v
			for _, sp := range sprints {
				at := trellis.FromMillis(o.At)
				if at.Before(sp.StartsAt) || at.After(sp.EndsAt) {
					continue
				}
				if b, ok := best[sp.ID]; !ok || g.Goal.Comparator.Better(v, b, g.Goal.Threshold) {
					best[sp.ID] = v
				}
			}
		}
		c.Runs = append(c.Runs, p)
	}
	for _, sp := range sprints { // in start order, as work.Service.Sprints lists them
		if b, ok := best[sp.ID]; ok {
			c.Sprints = append(c.Sprints, sprintPoint{Name: sp.Name, Best: b})
		}
	}
	return c
}

// goalFromForm reads the add form. The threshold accepts 80% for 0.8.
func goalFromForm(pf url.Values) (goal.Goal, error) {
	g := goal.Goal{Metric: pf.Get("metric"), Comparator: speccheck.Comparator(pf.Get("comparator")), Class: pf.Get("class"), Slice: pf.Get("slice"),
		Dataset: pf.Get("dataset"), DatasetVersion: pf.Get("dataset_version"), Experiment: pf.Get("experiment"), RunTag: pf.Get("run_tag"),
		Note: pf.Get("note")}
	th := strings.TrimSpace(pf.Get("threshold"))
	if th == "" {
		return g, trellis.Invalid("threshold", "threshold is required: a number like 0.9 or 90%%")
	}
	v, err := speccheck.ParseNumber(th)
	if err != nil {
		return g, trellis.Invalid("threshold", "threshold must be a number like 0.9 or 90%%, not %q", th)
	}
	g.Threshold = v
	return g, nil
}

// goalAdd adds a goal from the form of an item page, or of the project
// page when the route has no item.
func (ui *UI) goalAdd(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	if ui.goals == nil {
		return trellis.Errorf(trellis.ENOTFOUND, "Goals are not enabled on this server.")
	}
	proj := route.ProjectFrom(r.Context())
	ref := r.PathValue("item")
	g, err := goalFromForm(r.PostForm)
	if err == nil {
		_, err = ui.goals.AddGoal(r.Context(), proj, ref, g)
	}
	if err != nil {
		f := newForm(r.PostForm)
		if status, ok := formError(&f, err, goalFields); ok && trellis.ErrorCode(err) != trellis.ENOTFOUND {
			if ref == "" {
				return ui.renderProject(w, r, status, f)
			}
			return ui.renderItem(w, r, status, ref, itemForms{GoalForm: f})
		}
		return err
	}
	return redirect(w, r, goalsURL(proj, ref, "goal-added"))
}

// goalEdit changes a goal from the edit form of its row. A refused change
// shows the page again with the reason above the goals.
func (ui *UI) goalEdit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	if ui.goals == nil {
		return trellis.Errorf(trellis.ENOTFOUND, "Goals are not enabled on this server.")
	}
	proj := route.ProjectFrom(r.Context())
	old, err := ui.goals.Goal(r.Context(), proj, r.PathValue("id"))
	if err != nil {
		return err
	}
	g, err := goalFromForm(r.PostForm)
	if err == nil {
		_, err = ui.goals.UpdateGoal(r.Context(), proj, old.ID, goal.GoalUpdate{Metric: &g.Metric, Comparator: &g.Comparator, Threshold: &g.Threshold,
			Class: &g.Class, Slice: &g.Slice, Dataset: &g.Dataset, DatasetVersion: &g.DatasetVersion, Experiment: &g.Experiment, RunTag: &g.RunTag,
			Note: &g.Note})
	}
	if err != nil {
		if trellis.ErrorCode(err) != trellis.EINVALID {
			return err
		}
		f := newForm(url.Values{"comparator": {string(speccheck.AtLeast)}})
		f.Message = "Goal “" + old.Goal.String() + "” not changed: " + trellis.ErrorMessage(err)
		if old.Item == "" {
			return ui.renderProject(w, r, http.StatusBadRequest, f)
		}
		return ui.renderItem(w, r, http.StatusBadRequest, old.Item, itemForms{GoalForm: f})
	}
	return redirect(w, r, goalsURL(proj, old.Item, "goal-changed"))
}

// goalDelete deletes a goal; the form says which page to go back to.
func (ui *UI) goalDelete(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	if ui.goals == nil {
		return trellis.Errorf(trellis.ENOTFOUND, "Goals are not enabled on this server.")
	}
	proj := route.ProjectFrom(r.Context())
	g, err := ui.goals.Goal(r.Context(), proj, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := ui.goals.DeleteGoal(r.Context(), proj, g.ID); err != nil {
		return err
	}
	return redirect(w, r, goalsURL(proj, g.Item, "goal-deleted"))
}

func goalsURL(proj *project.Project, item, ok string) string {
	if item == "" {
		return "/p/" + proj.Key + "/goals?ok=" + ok + "#goals"
	}
	return itemURL(proj, item, ok) + "#goals"
}

// goalProgressOf is the template function cards use: the progress of an
// item's goals from the map a board computed, nil when the item has none
// (or the page computed none).
func goalProgressOf(m any, key string) *goal.GoalProgress {
	pm, ok := m.(map[string]goal.GoalProgress)
	if !ok {
		return nil
	}
	if p, ok := pm[key]; ok {
		return &p
	}
	return nil
}

// goalProgress computes the items' goal progress for a board or sprint
// page (narrowed to a sprint or a kind when not empty), nil without the
// goal capability.
func (ui *UI) goalProgress(ctx context.Context, proj *project.Project, sprintID string, kind work.Kind) (map[string]goal.GoalProgress, error) {
	if ui.goals == nil {
		return nil, nil
	}
	return ui.goals.ItemProgress(ctx, proj, sprintID, string(kind))
}

// decisionGoals are the goal results shown beside an experiment's
// decision: the snapshot kept when it was decided, or, before that, the
// current results the decision form will keep.
func (ui *UI) decisionGoals(ctx context.Context, proj *project.Project, d *work.Decision) ([]goal.ResultJSON, error) {
	if ui.goals == nil || d == nil {
		return nil, nil
	}
	snaps, err := ui.goals.DecisionEvidence(ctx, proj)
	if err != nil {
		return nil, err
	}
	if s := snaps[d.ItemID]; s != nil {
		return s.Results.Goals, nil
	}
	return nil, nil
}

// goalsPageRow is an item with goals or a spec, as the Goals page lists it.
type goalsPageRow struct {
	Item  *work.Item
	Goals *goal.GoalProgress
	Spec  *goal.SpecSummary
}

type goalsPageView struct {
	layout
	Goals goalsSection // the project's own goals
	Rows  []goalsPageRow
	Met   int // items whose goals are all met
}

// goalsPage is the project's Goals page: the project's own goals, judged
// against all its runs, and every item that has goals or a spec, with its
// progress at a glance — the page a product owner opens to see how far the
// work is from "good enough".
func (ui *UI) goalsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	v := &goalsPageView{layout: ui.base(r, "Goals · "+proj.Name, "goals")}
	var err error
	if v.Goals, err = ui.goalsOf(ctx, proj, nil, form{}); err != nil {
		return err
	}
	progress, err := ui.goals.ItemProgress(ctx, proj, "", "")
	if err != nil {
		return err
	}
	specs, err := ui.goals.SpecSummaries(ctx, proj)
	if err != nil {
		return err
	}
	if len(progress) > 0 || len(specs) > 0 {
		items, err := ui.work.Items(ctx, proj, work.ItemFilter{})
		if err != nil {
			return err
		}
		for _, it := range items {
			row := goalsPageRow{Item: it, Spec: specs[it.ID]}
			if p, ok := progress[it.Key]; ok {
				row.Goals = &p
				if p.AllMet() {
					v.Met++
				}
			}
			if row.Goals != nil || row.Spec != nil {
				v.Rows = append(v.Rows, row)
			}
		}
	}
	// Open work first, then by key: what still needs attention leads.
	sort.SliceStable(v.Rows, func(i, j int) bool {
		di, dj := !v.Rows[i].Item.DoneAt.IsZero(), !v.Rows[j].Item.DoneAt.IsZero()
		if di != dj {
			return dj
		}
		return v.Rows[i].Item.Number < v.Rows[j].Item.Number
	})
	return ui.render(w, http.StatusOK, "goals", v)
}
