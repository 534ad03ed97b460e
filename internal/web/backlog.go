package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

// BacklogPageLimit bounds the rows one backlog page renders; filters narrow
// a bigger backlog. It keeps the page fast at any backlog size.
const BacklogPageLimit = 500

// itemFields maps work's field names to the item form's inputs.
var itemFields = map[string]string{"kind": "kind", "title": "title", "description": "description", "status": "status",
	"priority": "priority", "assignees": "assignees", "labels": "labels", "parent": "parent", "phase": "phase",
	"deliverable": "deliverable", "time_box": "time_box", "hypothesis": "hypothesis", "success_metrics": "success_metrics",
	"points": "points", "size": "size", "sprint": "sprint", "learning": "learning", "stage": "stage"}

// planningChoices are the option lists the item forms offer.
type planningChoices struct {
	Kinds      []work.Kind
	Statuses   []work.Status
	Priorities []string
	Phases     []string
	Presets    []string
	Fibonacci  []int
	Sizes      []string
	Planning   work.Planning
	Members    []*project.Member
	Sprints    []*work.Sprint
}

func (ui *UI) choices(r *http.Request, proj *project.Project) (planningChoices, error) {
	ctx := r.Context()
	c := planningChoices{Kinds: work.Kinds, Priorities: work.Priorities, Phases: work.Phases, Presets: work.TimeBoxPresets,
		Fibonacci: work.FibonacciPoints, Sizes: work.TShirtSizes}
	var err error
	if c.Statuses, err = ui.work.Statuses(ctx, proj); err != nil {
		return c, err
	}
	if c.Planning, err = ui.work.Planning(ctx, proj); err != nil {
		return c, err
	}
	if c.Members, err = ui.projects.Members(ctx, proj); err != nil {
		return c, err
	}
	sps, err := ui.work.Sprints(ctx, proj)
	if err != nil {
		return c, err
	}
	for _, sp := range sps {
		if sp.State != work.SprintClosed {
			c.Sprints = append(c.Sprints, sp)
		}
	}
	return c, nil
}

// savedFilterLink is a saved filter as a link.
type savedFilterLink struct {
	Name string
	Href template.URL
}

type backlogView struct {
	layout
	planningChoices
	Templates    []work.Template
	TemplateForm form
	BulkForm     form
	Filters      []savedFilterLink
	Items        []*work.Item
	More         bool
	Filter       url.Values
	CanEdit      bool
	Form         form
}

// filterFrom reads the backlog and board filters from the query.
func filterFrom(q url.Values) work.ItemFilter {
	return work.ItemFilter{Kind: work.Kind(q.Get("kind")), Assignee: q.Get("assignee"), Label: q.Get("label"), Text: q.Get("q"), Status: q.Get("status")}
}

// backlogPage lists the backlog with filters and the form to add an item.
func (ui *UI) backlogPage(w http.ResponseWriter, r *http.Request) error {
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		kind = "development"
	}
	return ui.renderBacklog(w, r, http.StatusOK, newForm(url.Values{"kind": {kind}, "time_box": {"2d"}}))
}

func (ui *UI) renderBacklog(w http.ResponseWriter, r *http.Request, status int, f form, tf ...form) error {
	t := newForm(nil)
	if len(tf) > 0 {
		t = tf[0]
	}
	return ui.renderBacklogWith(w, r, status, f, t, newForm(nil))
}

