package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// BoardColumnLimit bounds the cards one column renders; the column header
// still counts them all.
const BoardColumnLimit = 200

type boardColumn struct {
	*work.Column
	Label  string // the heading, when it is not the column's name
	Count  int    // all the column's items in this lane
	Hidden int    // items beyond BoardColumnLimit
}

// Heading is the column's title as the board shows it; its name stays the
// value a move posts.
func (c *boardColumn) Heading() string {
	if c.Label != "" {
		return c.Label
	}
	return c.Name
}

// stageLabels are the experiment stages as headings, capitalised as the
// flow board's statuses are.
var stageLabels = map[string]string{
	work.StageIdeation: "Ideation",
	work.StageActive:   "Active",
	work.StageAnalysis: "Analysis",
	work.StageDecision: "Decision",
}

// outcomeLabels are the decision outcomes in the words of the decide form.
var outcomeLabels = map[string]string{
	work.OutcomeProductionize: "Productionize",
	work.OutcomeAbandon:       "Abandon",
	work.OutcomeMoreResearch:  "More research",
}

type boardLane struct {
	Name    string
	Columns []*boardColumn
}

type boardView struct {
	layout
	planningChoices
	Type     string // flow, sprint or experiments
	Sprint   *work.Sprint
	Lanes    []*boardLane
	Columns  []*boardColumn // header totals across lanes
	LaneBy   string
	Warnings []string
	// WIPWarnings are the columns over their limit; board.js keeps them
	// current as cards move.
	WIPWarnings []string
	Filter      url.Values
	CanEdit     bool
	NoSprint    bool
	Specs       map[string]*goal.SpecSummary // spec badges by item id
	// Goals is each item's goal progress, for the cards' badges.
	Goals map[string]goal.GoalProgress
}

// laneOf names the swimlane an item belongs to.
func laneOf(by string, it *work.Item) []string {
	switch by {
	case "kind":
		return []string{string(it.Kind)}
	case "assignee":
		if len(it.Assignees) == 0 {
			return []string{"unassigned"}
		}
		return it.Assignees[:1]
	}
	return []string{""}
}

// lanes splits a board into swimlanes, keeping every lane's columns in
// workflow order and capping the cards each column renders.
func lanes(b *work.Board, by string) ([]*boardLane, []*boardColumn) {
	var order []string
	byName := map[string]*boardLane{}
	totals := make([]*boardColumn, len(b.Columns))
	for i, c := range b.Columns {
		totals[i] = &boardColumn{Column: c, Count: c.Total, Hidden: c.Total - len(c.Items)}
	}
	if by == "kind" {
		for _, k := range work.Kinds {
			order = append(order, string(k))
		}
	}
	for i, c := range b.Columns {
		for _, it := range c.Items {
			for _, name := range laneOf(by, it) {
				l := byName[name]
				if l == nil {
					l = &boardLane{Name: name}
					for _, cc := range b.Columns {
						l.Columns = append(l.Columns, &boardColumn{Column: &work.Column{Name: cc.Name, Category: cc.Category, WIPLimit: cc.WIPLimit, OverLimit: cc.OverLimit}})
					}
					byName[name] = l
					if !slices.Contains(order, name) {
						order = append(order, name)
					}
				}
				lc := l.Columns[i]
				lc.Count++
				if len(lc.Items) < BoardColumnLimit {
					lc.Items = append(lc.Items, it)
				} else {
					lc.Hidden++
				}
			}
		}
	}
	var out []*boardLane
	for _, name := range order {
		if l := byName[name]; l != nil {
			out = append(out, l)
		}
	}
	if by == "" && len(out) == 1 {
		// One lane: its headers count every item, rendered or not.
		for i, lc := range out[0].Columns {
			lc.Count, lc.Hidden = b.Columns[i].Total, b.Columns[i].Total-len(lc.Items)
		}
	}
	if len(out) == 0 {
		l := &boardLane{}
		for _, cc := range b.Columns {
			l.Columns = append(l.Columns, &boardColumn{Column: &work.Column{Name: cc.Name, Category: cc.Category, WIPLimit: cc.WIPLimit, OverLimit: cc.OverLimit}})
		}
		out = []*boardLane{l}
	}
	return out, totals
}

