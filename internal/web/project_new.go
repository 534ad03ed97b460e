package web

import (
	"net/http"
	"strings"

	"github.com/trellisml/trellis/internal/project"
)

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
