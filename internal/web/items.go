package web

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

type itemView struct {
	layout
	planningChoices
	Item        *work.Item
	Description template.HTML
	History     []*work.ItemEvent
	Comments    []renderedComment
	Decision    *work.Decision
	Sprint      *work.Sprint
	Runs        itemRuns
	Spec        itemSpecView
	Goals       goalsSection
	// DecisionGoals are the goal results kept when the experiment was
	// decided.
	DecisionGoals []goal.ResultJSON
	CanEdit       bool
	itemForms
	LinkTypes []string
	Outcomes  []string
	Verdicts  []string
	Stages    []string
}

// itemForm fills the edit form from an item.
func itemForm(it *work.Item) form {
	tb := it.TimeBox
	v := url.Values{"title": {it.Title}, "description": {it.Description}, "status": {it.Status}, "priority": {it.Priority},
		"assignees": {strings.Join(it.Assignees, ", ")}, "labels": {strings.Join(it.Labels, ", ")}, "parent": {it.Parent},
		"phase": {it.Phase}, "deliverable": {it.Deliverable}, "hypothesis": {it.Hypothesis}, "success_metrics": {it.SuccessMetrics},
		"size": {it.Size}, "learning": {it.Learning}, "stage": {it.Stage}, "sprint": {it.SprintID}, "time_box": {tb}}
	if tb != "" && !slices.Contains(work.TimeBoxPresets, tb) {
		v.Set("time_box", "custom")
		v.Set("time_box_custom", tb)
	}
	if it.Points > 0 && it.Size == "" {
		v.Set("points", strconv.Itoa(it.Points))
	}
	return newForm(v)
}

// itemPage shows one item: its fields, rendered description, sub-tasks,
// links, decision, linked runs and history, with the edit forms for editors.
func (ui *UI) itemPage(w http.ResponseWriter, r *http.Request) error {
	return ui.renderItem(w, r, http.StatusOK, r.PathValue("item"), itemForms{})
}

// itemForms are the forms of an item page. A refused post fills the one it
// came from with what was typed and the errors; the others start fresh
// (a zero form), the edit form from the item itself.
type itemForms struct {
	Form        form // the Edit card
	SubtaskForm form
	LinkForm    form
	DecideForm  form
	CommentForm form
	DoDForm     form
	GoalForm    form
}

// renderItem renders the item page with its forms; the page shows what the
// item is, whichever form was refused.
func (ui *UI) renderItem(w http.ResponseWriter, r *http.Request, status int, ref string, fs itemForms) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	it, err := ui.work.Item(ctx, proj, ref)
	if err != nil {
		if trellis.ErrorCode(err) == trellis.EINVALID {
			return trellis.Errorf(trellis.ENOTFOUND, "There is no item %s in this project.", ref)
		}
		return err
	}
	if fs.Form.values == nil {
		fs.Form = itemForm(it)
	}
	if fs.DecideForm.values == nil {
		fs.DecideForm = newForm(url.Values{"time_box": {"1w"}})
	}
	if fs.SubtaskForm.values == nil {
		fs.SubtaskForm = newForm(url.Values{"kind": {string(work.KindDevelopment)}})
	}
	v := &itemView{layout: ui.base(r, it.Key+" "+it.Title, "backlog"), Item: it, Description: markdown(it.Description),
		CanEdit: proj.Role.AtLeast(auth.RoleEditor), itemForms: fs,
		LinkTypes: work.LinkTypes, Outcomes: work.Outcomes, Verdicts: work.Verdicts, Stages: work.Stages}
	if v.planningChoices, err = ui.choices(r, proj); err != nil {
		return err
	}
	if v.History, err = ui.work.History(ctx, proj, it.Key); err != nil {
		return err
	}
	cs, err := ui.work.Comments(ctx, proj, it.Key)
	if err != nil {
		return err
	}
	for _, c := range cs {
		v.Comments = append(v.Comments, renderedComment{Comment: c, HTML: markdown(c.Body)})
	}
	if it.Kind == work.KindExperiment {
		if v.Decision, err = ui.work.DecisionOf(ctx, proj, it); err != nil {
			return err
		}
		if v.DecisionGoals, err = ui.decisionGoals(ctx, proj, v.Decision); err != nil {
			return err
		}
	}
	if v.Goals, err = ui.goalsOf(ctx, proj, it, fs.GoalForm); err != nil {
		return err
	}
	if v.Runs, err = ui.itemRunsOf(ctx, proj, it.Key); err != nil {
		return err
	}
	if v.Spec, err = ui.itemSpecOf(ctx, r, proj, it); err != nil {
		return err
	}
	if it.SprintID != "" {
		if v.Sprint, err = ui.work.Sprint(ctx, proj, it.SprintID); err != nil {
			return err
		}
	}
	return ui.render(w, status, "item", v)
}

func itemURL(proj *project.Project, key, ok string) string {
	u := "/p/" + proj.Key + "/items/" + key
	if ok != "" {
		u += "?ok=" + ok
	}
	return u
}

// itemSave applies the edit form. Every field of the form is submitted, so
// the update sets them all; the service applies the rules to the result.
func (ui *UI) itemSave(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	ref := r.PathValue("item")
	pf := r.PostForm
	f := newForm(pf)
	pts, ok := pointsFrom(&f, pf.Get("points"))
	if !ok {
		return ui.renderItem(w, r, http.StatusBadRequest, ref, itemForms{Form: f})
	}
	str := func(name string) *string {
		if _, ok := pf[name]; !ok {
			return nil
		}
		v := pf.Get(name)
		return &v
	}
	upd := work.ItemUpdate{Title: str("title"), Description: str("description"), Status: str("status"), Priority: str("priority"),
		Parent: str("parent"), Phase: str("phase"), Deliverable: str("deliverable"), Hypothesis: str("hypothesis"),
		SuccessMetrics: str("success_metrics"), Size: str("size"), Learning: str("learning"), Stage: str("stage"), Sprint: str("sprint")}
	if _, ok := pf["points"]; ok {
		upd.Points = &pts
	}
	if _, ok := pf["time_box"]; ok {
		tb := timeBoxFrom(pf)
		upd.TimeBox = &tb
	}
	if _, ok := pf["assignees"]; ok {
		as := splitList(pf.Get("assignees"))
		upd.Assignees = &as
	}
	if _, ok := pf["labels"]; ok {
		ls := splitList(pf.Get("labels"))
		upd.Labels = &ls
	}
	it, err := ui.work.UpdateItem(r.Context(), proj, ref, upd)
	if err != nil {
		if status, ok := formError(&f, err, itemFields); ok {
			return ui.renderItem(w, r, status, ref, itemForms{Form: f})
		}
		return err
	}
	return redirect(w, r, itemURL(proj, it.Key, "item-saved"))
}
