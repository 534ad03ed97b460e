package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

type projectList struct {
	Projects []*work.Project `json:"projects"`
}

func (api *API) listProjects(w http.ResponseWriter, r *http.Request) error {
	archived, err := boolQuery(r, "archived")
	if err != nil {
		return err
	}
	ps, err := api.work.Projects(r.Context(), archived)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, projectList{Projects: ps})
}

func (api *API) createProject(w http.ResponseWriter, r *http.Request) error {
	var req work.NewProject
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := api.work.CreateProject(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, p)
}

func (api *API) getProject(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, route.ProjectFrom(r.Context()))
}

func (api *API) updateProject(w http.ResponseWriter, r *http.Request) error {
	var req work.ProjectUpdate
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := api.work.UpdateProject(r.Context(), route.ProjectFrom(r.Context()), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (api *API) archiveProject(archived bool) route.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := api.work.UpdateProject(r.Context(), route.ProjectFrom(r.Context()), work.ProjectUpdate{Archived: &archived})
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, p)
	}
}

type memberList struct {
	Members []*work.Member `json:"members"`
}

func (api *API) listMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := api.work.Members(r.Context(), route.ProjectFrom(r.Context()))
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
	m, err := api.work.SetMember(r.Context(), route.ProjectFrom(r.Context()), user, req.Role)
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
	if err := api.work.RemoveMember(r.Context(), route.ProjectFrom(r.Context()), user); err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return trellis.Errorf(trellis.ENOTFOUND, "%s is not a member of this project.", user)
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
