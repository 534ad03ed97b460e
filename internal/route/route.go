// Package route is the route table shape the three HTTP surfaces (JSON API,
// MLflow API, web UI) share, and the one place where each route's
// authorization rule is enforced. A route without a rule does not register:
// deny by default is a property of the table, not of each handler.
package route

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// Access is a route's authorization rule.
type Access int

// Authorization rules. The zero value is deliberately invalid.
const (
	_             Access = iota
	Public               // anyone, signed in or not (login page, health, static files)
	Authenticated        // any signed-in user; the handler's service decides the rest
	InstanceAdmin        // instance admins only
	ProjectViewer        // the {key} project's viewers, editors and admins
	ProjectEditor        // the {key} project's editors and admins
	ProjectAdmin         // the {key} project's admins
)

var accessNames = map[Access]string{Public: "public", Authenticated: "authenticated", InstanceAdmin: "instance-admin",
	ProjectViewer: "project-viewer", ProjectEditor: "project-editor", ProjectAdmin: "project-admin"}

// String names the rule, for the route listing and the OpenAPI document.
func (a Access) String() string {
	if s, ok := accessNames[a]; ok {
		return s
	}
	return "missing"
}

// Valid reports whether a is one of the defined rules.
func (a Access) Valid() bool { _, ok := accessNames[a]; return ok }

// Role is the project role a project rule needs, RoleNone for the others.
func (a Access) Role() auth.Role {
	switch a {
	case ProjectViewer:
		return auth.RoleViewer
	case ProjectEditor:
		return auth.RoleEditor
	case ProjectAdmin:
		return auth.RoleAdmin
	}
	return auth.RoleNone
}

// HandlerFunc is a handler that returns its error for the surface to write,
// so that every error goes through one writer.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one row of a surface's route table.
type Route struct {
	Method  string // GET, POST, ...; "" matches every method
	Pattern string // a ServeMux path pattern, relative to the surface prefix
	Access  Access
	// ReadOnly says the route changes nothing although its method is not
	// safe: a search or an evaluation that takes its query in a POST body.
	// Read-only API tokens may call it. Safe methods (GET, HEAD, OPTIONS)
	// are read-only by HTTP's definition and need not say so.
	ReadOnly bool
	// Upload says the body is artifact bytes, which may take long: the
	// server reads it under a progress-based deadline instead of the one
	// every form and JSON body must arrive within.
	Upload  bool
	Handler HandlerFunc
}

// Projects authorizes access to one project; project.Service implements it.
type Projects interface {
	Authorize(ctx context.Context, key string, need auth.Role) (*project.Project, error)
}

// Surface is a set of routes under a prefix, with the way it writes errors.
type Surface struct {
	Name       string // for logs and metrics: "api", "mlflow", "web"
	Prefix     string // e.g. "/api/v1"; "" for the UI
	Routes     []Route
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	Projects   Projects
	// MaxBody limits request bodies; 0 means 1 MiB.
	MaxBody int64
}

type projectKey struct{}

// ProjectFrom returns the project a project rule authorized for this request.
func ProjectFrom(ctx context.Context) *project.Project {
	p, _ := ctx.Value(projectKey{}).(*project.Project)
	return p
}

type credErrKey struct{}

// WithCredentialError records that the request carried credentials that
// failed to authenticate, so that any non-public route answers with that
// error instead of treating the caller as anonymous.
func WithCredentialError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, credErrKey{}, err)
}

func credentialError(ctx context.Context) error {
	err, _ := ctx.Value(credErrKey{}).(error)
	return err
}

// Info is filled in by the guard for the request log and metrics, which run
// outside the mux and cannot see the matched pattern otherwise.
type Info struct {
	Surface string
	Pattern string
	User    string
	Upload  bool // the route's Upload flag, for the body deadlines
}

type infoKey struct{}

// WithInfo returns ctx carrying info for the guard to fill.
func WithInfo(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// Register adds every route of s to mux. It panics on a route without a
// valid rule or a project rule on a path without {key}: both are bugs that
// must not reach a running server.
func (s Surface) Register(mux *http.ServeMux) {
	for _, rt := range s.Routes {
		if !rt.Access.Valid() {
			panic(fmt.Sprintf("route %s %s%s has no authorization rule", rt.Method, s.Prefix, rt.Pattern))
		}
		if rt.Access.Role() != auth.RoleNone && !strings.Contains(s.Prefix+rt.Pattern, "{key}") {
			panic(fmt.Sprintf("route %s %s%s has a project rule but no {key}", rt.Method, s.Prefix, rt.Pattern))
		}
		pattern := s.Prefix + rt.Pattern
		if rt.Method != "" {
			pattern = rt.Method + " " + pattern
		}
		mux.Handle(pattern, s.guard(rt))
	}
}

func isSafe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

func (s Surface) guard(rt Route) http.Handler {
	maxBody := s.MaxBody
	if maxBody == 0 {
		maxBody = 1 << 20
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if info, ok := r.Context().Value(infoKey{}).(*Info); ok {
			info.Surface, info.Pattern, info.Upload = s.Name, r.Pattern, rt.Upload
			if p != nil {
				info.User = p.User.Name
			}
		}
		if err := s.authorize(r, rt, p); err != nil {
			s.WriteError(w, r, err)
			return
		}
		if rt.Access.Role() != auth.RoleNone {
			proj, err := s.Projects.Authorize(r.Context(), r.PathValue("key"), rt.Access.Role())
			if err != nil {
				s.WriteError(w, r, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), projectKey{}, proj))
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		if err := rt.Handler(w, r); err != nil {
			s.WriteError(w, r, err)
		}
	})
}

// Writes reports whether a request on rt may change state, which a
// read-only token may not do: any unsafe method, unless the row says the
// route is read-only.
func (rt Route) Writes(method string) bool { return !rt.ReadOnly && !isSafe(method) }

func (s Surface) authorize(r *http.Request, rt Route, p *auth.Principal) error {
	a := rt.Access
	if a == Public {
		return nil
	}
	if err := credentialError(r.Context()); err != nil {
		return err
	}
	if p == nil {
		return trellis.Errorf(trellis.EUNAUTHENTICATED, "Authentication required: sign in, or send an API token as 'Authorization: Bearer trl_...'.")
	}
	if rt.Writes(r.Method) && !p.CanWrite() {
		return trellis.Errorf(trellis.EFORBIDDEN, "This API token is read-only: it may call GET routes and read-only searches, not %s %s.", r.Method, r.URL.Path)
	}
	if a == InstanceAdmin && !p.User.Admin {
		return trellis.Errorf(trellis.EFORBIDDEN, "Only instance admins may do this.")
	}
	return nil
}

// statuses maps error codes to HTTP status codes; anything else is a 500.
var statuses = map[string]int{
	trellis.EINVALID:         http.StatusBadRequest,
	trellis.EUNAUTHENTICATED: http.StatusUnauthorized,
	trellis.EFORBIDDEN:       http.StatusForbidden,
	trellis.ENOTFOUND:        http.StatusNotFound,
	trellis.ECONFLICT:        http.StatusConflict,
	trellis.EGONE:            http.StatusGone,
	trellis.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	trellis.ETOOMANY:         http.StatusTooManyRequests,
	trellis.EUNAVAILABLE:     http.StatusServiceUnavailable,
}

// Status is the HTTP status every surface answers err with (the MLflow
// surface keeps MLflow's own mapping).
func Status(err error) int {
	if s, ok := statuses[trellis.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}
