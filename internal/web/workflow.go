package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

type planningView struct {
	layout
	Kinds        []work.Kind
	CanEdit      bool
	Form         form
	Templates    []work.Template
	TemplateForm form
}

// planningPage shows the project's planning settings: point scale,
// allocation guideline, status workflow with WIP limits and the Definition
// of Done of each kind. Admins edit them.
func (ui *UI) planningPage(w http.ResponseWriter, r *http.Request) error {
	v, err := ui.planningValues(r)
	if err != nil {
		return err
	}
	return ui.renderPlanning(w, r, http.StatusOK, newForm(v))
}

// planningValues fills the settings form from the stored settings.
func (ui *UI) planningValues(r *http.Request) (url.Values, error) {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	pl, err := ui.work.Planning(ctx, proj)
	if err != nil {
		return nil, err
	}
	ss, err := ui.work.Statuses(ctx, proj)
	if err != nil {
		return nil, err
	}
	dod, err := ui.work.DoD(ctx, proj)
	if err != nil {
		return nil, err
	}
	v := url.Values{"point_scale": {pl.PointScale}, "committed": {strconv.Itoa(pl.Allocation.Committed)},
		"experiments": {strconv.Itoa(pl.Allocation.Experiments)}, "learning": {strconv.Itoa(pl.Allocation.Learning)}}
	var lines []string
	for _, s := range ss {
		lines = append(lines, fmt.Sprintf("%s | %s | %d", s.Name, s.Category, s.WIPLimit))
	}
	v.Set("workflow", strings.Join(lines, "\n"))
	for k, ps := range dod {
		v.Set("dod_"+string(k), strings.Join(ps, "\n"))
	}
	return v, nil
}

func (ui *UI) renderPlanning(w http.ResponseWriter, r *http.Request, status int, f form, tf ...form) error {
	proj := route.ProjectFrom(r.Context())
	v := &planningView{layout: ui.base(r, "Planning settings · "+proj.Name, "sprints"),
		Kinds: work.Kinds, CanEdit: proj.Role.AtLeast(auth.RoleAdmin), Form: f, TemplateForm: newForm(url.Values{"kind": {"maintenance"}})}
	if len(tf) > 0 {
		v.TemplateForm = tf[0]
	}
	var err error
	if v.Templates, err = ui.work.Templates(r.Context(), proj); err != nil {
		return err
	}
	return ui.render(w, status, "planning", v)
}

// parseWorkflow reads "Name | category | WIP limit" lines.
func parseWorkflow(text string) ([]work.Status, error) {
	var ss []work.Status
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, "|")
		st := work.Status{Name: strings.TrimSpace(parts[0]), Category: work.CategoryDoing}
		if len(parts) > 1 {
			st.Category = strings.TrimSpace(parts[1])
		}
		if len(parts) > 2 && strings.TrimSpace(parts[2]) != "" {
			n, err := strconv.Atoi(strings.TrimSpace(parts[2]))
			if err != nil {
				return nil, trellis.Invalid("workflow", "line %d: the WIP limit must be a number", i+1)
			}
			st.WIPLimit = n
		}
		ss = append(ss, st)
	}
	return ss, nil
}

// planningSave applies every planning setting; each part is validated by
// the service, and the first refusal is shown on the form.
func (ui *UI) planningSave(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	pf := r.PostForm
	f := newForm(pf)
	fail := func(err error) error {
		if _, ok := formStatuses[trellis.ErrorCode(err)]; !ok {
			return err
		}
		f.fail("", userMessage(err))
		return ui.renderPlanning(w, r, route.Status(err), f)
	}
	num := func(name string) int { n, _ := strconv.Atoi(strings.TrimSpace(pf.Get(name))); return n }
	if _, err := ui.work.SetPlanning(ctx, proj, work.Planning{PointScale: pf.Get("point_scale"),
		Allocation: work.Allocation{Committed: num("committed"), Experiments: num("experiments"), Learning: num("learning")}}); err != nil {
		return fail(err)
	}
	ss, err := parseWorkflow(pf.Get("workflow"))
	if err != nil {
		return fail(err)
	}
	if _, err := ui.work.SetStatuses(ctx, proj, ss); err != nil {
		return fail(err)
	}
	for _, k := range work.Kinds {
		if _, ok := pf["dod_"+string(k)]; !ok {
			continue
		}
		if _, err := ui.work.SetDoD(ctx, proj, k, strings.Split(strings.ReplaceAll(pf.Get("dod_"+string(k)), "\r\n", "\n"), "\n")); err != nil {
			return fail(err)
		}
	}
	return redirect(w, r, "/p/"+proj.Key+"/planning?ok=planning-saved")
}
