// Package mlflowapi is the MLflow-compatible surface: /api/2.0/mlflow and
// /api/2.0/mlflow-artifacts, both also under a project's tracking URI
// /p/{key}. It speaks MLflow's wire shapes and error codes so that the MLflow
// client works unchanged: MLflow's field names and types, GET query strings
// and POST bodies as MLflow's handlers read them, unknown fields ignored, and
// MLflow's error codes. Unknown paths answer ENDPOINT_NOT_FOUND.
package mlflowapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/blob"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/ttlcache"
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
	maxArtifactBody   = 5 << 30 // one artifact upload
	bulkPrefix        = "/api/2.11/mlflow"
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

// Projects is what the surface needs from the work capability: the route
// guard's authorization and the caller's projects, to find the default
// project of the unprefixed /api/2.0/mlflow.
type Projects interface {
	route.Projects
	Projects(ctx context.Context, includeArchived bool) ([]*project.Project, error)
}

// API is the MLflow-compatible surface.
type API struct {
	log      *slog.Logger
	projects Projects
	tracking *tracking.Service
	blobs    blob.Store
	baseURL  string
	// choices remembers which project the unprefixed URI serves a user
	// with a given default (the project's key), so that its requests do
	// not list the user's projects each time. The key includes the
	// default, so changing it takes effect at once; access is still
	// checked by Authorize on every request. Joining or leaving projects
	// changes a choice made without a default within choiceTTL.
	choices *ttlcache.Cache[choiceKey, string]
}

type choiceKey struct{ userID, defaultID string }

const choiceTTL = 5 * time.Second

// Options are what the MLflow surface serves; all are required but Logger
// (nil discards).
type Options struct {
	// Projects authorizes /p/{key} tracking URIs and resolves the default
	// project of the unprefixed one.
	Projects Projects
	Tracking *tracking.Service
	// Blobs keeps artifacts.
	Blobs blob.Store
	// BaseURL is the server's external URL, which the part URLs of
	// multipart uploads start with.
	BaseURL string
	Logger  *slog.Logger
}

// New returns the MLflow surface.
func New(opts Options) *API {
	api := &API{log: opts.Logger, projects: opts.Projects, tracking: opts.Tracking, blobs: opts.Blobs, baseURL: strings.TrimRight(opts.BaseURL, "/"),
		choices: ttlcache.New[choiceKey, string](choiceTTL, 10000)}
	if api.log == nil {
		api.log = slog.New(slog.DiscardHandler)
	}
	return api
}

func endpointNotFound(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusNotFound, errorBody{ErrorCode: codeEndpoint, Message: "No MLflow endpoint " + r.Method + " " + r.URL.Path + " on this server."})
	return nil
}

// endpoint is one MLflow call, mounted under both the unprefixed and the
// project-scoped prefix.
type endpoint struct {
	method  string
	pattern string
	write   bool // needs an editor; reads need a viewer
	handler func(w http.ResponseWriter, r *http.Request, proj *project.Project) error
}

// project returns the project a request acts on: the one the /p/{key}
// guard authorized, else the caller's default project with the role need.
func (api *API) project(r *http.Request, need auth.Role) (*project.Project, error) {
	if p := route.ProjectFrom(r.Context()); p != nil {
		return p, nil
	}
	ctx := r.Context()
	def, err := api.tracking.DefaultProjectID(ctx)
	if err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	key, err := api.choices.Get(ctx, choiceKey{p.User.ID, def}, time.Now(), func(ctx context.Context) (string, error) {
		return api.chooseProject(ctx, def)
	}, nil)
	if err != nil {
		return nil, err
	}
	return api.projects.Authorize(ctx, key, need)
}

// chooseProject returns the key of the project the unprefixed URI serves
// the caller: the default project def, else the caller's only project.
func (api *API) chooseProject(ctx context.Context, def string) (string, error) {
	ps, err := api.projects.Projects(ctx, false)
	if err != nil {
		return "", err
	}
	for _, p := range ps {
		if p.ID == def {
			return p.Key, nil
		}
	}
	if len(ps) == 1 {
		return ps[0].Key, nil
	}
	// The advice names the server's external URL, never the request's Host,
	// which whoever sent the request chose.
	base := api.baseURL
	if len(ps) == 0 {
		return "", trellis.Invalid("project", "You are not a member of any project yet; create one or ask to be added, then set MLFLOW_TRACKING_URI=%s/p/KEY.", base)
	}
	return "", trellis.Invalid("project", "You belong to %d projects and have no default project: set MLFLOW_TRACKING_URI=%s/p/KEY (for example %s/p/%s), or choose a default with PATCH /api/v1/me {\"default_project\":\"KEY\"}.", len(ps), base, base, ps[0].Key)
}