// boardPage is the flow board (every item, WIP limits) or, with
// ?sprint=active or a sprint name, the sprint board.
func (ui *UI) boardPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	q := r.URL.Query()
	v := &boardView{layout: ui.base(r, "Board · "+proj.Name, "board").wide(), Type: "flow", Filter: q, CanEdit: proj.Role.AtLeast(auth.RoleEditor)}
	f := filterFrom(q)
	f.Status = ""
	if _, err := work.ParseKind("kind", string(f.Kind)); err != nil {
		f.Kind = ""
	}
	if s := q.Get("sprint"); s != "" {
		v.Type = "sprint"
		var err error
		if s == "active" {
			v.Sprint, err = ui.work.ActiveSprint(ctx, proj)
		} else {
			v.Sprint, err = ui.work.Sprint(ctx, proj, s)
		}
		if err != nil {
			return err
		}
		if v.Sprint == nil {
			v.NoSprint = true
		} else {
			f.SprintID = v.Sprint.ID
		}
	}
	v.LaneBy = q.Get("lanes")
	if v.LaneBy != "kind" && v.LaneBy != "assignee" {
		v.LaneBy = ""
	}
	var err error
	if v.planningChoices, err = ui.choices(r, proj); err != nil {
		return err
	}
	if v.NoSprint {
		return ui.render(w, http.StatusOK, "board", v)
	}
	b, err := ui.work.Board(ctx, proj, f, BoardColumnLimit)
	if err != nil {
		return err
	}
	if v.Type == "sprint" {
		// WIP limits are a flow-board policy; a sprint board shows the
		// sprint's commitment instead.
		b.Warnings = b.Warnings[:0]
		for _, c := range b.Columns {
			c.WIPLimit, c.OverLimit = 0, false
		}
	}
	v.WIPWarnings = b.Warnings
	for _, c := range b.Columns {
		for _, it := range c.Items {
			if it.TimeBoxExpired {
				v.Warnings = append(v.Warnings, it.Key+" is past its time box and needs a decision.")
			}
		}
	}
	v.Lanes, v.Columns = lanes(b, v.LaneBy)
	if v.Specs, err = ui.specSummaries(ctx, proj); err != nil {
		return err
	}
	if v.Goals, err = ui.goalProgress(ctx, proj, f.SprintID, f.Kind); err != nil {
		return err
	}
	for _, c := range v.Columns {
		if c.Hidden > 0 {
			v.Warnings = append(v.Warnings, fmt.Sprintf("%s holds %d items; the board shows the first %d. Filter to see the others.", c.Name, c.Count, len(c.Items)))
		}
	}
	return ui.render(w, http.StatusOK, "board", v)
}

// moveResult is the JSON answer to a drag-and-drop move.
type moveResult struct {
	Key    string `json:"key"`
	Status string `json:"status"`
	Stage  string `json:"stage,omitempty"`
	Error  string `json:"error,omitempty"`
	Field  string `json:"field,omitempty"`
}

// boardMove persists a card moved on a board: its status (or, on the
// experiment board, its stage) and its place between two neighbours. It
// answers JSON for board.js; a refused move says why, naming the field.
func (ui *UI) boardMove(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	pf := r.PostForm
	var upd work.ItemUpdate
	opt := func(name string) *string {
		if v := pf.Get(name); v != "" {
			return &v
		}
		return nil
	}
	upd.Status, upd.Stage, upd.Before, upd.After = opt("status"), opt("stage"), opt("before"), opt("after")
	it, err := ui.work.UpdateItem(r.Context(), proj, pf.Get("item"), upd)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		if _, ok := formStatuses[trellis.ErrorCode(err)]; !ok && trellis.ErrorCode(err) != trellis.ENOTFOUND {
			return err
		}
		w.WriteHeader(route.Status(err))
		return json.NewEncoder(w).Encode(moveResult{Key: pf.Get("item"), Error: sentence(trellis.ErrorMessage(err)), Field: trellis.ErrorField(err)})
	}
	return json.NewEncoder(w).Encode(moveResult{Key: it.Key, Status: it.Status, Stage: it.Stage})
}

type experimentsView struct {
	layout
	Lanes    []*boardLane
	Columns  []*boardColumn
	Warnings []string
	Filter   url.Values
	CanEdit  bool
	Specs    map[string]*goal.SpecSummary // spec badges by item id
	Goals    map[string]goal.GoalProgress // each item's goal progress, for the cards
	// Decisions are the recorded decisions of the cards in the Decision
	// stage, by item id, for their verdict badges.
	Decisions map[string]*work.Decision
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
	v := &experimentsView{layout: ui.base(r, "Experiments · "+proj.Name, "experiments").wide(), Warnings: b.Warnings, Filter: q,
		CanEdit: proj.Role.AtLeast(auth.RoleEditor)}
	v.Lanes, v.Columns = lanes(b, "")
	for _, c := range v.Columns {
		c.Label = stageLabels[c.Name]
	}
	for _, l := range v.Lanes {
		for _, c := range l.Columns {
			c.Label = stageLabels[c.Name]
		}
	}
	if v.Specs, err = ui.specSummaries(r.Context(), proj); err != nil {
		return err
	}
	if v.Goals, err = ui.goalProgress(r.Context(), proj, f.SprintID, work.KindExperiment); err != nil {
		return err
	}
	if v.Decisions, err = ui.decisionsOf(r, proj, b); err != nil {
		return err
	}
	return ui.render(w, http.StatusOK, "experiments", v)
}

// decisionsOf maps the Decision column's cards to their recorded
// decisions: one query for the project's decisions, whatever the cards.
func (ui *UI) decisionsOf(r *http.Request, proj *project.Project, b *work.Board) (map[string]*work.Decision, error) {
	decided := map[string]bool{}
	for _, c := range b.Columns {
		if c.Name == work.StageDecision {
			for _, it := range c.Items {
				decided[it.ID] = true
			}
		}
	}
	out := map[string]*work.Decision{}
	if len(decided) == 0 {
		return out, nil
	}
	ds, err := ui.work.HypothesisLog(r.Context(), proj, work.HypothesisFilter{})
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if decided[d.ItemID] {
			out[d.ItemID] = d
		}
	}
	return out, nil
}
