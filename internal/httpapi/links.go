package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
)

// LinkRequest is the body of POST and DELETE /items/{item}/links.
type LinkRequest struct {
	Type string `json:"type"`
	To   string `json:"to"`
}

func (api *API) addLink(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	var req LinkRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	if err := api.work.AddLink(r.Context(), proj, ref, req.Type, req.To); err != nil {
		return err
	}
	it, err := api.work.Item(r.Context(), proj, ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, it)
}

func (api *API) removeLink(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	var req LinkRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := api.work.RemoveLink(r.Context(), route.ProjectFrom(r.Context()), ref, req.Type, req.To); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
