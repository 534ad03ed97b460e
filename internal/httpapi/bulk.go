package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

func (api *API) bulkUpdate(w http.ResponseWriter, r *http.Request) error {
	var req work.BulkUpdate
	if err := decode(r, &req); err != nil {
		return err
	}
	items, err := api.work.UpdateItems(r.Context(), route.ProjectFrom(r.Context()), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, itemList{Items: items})
}
