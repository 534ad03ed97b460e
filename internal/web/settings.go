package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
)

type settingsView struct {
	layout
	Members     []*project.Member
	Users       []*auth.User // active users, for the add-member picker
	CanEdit     bool
	ProjectForm form
	MemberForm  form
}

// memberFields maps work's field names to the add-member inputs.
var memberFields = map[string]string{"user": "user", "role": "role"}

// settingsPage shows every member the project's settings; only admins get
// the controls, so viewers can still find out who to ask.
func (ui *UI) settingsPage(w http.ResponseWriter, r *http.Request) error {
	proj := route.ProjectFrom(r.Context())
	pf := newForm(url.Values{"name": {proj.Name}, "description": {proj.Description}})
	return ui.renderSettings(w, r, http.StatusOK, pf, newForm(url.Values{"role": {string(auth.RoleEditor)}}))
}

func (ui *UI) renderSettings(w http.ResponseWriter, r *http.Request, status int, pf, mf form) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	v := &settingsView{layout: ui.base(r, "Settings · "+proj.Name, "settings"), CanEdit: proj.Role.AtLeast(auth.RoleAdmin),
		ProjectForm: pf, MemberForm: mf}
	var err error
	if v.Members, err = ui.projects.Members(ctx, proj); err != nil {
		return err
	}
	if v.CanEdit {
		users, err := ui.auth.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			if !u.Disabled {
				v.Users = append(v.Users, u)
			}
		}
	}
	return ui.render(w, status, "settings", v)
}

// settingsURL is where a settings change lands, with its flash message.
func settingsURL(proj *project.Project, ok, anchor string) string {
	return "/p/" + proj.Key + "/settings?ok=" + ok + anchor
}

func (ui *UI) settingsSave(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	f := newForm(r.PostForm)
	name, desc := f.Get("name"), f.Get("description")
	if _, err := ui.projects.UpdateProject(r.Context(), proj, project.ProjectUpdate{Name: &name, Description: &desc}); err != nil {
		if status, ok := formError(&f, err, projectFields); ok {
			return ui.renderSettings(w, r, status, f, newForm(url.Values{"role": {string(auth.RoleEditor)}}))
		}
		return err
	}
	return redirect(w, r, settingsURL(proj, "project-saved", ""))
}

func (ui *UI) settingsArchive(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	archived := r.PostForm.Get("archived") == "1"
	if _, err := ui.projects.UpdateProject(r.Context(), proj, project.ProjectUpdate{Archived: &archived}); err != nil {
		return err
	}
	ok := "project-unarchived"
	if archived {
		ok = "project-archived"
	}
	return redirect(w, r, settingsURL(proj, ok, ""))
}

// memberSet adds a member or changes a member's role: both are "this user
// has this role here".
func (ui *UI) memberSet(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	name := strings.ToLower(strings.TrimSpace(r.PostForm.Get("user")))
	role := auth.Role(r.PostForm.Get("role"))
	if _, err := ui.projects.SetMember(r.Context(), proj, name, role); err != nil {
		return ui.memberError(w, r, err)
	}
	return redirect(w, r, settingsURL(proj, "member-saved", "#members"))
}

func (ui *UI) memberRemove(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	name := r.PostForm.Get("user")
	if err := ui.projects.RemoveMember(ctx, proj, name); err != nil {
		return ui.memberError(w, r, err)
	}
	if p := auth.FromContext(ctx); p != nil && p.User.Name == name && !p.User.Admin {
		// Leaving the project leaves its settings out of reach too.
		if isHTMX(r) {
			w.Header().Set("HX-Redirect", "/projects")
			return nil
		}
		return redirect(w, r, "/projects")
	}
	return redirect(w, r, settingsURL(proj, "member-removed", "#members"))
}

// memberError shows a refused membership change (an unknown user, or the
// last admin leaving) in the members section; anything else is not the
// form's business.
func (ui *UI) memberError(w http.ResponseWriter, r *http.Request, err error) error {
	mf := newForm(url.Values{"role": {string(auth.RoleEditor)}})
	// A per-row change keeps the add form empty rather than filling it with
	// the row's user.
	if r.PostForm.Get("row") == "" {
		mf = newForm(r.PostForm)
	}
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		err = trellis.Invalid("user", "%q is not a member of this project", r.PostForm.Get("user"))
	}
	status, ok := formError(&mf, err, memberFields)
	if !ok {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	pf := newForm(url.Values{"name": {proj.Name}, "description": {proj.Description}})
	return ui.renderSettings(w, r, status, pf, mf)
}
