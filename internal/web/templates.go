package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

// templateFields maps work's template fields to the template form.
var templateFields = map[string]string{"name": "t_name", "kind": "t_kind", "title": "t_title", "description": "t_description", "sub_tasks": "t_subtasks"}

// planningTemplate adds or replaces one of the project's templates.
func (ui *UI) planningTemplate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	pf := r.PostForm
	t := work.Template{Name: pf.Get("t_name"), Kind: work.Kind(pf.Get("t_kind")), Title: pf.Get("t_title"), Description: pf.Get("t_description"),
		SubTasks: strings.Split(strings.ReplaceAll(pf.Get("t_subtasks"), "\r\n", "\n"), "\n")}
	if _, err := ui.work.SaveTemplate(r.Context(), proj, t); err != nil {
		tf := newForm(pf)
		if status, ok := formError(&tf, err, templateFields); ok {
			v, err := ui.planningValues(r)
			if err != nil {
				return err
			}
			return ui.renderPlanning(w, r, status, newForm(v), statusRows(v), tf)
		}
		return err
	}
	return redirect(w, r, "/p/"+proj.Key+"/planning?ok=template-saved#templates")
}

// backlogFromTemplate creates an item and its sub-tasks from a template.
func (ui *UI) backlogFromTemplate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	pf := r.PostForm
	in := work.FromTemplate{Template: pf.Get("template"), Item: work.NewItem{Title: pf.Get("title"), Hypothesis: pf.Get("hypothesis"),
		TimeBox: pf.Get("time_box"), Assignees: splitList(pf.Get("assignees"))}}
	it, err := ui.work.CreateFromTemplate(r.Context(), proj, in)
	if err != nil {
		tf := newForm(pf)
		if _, ok := formError(&tf, err, map[string]string{}); ok {
			return ui.renderBacklog(w, r, route.Status(err), newForm(url.Values{"kind": {"development"}, "time_box": {"2d"}}), tf)
		}
		return err
	}
	return redirect(w, r, "/p/"+proj.Key+"/items/"+it.Key+"?ok=item-created")
}