// Surfaces returns the four mounts: tracking and artifacts, each at the
// root (the caller's default project) and under a project's tracking URI.
// Unknown paths under each answer MLflow's ENDPOINT_NOT_FOUND.
func (api *API) Surfaces() []route.Surface {
	mk := func(prefix string, scoped bool, eps []endpoint, maxBody int64) route.Surface {
		s := route.Surface{Name: defaultSurfaceTag, Prefix: prefix, WriteError: writeError(api.log), Projects: api.projects, MaxBody: maxBody}
		any := route.Authenticated
		if scoped {
			any = route.ProjectViewer
		}
		for _, ep := range eps {
			access := route.Authenticated
			if scoped {
				access = route.ProjectViewer
				if ep.write {
					access = route.ProjectEditor
				}
			}
			need := auth.RoleViewer
			if ep.write {
				need = auth.RoleEditor
			}
			h := ep.handler
			// A read is read-only whatever its method, so read tokens may
			// search with MLflow's POST bodies.
			s.Routes = append(s.Routes, route.Route{Method: ep.method, Pattern: ep.pattern, Access: access, ReadOnly: !ep.write, Handler: func(w http.ResponseWriter, r *http.Request) error {
				proj, err := api.project(r, need)
				if err != nil {
					return err
				}
				return h(w, r, proj)
			}})
		}
		s.Routes = append(s.Routes, route.Route{Pattern: "/", Access: any, Handler: endpointNotFound})
		return s
	}
	tr, art := api.trackingEndpoints(), api.artifactEndpoints()
	// Multipart parts authorize by the upload's secret, not by the caller
	// (see artifacts.go); they are PUT to the mount mpu/create was called on.
	// Every PUT of an artifact mount (an artifact, a part) is an upload.
	withParts := func(s route.Surface) route.Surface {
		for i := range s.Routes {
			s.Routes[i].Upload = s.Routes[i].Method == "PUT"
		}
		s.Routes = append(s.Routes, route.Route{Method: "PUT", Pattern: "/mpu/part/{upload}/{part}", Access: route.Public, Upload: true, Handler: api.mpuPart})
		return s
	}
	return []route.Surface{
		mk(trackingPrefix, false, tr, maxBody),
		withParts(mk(artifactsPrefix, false, art, maxArtifactBody)),
		mk(projectURIPrefix+trackingPrefix, true, tr, maxBody),
		withParts(mk(projectURIPrefix+artifactsPrefix, true, art, maxArtifactBody)),
		mk(bulkPrefix, false, api.bulkEndpoints(), maxBody),
		mk(projectURIPrefix+bulkPrefix, true, api.bulkEndpoints(), maxBody),
		// MLflow serves /health and /version at the server root.
		{Name: defaultSurfaceTag, Prefix: "", WriteError: writeError(api.log), Projects: api.projects, Routes: []route.Route{
			{Method: "GET", Pattern: "/health", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, err := w.Write([]byte("OK"))
				return err
			}},
			{Method: "GET", Pattern: "/version", Access: route.Public, Handler: func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				_, err := w.Write([]byte(Version))
				return err
			}},
		}},
	}
}

// Version is what /version answers: the MLflow REST protocol version this
// surface follows.
const Version = "2.22.0"

type empty struct{}

func ok(w http.ResponseWriter, v any) error {
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (api *API) trackingEndpoints() []endpoint {
	eps := []endpoint{
		{"POST", "/experiments/create", true, api.createExperiment},
		{"GET", "/experiments/get", false, api.getExperiment},
		{"GET", "/experiments/get-by-name", false, api.getExperimentByName},
		{"GET", "/experiments/search", false, api.searchExperiments},
		{"POST", "/experiments/search", false, api.searchExperiments},
		{"POST", "/experiments/update", true, api.updateExperiment},
		{"POST", "/experiments/delete", true, api.experimentStage(tracking.StageDeleted)},
		{"POST", "/experiments/restore", true, api.experimentStage(tracking.StageActive)},
		{"POST", "/experiments/set-experiment-tag", true, api.setExperimentTag},
		{"POST", "/experiments/delete-experiment-tag", true, api.deleteExperimentTag},
		{"POST", "/runs/create", true, api.createRun},
		{"GET", "/runs/get", false, api.getRun},
		{"POST", "/runs/update", true, api.updateRun},
		{"POST", "/runs/delete", true, api.runStage(tracking.StageDeleted)},
		{"POST", "/runs/restore", true, api.runStage(tracking.StageActive)},
		{"POST", "/runs/search", false, api.searchRuns},
		{"GET", "/runs/search", false, api.searchRuns},
		{"POST", "/runs/log-metric", true, api.logMetric},
		{"POST", "/runs/log-parameter", true, api.logParam},
		{"POST", "/runs/set-tag", true, api.setTag},
		{"POST", "/runs/delete-tag", true, api.deleteTag},
		{"POST", "/runs/log-batch", true, api.logBatch},
		{"POST", "/runs/log-inputs", true, api.logInputs},
		{"POST", "/runs/log-model", true, api.logModel},
		{"GET", "/metrics/get-history", false, api.getHistory},
		{"GET", "/metrics/get-history-bulk-interval", false, api.bulkInterval},
		{"GET", "/artifacts/list", false, api.listRunArtifacts},
		{"POST", "/logged-models/search", false, api.searchLoggedModels},
	}
	return eps
}

func (api *API) bulkEndpoints() []endpoint {
	return []endpoint{{"GET", "/metrics/get-history-bulk-interval", false, api.bulkInterval}}
}
