package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

type sprintsView struct {
	layout
	Sprints []*work.Sprint
	Members []*project.Member
	CanEdit bool
	Form    form
}

// sprintFields maps work's sprint fields to the form's inputs.
var sprintFields = map[string]string{"name": "name", "goal": "goal", "starts_on": "starts_on", "ends_on": "ends_on", "capacity": "capacity"}

// sprintsPage lists the sprints and offers the form to plan one.
func (ui *UI) sprintsPage(w http.ResponseWriter, r *http.Request) error {
	now := time.Now()
	return ui.renderSprints(w, r, http.StatusOK, newForm(url.Values{"starts_on": {now.Format(time.DateOnly)}, "ends_on": {now.AddDate(0, 0, 13).Format(time.DateOnly)}}))
}

func (ui *UI) renderSprints(w http.ResponseWriter, r *http.Request, status int, f form) error {
	proj := route.ProjectFrom(r.Context())
	v := &sprintsView{layout: ui.base(r, "Sprints · "+proj.Name, "sprints"), CanEdit: proj.Role.AtLeast(auth.RoleEditor), Form: f}
	var err error
	if v.Sprints, err = ui.work.Sprints(r.Context(), proj); err != nil {
		return err
	}
	if v.Members, err = ui.projects.Members(r.Context(), proj); err != nil {
		return err
	}
	return ui.render(w, status, "sprints", v)
}

func (ui *UI) sprintCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	pf := r.PostForm
	f := newForm(pf)
	in := work.NewSprint{Name: pf.Get("name"), Goal: pf.Get("goal"), StartsOn: pf.Get("starts_on"), EndsOn: pf.Get("ends_on"), Capacity: map[string]int{}}
	for k, vs := range pf {
		if name, ok := strings.CutPrefix(k, "cap_"); ok && len(vs) > 0 && vs[0] != "" {
			n, err := strconv.Atoi(vs[0])
			if err != nil {
				f.fail("capacity", "Capacity of "+name+" must be a number of points.")
				return ui.renderSprints(w, r, http.StatusBadRequest, f)
			}
			in.Capacity[name] = n
		}
	}
	sp, err := ui.work.CreateSprint(r.Context(), proj, in)
	if err != nil {
		if status, ok := formError(&f, err, sprintFields); ok {
			return ui.renderSprints(w, r, status, f)
		}
		return err
	}
	return redirect(w, r, "/p/"+proj.Key+"/sprints/"+sp.ID+"?ok=sprint-created")
}

type sprintView struct {
	layout
	Members   []*project.Member
	Plan      *work.SprintPlan
	Candidate []*work.Item // backlog items not in a sprint
	CanEdit   bool
	Message   string
	Burn      string                       // JSON series for the burndown chart
	Goals     map[string]goal.GoalProgress // each item's goal progress
}

// sprintPage is the planning view: load per category against the
// guideline and capacity, the items, and the controls to add items, start
// and close the sprint.
func (ui *UI) sprintPage(w http.ResponseWriter, r *http.Request) error {
	return ui.renderSprint(w, r, http.StatusOK, "")
}

func (ui *UI) renderSprint(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	plan, err := ui.work.PlanSprint(ctx, proj, r.PathValue("sprint"))
	if err != nil {
		return err
	}
	v := &sprintView{layout: ui.base(r, plan.Sprint.Name+" · "+proj.Name, "sprints"), Plan: plan, CanEdit: proj.Role.AtLeast(auth.RoleEditor), Message: msg}
	burn, err := ui.work.SprintBurn(ctx, proj, plan.Sprint.ID)
	if err != nil {
		return err
	}
	if len(burn.Remaining) > 0 {
		b, err := json.Marshal(burn)
		if err != nil {
			return err
		}
		v.Burn = string(b)
	}
	if v.Members, err = ui.projects.Members(ctx, proj); err != nil {
		return err
	}
	if v.Goals, err = ui.goalProgress(ctx, proj, plan.Sprint.ID, ""); err != nil {
		return err
	}
	if v.CanEdit && plan.Sprint.State != work.SprintClosed {
		if v.Candidate, err = ui.work.Items(ctx, proj, work.ItemFilter{SprintID: "none", Limit: 300}); err != nil {
			return err
		}
		open := v.Candidate[:0]
		for _, it := range v.Candidate {
			if it.DoneAt.IsZero() {
				open = append(open, it)
			}
		}
		v.Candidate = open
	}
	return ui.render(w, status, "sprint", v)
}

