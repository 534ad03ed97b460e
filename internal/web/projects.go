package web

import (
	"net/http"
	"strings"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
)

type projectsView struct {
	layout
	Projects []*project.Project
	Archived bool // archived projects are listed too
}

func (ui *UI) projectsPage(w http.ResponseWriter, r *http.Request) error {
	archived := r.URL.Query().Get("archived") == "1"
	ps, err := ui.projects.Projects(r.Context(), archived)
	if err != nil {
		return err
	}
	return ui.render(w, http.StatusOK, "projects", &projectsView{layout: ui.base(r, "Projects", "projects"), Projects: ps, Archived: archived})
}

type projectView struct {
	layout
	Members int
	Goals   goalsSection
}

// projectPage is a project's front page: what it is, who is in it, its
// own goals, and how to point training code at it.
func (ui *UI) projectPage(w http.ResponseWriter, r *http.Request) error {
	return ui.renderProject(w, r, http.StatusOK, form{})
}

// renderProject renders the project page with the goal form gf.
func (ui *UI) renderProject(w http.ResponseWriter, r *http.Request, status int, gf form) error {
	proj := route.ProjectFrom(r.Context())
	ms, err := ui.projects.Members(r.Context(), proj)
	if err != nil {
		return err
	}
	v := &projectView{layout: ui.base(r, proj.Name, "overview"), Members: len(ms)}
	if v.Goals, err = ui.goalsOf(r.Context(), proj, nil, gf); err != nil {
		return err
	}
	return ui.render(w, status, "project", v)
}

type projectNewView struct {
	layout
	Form form
}

// projectFields maps work's field names to the inputs of the project forms.
var projectFields = map[string]string{"key": "key", "name": "name", "description": "description"}

func (ui *UI) projectNewPage(w http.ResponseWriter, r *http.Request) error {
	return ui.render(w, http.StatusOK, "project_new", &projectNewView{layout: ui.base(r, "New project", "projects"), Form: newForm(nil)})
}

func (ui *UI) projectNewSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := newForm(r.PostForm)
	in := project.NewProject{
		// Keys are uppercase by rule; accepting "bal" for BAL spares a
		// round trip for the most common slip.
		Key:         strings.ToUpper(strings.TrimSpace(f.Get("key"))),
		Name:        f.Get("name"),
		Description: f.Get("description"),
	}
	p, err := ui.projects.CreateProject(r.Context(), in)
	if err != nil {
		if status, ok := formError(&f, err, projectFields); ok {
			return ui.render(w, status, "project_new", &projectNewView{layout: ui.base(r, "New project", "projects"), Form: f})
		}
		return err
	}
	return redirect(w, r, "/p/"+p.Key)
}
