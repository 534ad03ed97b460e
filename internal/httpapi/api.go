package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/work"
)

// Prefix is where the JSON API is mounted.
const Prefix = "/api/v1"

// Options are the services the JSON API serves; all are required but
// Logger (nil discards).
type Options struct {
	Auth     *auth.Service
	Projects *project.Service
	Work     *work.Service
	Tracking *tracking.Service
	Goals    *goal.Service
	Logger   *slog.Logger
}

// API serves /api/v1.
type API struct {
	auth     *auth.Service
	projects *project.Service
	work     *work.Service
	track    *tracking.Service
	goals    *goal.Service
	log      *slog.Logger
}

// New returns the JSON API over the services.
func New(opts Options) *API {
	api := &API{auth: opts.Auth, projects: opts.Projects, work: opts.Work, track: opts.Tracking, goals: opts.Goals, log: opts.Logger}
	if api.log == nil {
		api.log = slog.New(slog.DiscardHandler)
	}
	return api
}

// Routes is the /api/v1 route table. Every row names its authorization rule;
// openapi.json documents exactly these rows (TestOpenAPIMatchesRoutes).
func (api *API) Routes() []route.Route {
	rs := []route.Route{
		{Method: "GET", Pattern: "/openapi.json", Access: route.Public, Handler: api.openAPI},
		{Method: "GET", Pattern: "/me", Access: route.Authenticated, Handler: api.me},
		{Method: "PATCH", Pattern: "/me", Access: route.Authenticated, Handler: api.updateMe},
		{Method: "POST", Pattern: "/me/password", Access: route.Authenticated, Handler: api.changePassword},

		{Method: "GET", Pattern: "/tokens", Access: route.Authenticated, Handler: api.listTokens},
		{Method: "POST", Pattern: "/tokens", Access: route.Authenticated, Handler: api.createToken},
		{Method: "DELETE", Pattern: "/tokens/{id}", Access: route.Authenticated, Handler: api.revokeToken},

		{Method: "GET", Pattern: "/users", Access: route.Authenticated, Handler: api.listUsers},
		{Method: "POST", Pattern: "/users", Access: route.InstanceAdmin, Handler: api.createUser},
		{Method: "PATCH", Pattern: "/users/{name}", Access: route.InstanceAdmin, Handler: api.updateUser},

		{Method: "GET", Pattern: "/projects", Access: route.Authenticated, Handler: api.listProjects},
		{Method: "POST", Pattern: "/projects", Access: route.Authenticated, Handler: api.createProject},
		{Method: "GET", Pattern: "/projects/{key}", Access: route.ProjectViewer, Handler: api.getProject},
		{Method: "PATCH", Pattern: "/projects/{key}", Access: route.ProjectAdmin, Handler: api.updateProject},
		{Method: "POST", Pattern: "/projects/{key}/archive", Access: route.ProjectAdmin, Handler: api.archiveProject(true)},
		{Method: "POST", Pattern: "/projects/{key}/unarchive", Access: route.ProjectAdmin, Handler: api.archiveProject(false)},

		{Method: "GET", Pattern: "/projects/{key}/members", Access: route.ProjectViewer, Handler: api.listMembers},
		{Method: "PUT", Pattern: "/projects/{key}/members/{user}", Access: route.ProjectAdmin, Handler: api.setMember},
		{Method: "DELETE", Pattern: "/projects/{key}/members/{user}", Access: route.ProjectAdmin, Handler: api.removeMember},

		{Method: "GET", Pattern: "/projects/{key}/runs/{run}/items", Access: route.ProjectViewer, Handler: api.listRunItems},
		{Method: "PUT", Pattern: "/projects/{key}/runs/{run}/items/{item}", Access: route.ProjectEditor, Handler: api.linkRunItem},
		{Method: "DELETE", Pattern: "/projects/{key}/runs/{run}/items/{item}", Access: route.ProjectEditor, Handler: api.unlinkRunItem},
		{Method: "GET", Pattern: "/projects/{key}/items/{item}/runs", Access: route.ProjectViewer, Handler: api.listItemRuns},
	}
	rs = append(rs, api.itemRoutes()...)
	rs = append(rs, api.specRoutes()...)
	rs = append(rs, api.goalRoutes()...)
	// Unknown paths get a JSON 404 rather than the mux's plain-text one.
	return append(rs, route.Route{Pattern: "/", Access: route.Public, Handler: api.notFound})
}

// Surface returns the route table mounted under Prefix.
func (api *API) Surface() route.Surface {
	return route.Surface{Name: "api", Prefix: Prefix, Routes: api.Routes(), WriteError: ErrorWriter(api.log), Projects: api.projects}
}

func (api *API) notFound(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusNotFound, errorBody{Error: errorDetail{Code: "not_found", Message: "No such API endpoint: " + r.Method + " " + r.URL.Path}})
}
