package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

// Workflow is the body of GET and PUT /workflow.
type Workflow struct {
	Statuses []work.Status `json:"statuses"`
}

func (api *API) getWorkflow(w http.ResponseWriter, r *http.Request) error {
	ss, err := api.work.Statuses(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Workflow{Statuses: ss})
}

func (api *API) setWorkflow(w http.ResponseWriter, r *http.Request) error {
	var req Workflow
	if err := decode(r, &req); err != nil {
		return err
	}
	ss, err := api.work.SetStatuses(r.Context(), route.ProjectFrom(r.Context()), req.Statuses)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Workflow{Statuses: ss})
}

func (api *API) getPlanning(w http.ResponseWriter, r *http.Request) error {
	p, err := api.work.Planning(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (api *API) setPlanning(w http.ResponseWriter, r *http.Request) error {
	var req work.Planning
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := api.work.SetPlanning(r.Context(), route.ProjectFrom(r.Context()), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}
