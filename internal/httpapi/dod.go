package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

func (api *API) getDoD(w http.ResponseWriter, r *http.Request) error {
	d, err := api.work.DoD(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// DoDRequest is the body of PUT /dod/{kind}.
type DoDRequest struct {
	Points []string `json:"points"`
}

func (api *API) setDoD(w http.ResponseWriter, r *http.Request) error {
	kind, err := pathValue(r, "kind")
	if err != nil {
		return err
	}
	var req DoDRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	ps, err := api.work.SetDoD(r.Context(), route.ProjectFrom(r.Context()), work.Kind(kind), req.Points)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, DoDRequest{Points: ps})
}
