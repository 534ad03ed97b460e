package web

import (
	"net/http"

	"github.com/trellisml/trellis/internal/project"
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
