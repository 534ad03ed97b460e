package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

type filterList struct {
	Filters []work.SavedFilter `json:"filters"`
}

func (api *API) listFilters(w http.ResponseWriter, r *http.Request) error {
	fs, err := api.work.Filters(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, filterList{Filters: fs})
}

// FilterRequest is the body of PUT /filters/{name}.
type FilterRequest struct {
	Query string `json:"query"`
}

func (api *API) saveFilter(w http.ResponseWriter, r *http.Request) error {
	name, err := pathValue(r, "name")
	if err != nil {
		return err
	}
	var req FilterRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	f, err := api.work.SaveFilter(r.Context(), route.ProjectFrom(r.Context()), work.SavedFilter{Name: name, Query: req.Query})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}

func (api *API) deleteFilter(w http.ResponseWriter, r *http.Request) error {
	name, err := pathValue(r, "name")
	if err != nil {
		return err
	}
	if err := api.work.DeleteFilter(r.Context(), route.ProjectFrom(r.Context()), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
