// Package mlflowapi is the MLflow-compatible surface: /api/2.0/mlflow and
// /api/2.0/mlflow-artifacts, both also under a project's tracking URI
// /p/{key}. It speaks MLflow's wire shapes and error codes so that the MLflow
// client works unchanged. The tracking endpoints arrive with the tracking
// capability; until then every path is mounted, authenticated and answers
// MLflow's ENDPOINT_NOT_FOUND.
package mlflowapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
)

// MLflow error codes Trellis answers with.
const (
	codeInvalid       = "INVALID_PARAMETER_VALUE"
	codeNotFound      = "RESOURCE_DOES_NOT_EXIST"
	codeExists        = "RESOURCE_ALREADY_EXISTS"
	codeUnauth        = "UNAUTHENTICATED"
	codeDenied        = "PERMISSION_DENIED"
	codeLimit         = "REQUEST_LIMIT_EXCEEDED"
	codeEndpoint      = "ENDPOINT_NOT_FOUND"
	codeInternal      = "INTERNAL_ERROR"
	codeTemporarily   = "TEMPORARILY_UNAVAILABLE"
	maxBody           = 1 << 20 // MLflow's log-batch limit is 1 MB
	trackingPrefix    = "/api/2.0/mlflow"
	artifactsPrefix   = "/api/2.0/mlflow-artifacts"
	projectURIPrefix  = "/p/{key}"
	defaultSurfaceTag = "mlflow"
)

// errorBody is MLflow's error shape.
type errorBody struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// mlflowError maps a Trellis error to MLflow's code and status, as MLflow's
// server does (RESOURCE_ALREADY_EXISTS is a 400 there, not a 409).
func mlflowError(err error) (string, int) {
	switch trellis.ErrorCode(err) {
	case trellis.EINVALID, trellis.ETOOLARGE:
		return codeInvalid, http.StatusBadRequest
	case trellis.ENOTFOUND:
		return codeNotFound, http.StatusNotFound
	case trellis.ECONFLICT:
		return codeExists, http.StatusBadRequest
	case trellis.EUNAUTHENTICATED:
		return codeUnauth, http.StatusUnauthorized
	case trellis.EFORBIDDEN:
		return codeDenied, http.StatusForbidden
	case trellis.ETOOMANY:
		return codeLimit, http.StatusTooManyRequests
	case trellis.EUNAVAILABLE:
		return codeTemporarily, http.StatusServiceUnavailable
	}
	return codeInternal, http.StatusInternalServerError
}

func writeError(log *slog.Logger) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		code, status := mlflowError(err)
		if status == http.StatusInternalServerError {
			log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		if status == http.StatusUnauthorized {
			// MLflow clients send MLFLOW_TRACKING_USERNAME/PASSWORD as basic.
			w.Header().Set("WWW-Authenticate", `Basic realm="trellis", charset="UTF-8"`)
		}
		writeJSON(w, status, errorBody{ErrorCode: code, Message: trellis.ErrorMessage(err)})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// API is the MLflow-compatible surface.
type API struct {
	log      *slog.Logger
	projects route.Projects
}

// New returns the MLflow surface. projects authorizes /p/{key} tracking URIs.
func New(projects route.Projects, log *slog.Logger) *API {
	return &API{log: log, projects: projects}
}

func endpointNotFound(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusNotFound, errorBody{ErrorCode: codeEndpoint, Message: "No MLflow endpoint " + r.Method + " " + r.URL.Path + " on this server yet."})
	return nil
}

// Surfaces returns the four mounts: tracking and artifacts, each at the
// root (the caller's default project) and under a project's tracking URI.
func (api *API) Surfaces() []route.Surface {
	mk := func(prefix string, access route.Access) route.Surface {
		return route.Surface{
			Name: defaultSurfaceTag, Prefix: prefix, WriteError: writeError(api.log), Projects: api.projects, MaxBody: maxBody,
			Routes: []route.Route{{Pattern: "/", Access: access, Handler: endpointNotFound}},
		}
	}
	return []route.Surface{
		mk(trackingPrefix, route.Authenticated),
		mk(artifactsPrefix, route.Authenticated),
		mk(projectURIPrefix+trackingPrefix, route.ProjectViewer),
		mk(projectURIPrefix+artifactsPrefix, route.ProjectViewer),
	}
}
