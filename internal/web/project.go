package web

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
)

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
