package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
)

func (api *API) search(w http.ResponseWriter, r *http.Request) error {
	items, err := api.work.Search(r.Context(), route.ProjectFrom(r.Context()), r.URL.Query().Get("q"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, itemList{Items: items})
}
