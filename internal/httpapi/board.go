package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

func (api *API) board(w http.ResponseWriter, r *http.Request) error {
	f, err := itemFilter(r)
	if err != nil {
		return err
	}
	if err := api.resolveSprint(r, &f); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	var b *work.Board
	switch r.URL.Query().Get("type") {
	case "", "flow", "sprint":
		b, err = api.work.Board(r.Context(), proj, f, 0)
	case "experiments":
		b, err = api.work.ExperimentBoard(r.Context(), proj, f)
	default:
		return trellis.Invalid("type", "type must be flow, sprint or experiments")
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}