func (ui *UI) renderBacklogWith(w http.ResponseWriter, r *http.Request, status int, f, tf, bf form) error {
	proj := route.ProjectFrom(r.Context())
	q := r.URL.Query()
	flt := filterFrom(q)
	flt.Limit = BacklogPageLimit + 1
	if flt.Kind != "" {
		if _, err := work.ParseKind("kind", string(flt.Kind)); err != nil {
			flt.Kind = ""
		}
	}
	items, err := ui.work.Items(r.Context(), proj, flt)
	if err != nil {
		return err
	}
	v := &backlogView{layout: ui.base(r, "Backlog · "+proj.Name, "backlog").wide(), Filter: q, CanEdit: proj.Role.AtLeast(auth.RoleEditor), Form: f}
	if len(items) > BacklogPageLimit {
		items, v.More = items[:BacklogPageLimit], true
	}
	v.Items = items
	if v.planningChoices, err = ui.choices(r, proj); err != nil {
		return err
	}
	if v.Templates, err = ui.work.Templates(r.Context(), proj); err != nil {
		return err
	}
	v.TemplateForm, v.BulkForm = tf, bf
	fs, err := ui.work.Filters(r.Context(), proj)
	if err != nil {
		return err
	}
	for _, f := range fs {
		// The query was rebuilt by url.Values.Encode when saved, so it is
		// a well-formed query string of filter parameters only.
		v.Filters = append(v.Filters, savedFilterLink{Name: f.Name, Href: template.URL("/p/" + proj.Key + "/backlog?" + f.Query)})
	}
	return ui.render(w, status, "backlog", v)
}

// splitList reads a comma- or space-separated form value.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
}

// timeBoxFrom reads the time box select, with its custom text field.
func timeBoxFrom(f url.Values) string {
	if tb := f.Get("time_box"); tb != "custom" {
		return tb
	}
	return strings.TrimSpace(f.Get("time_box_custom"))
}

func pointsFrom(f *form, v string) (int, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		f.fail("points", "Points must be a number.")
		return 0, false
	}
	return n, true
}

// subtaskFields maps work's item fields to the item page's sub-task inputs.
var subtaskFields = map[string]string{"kind": "kind", "title": "title"}

// backlogCreate adds an item from the backlog form (or a sub-task from an
// item page) and opens it.
func (ui *UI) backlogCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	pf := r.PostForm
	f := newForm(pf)
	pts, ok := pointsFrom(&f, pf.Get("points"))
	if !ok {
		return ui.renderBacklog(w, r, http.StatusBadRequest, f)
	}
	in := work.NewItem{Kind: work.Kind(pf.Get("kind")), Title: pf.Get("title"), Description: pf.Get("description"), Status: pf.Get("status"),
		Priority: pf.Get("priority"), Assignees: splitList(pf.Get("assignees")), Labels: splitList(pf.Get("labels")), Parent: pf.Get("parent"),
		Phase: pf.Get("phase"), Deliverable: pf.Get("deliverable"), TimeBox: timeBoxFrom(pf), Hypothesis: pf.Get("hypothesis"),
		SuccessMetrics: pf.Get("success_metrics"), Points: pts, Size: pf.Get("size"), Sprint: pf.Get("sprint")}
	if in.Kind == work.KindDevelopment || in.Kind == work.KindMaintenance {
		// The time box select always posts a value; only kinds that use
		// a time box take it, unless a maintenance item gives no points.
		if in.Kind == work.KindDevelopment || in.Points > 0 || in.Size != "" || pf.Get("use_time_box") == "" {
			in.TimeBox = ""
		}
	}
	if in.Kind != work.KindExperiment {
		in.Hypothesis, in.SuccessMetrics = "", ""
	}
	it, err := ui.work.CreateItem(r.Context(), proj, in)
	if err != nil {
		if back := pf.Get("back"); back != "" && in.Parent != "" {
			// A sub-task from the item page: show the error there.
			sf := newForm(pf)
			if status, ok := formError(&sf, err, subtaskFields); ok {
				return ui.renderItem(w, r, status, in.Parent, itemForms{SubtaskForm: sf})
			}
			return err
		}
		if status, ok := formError(&f, err, itemFields); ok {
			return ui.renderBacklog(w, r, status, f)
		}
		return err
	}
	return redirect(w, r, "/p/"+proj.Key+"/items/"+it.Key+"?ok=item-created")
}
