package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3 description of /api/v1, written by hand so it
// can carry prose; TestOpenAPIMatchesRoutes keeps it in step with Routes.
//
//go:embed openapi.json
var openAPIDoc []byte

func (api *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDoc)
	return err
}
