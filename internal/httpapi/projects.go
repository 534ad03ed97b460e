package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
)

type projectList struct {
	Projects []*project.Project `json:"projects"`
}

func (api *API) listProjects(w http.ResponseWriter, r *http.Request) error {
	archived, err := boolQuery(r, "archived")
	if err != nil {
		return err
	}
	ps, err := api.projects.Projects(r.Context(), archived)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, projectList{Projects: ps})
}

func (api *API) createProject(w http.ResponseWriter, r *http.Request) error {
	var req project.NewProject
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := api.projects.CreateProject(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, p)
}

func (api *API) getProject(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, route.ProjectFrom(r.Context()))
}

func (api *API) updateProject(w http.ResponseWriter, r *http.Request) error {
	var req project.ProjectUpdate
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := api.projects.UpdateProject(r.Context(), route.ProjectFrom(r.Context()), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (api *API) archiveProject(archived bool) route.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := api.projects.UpdateProject(r.Context(), route.ProjectFrom(r.Context()), project.ProjectUpdate{Archived: &archived})
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, p)
	}
}

type memberList struct {
	Members []*project.Member `json:"members"`
}

func (api *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := api.projects.Members(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, memberList{Members: ms})
}

// SetMemberRequest is the body of PUT /projects/{key}/members/{user}.
type SetMemberRequest struct {
	Role auth.Role `json:"role"`
}

func (api *API) setMember(w http.ResponseWriter, r *http.Request) error {
	user, err := pathValue(r, "user")
	if err != nil {
		return err
	}
	var req SetMemberRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	m, err := api.projects.SetMember(r.Context(), route.ProjectFrom(r.Context()), user, req.Role)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (api *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	user, err := pathValue(r, "user")
	if err != nil {
		return err
	}
	if err := api.projects.RemoveMember(r.Context(), route.ProjectFrom(r.Context()), user); err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return trellis.Errorf(trellis.ENOTFOUND, "%s is not a member of this project.", user)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
