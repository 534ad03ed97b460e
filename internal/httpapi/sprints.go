package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

type sprintList struct {
	Sprints []*work.Sprint `json:"sprints"`
}

func (api *API) listSprints(w http.ResponseWriter, r *http.Request) error {
	sps, err := api.work.Sprints(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sprintList{Sprints: sps})
}

func (api *API) createSprint(w http.ResponseWriter, r *http.Request) error {
	var req work.NewSprint
	if err := decode(r, &req); err != nil {
		return err
	}
	sp, err := api.work.CreateSprint(r.Context(), route.ProjectFrom(r.Context()), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sp)
}

func (api *API) getSprint(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "sprint")
	if err != nil {
		return err
	}
	plan, err := api.work.PlanSprint(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, plan)
}

func (api *API) updateSprint(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "sprint")
	if err != nil {
		return err
	}
	var req work.SprintUpdate
	if err := decode(r, &req); err != nil {
		return err
	}
	sp, err := api.work.UpdateSprint(r.Context(), route.ProjectFrom(r.Context()), ref, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sp)
}

func (api *API) startSprint(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "sprint")
	if err != nil {
		return err
	}
	sp, err := api.work.StartSprint(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sp)
}

// CloseSprintRequest is the body of POST /sprints/{sprint}/close.
type CloseSprintRequest struct {
	// MoveTo is where unfinished items go: "next" (the next planned
	// sprint) or "backlog".
	MoveTo string `json:"move_to"`
}

func (api *API) closeSprint(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "sprint")
	if err != nil {
		return err
	}
	var req CloseSprintRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	sp, err := api.work.CloseSprint(r.Context(), route.ProjectFrom(r.Context()), ref, req.MoveTo)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sp)
}

func (api *API) sprintBurn(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "sprint")
	if err != nil {
		return err
	}
	b, err := api.work.SprintBurn(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}