// sprintAddItems moves the chosen backlog items into the sprint, stopping
// at the first one the readiness rule refuses and saying which and why.
func (ui *UI) sprintAddItems(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	ref := r.PathValue("sprint")
	sp, err := ui.work.Sprint(r.Context(), proj, ref)
	if err != nil {
		return err
	}
	for _, key := range r.PostForm["item"] {
		if _, err := ui.work.UpdateItem(r.Context(), proj, key, work.ItemUpdate{Sprint: &sp.ID}); err != nil {
			if _, ok := formStatuses[trellis.ErrorCode(err)]; ok {
				return ui.renderSprint(w, r, route.Status(err), key+": "+sentence(userMessage(err)))
			}
			return err
		}
	}
	return redirect(w, r, "/p/"+proj.Key+"/sprints/"+sp.ID+"?ok=sprint-planned")
}

// sprintRemoveItem sends an item back to the backlog.
func (ui *UI) sprintRemoveItem(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	none := ""
	if _, err := ui.work.UpdateItem(r.Context(), proj, r.PostForm.Get("item"), work.ItemUpdate{Sprint: &none}); err != nil {
		return err
	}
	return redirect(w, r, "/p/"+proj.Key+"/sprints/"+r.PathValue("sprint")+"?ok=sprint-planned")
}

func (ui *UI) sprintStart(w http.ResponseWriter, r *http.Request) error {
	proj := route.ProjectFrom(r.Context())
	sp, err := ui.work.StartSprint(r.Context(), proj, r.PathValue("sprint"))
	if err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			return ui.renderSprint(w, r, http.StatusConflict, sentence(userMessage(err)))
		}
		return err
	}
	return redirect(w, r, "/p/"+proj.Key+"/board?sprint="+url.QueryEscape(sp.Name)+"&ok=sprint-started")
}

func (ui *UI) sprintClose(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	sp, err := ui.work.CloseSprint(r.Context(), proj, r.PathValue("sprint"), r.PostForm.Get("move_to"))
	if err != nil {
		if _, ok := formStatuses[trellis.ErrorCode(err)]; ok {
			return ui.renderSprint(w, r, route.Status(err), sentence(userMessage(err)))
		}
		return err
	}
	return redirect(w, r, "/p/"+proj.Key+"/sprints/"+sp.ID+"?ok=sprint-closed")
}

// sprintEdit changes a sprint's goal and per-member capacity.
func (ui *UI) sprintEdit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	pf := r.PostForm
	goal := pf.Get("goal")
	capacity := map[string]int{}
	for k, vs := range pf {
		if name, ok := strings.CutPrefix(k, "cap_"); ok && len(vs) > 0 && vs[0] != "" {
			n, err := strconv.Atoi(vs[0])
			if err != nil {
				return ui.renderSprint(w, r, http.StatusBadRequest, "Capacity of "+name+" must be a number of points.")
			}
			capacity[name] = n
		}
	}
	sp, err := ui.work.UpdateSprint(r.Context(), proj, r.PathValue("sprint"), work.SprintUpdate{Goal: &goal, Capacity: &capacity})
	if err != nil {
		if _, ok := formStatuses[trellis.ErrorCode(err)]; ok {
			return ui.renderSprint(w, r, route.Status(err), sentence(userMessage(err)))
		}
		return err
	}
	return redirect(w, r, "/p/"+proj.Key+"/sprints/"+sp.ID+"?ok=sprint-planned")
}
