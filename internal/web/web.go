// Package web is the browser surface of Trellis: server-rendered pages, one
// Go file per page, with htmx for the few partial updates that make a page
// feel quick. Everything the browser loads (templates, CSS, JS, the vendored
// libraries) is embedded, so the binary works offline and under a strict
// Content-Security-Policy with no inline code.
package web

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/blob"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/work"
)

// SessionCookie names the cookie that carries the browser session. The server
// middleware reads it to authenticate; this package only sets and clears it.
const SessionCookie = "trellis_session"

// Options are what the UI needs from the rest of the program.
type Options struct {
	Auth     *auth.Service
	Projects *project.Service
	Work     *work.Service
	// Tracking, when set, lets the account page choose the default
	// tracking project.
	Tracking *tracking.Service
	// Goals, when set, shows the goals and specs of items.
	Goals *goal.Service
	// Blobs, when set with Tracking, is the artifact store the MLflow
	// artifact proxy writes to; the run page browses and previews it.
	Blobs blob.Store
	// BaseURL is the external URL without a trailing slash, e.g.
	// http://127.0.0.1:8420; it goes into the MLflow tracking URI shown to
	// users and decides whether cookies are Secure behind a TLS proxy.
	BaseURL string
	Logger  *slog.Logger
}

// UI serves the web pages. It holds no per-request state, so one UI serves
// every request concurrently.
type UI struct {
	auth     *auth.Service
	projects *project.Service
	work     *work.Service
	track    *tracking.Service
	goals    *goal.Service
	blobs    blob.Store
	baseURL  string
	https    bool
	log      *slog.Logger
	assets   *assets
	pages    map[string]*template.Template
}

// New parses the templates and fingerprints the static files. Doing both at
// start-up makes a broken template a start-up failure instead of a 500 later.
func New(opts Options) (*UI, error) {
	if opts.Auth == nil || opts.Projects == nil || opts.Work == nil {
		return nil, errors.New("web: Options.Auth, Options.Projects and Options.Work are required")
	}
	ui := &UI{
		auth:     opts.Auth,
		projects: opts.Projects,
		work:     opts.Work,
		track:    opts.Tracking,
		goals:    opts.Goals,
		blobs:    opts.Blobs,
		baseURL:  strings.TrimRight(opts.BaseURL, "/"),
		https:    strings.HasPrefix(strings.ToLower(opts.BaseURL), "https://"),
		log:      opts.Logger,
	}
	if ui.log == nil {
		ui.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if ui.assets, err = loadAssets(staticFiles()); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if ui.pages, err = ui.parseTemplates(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return ui, nil
}

// Surface returns the UI's route table for the server to mount at the root.
func (ui *UI) Surface() route.Surface {
	return route.Surface{Name: "web", Prefix: "", Routes: ui.routes(), WriteError: ui.writeError, Projects: ui.projects}
}

// routes is the one table of UI routes. Reading down the Access column is the
// security review of the UI.
func (ui *UI) routes() []route.Route {
	rs := []route.Route{
		{Method: "GET", Pattern: "/static/{path...}", Access: route.Public, Handler: ui.serveStatic},
		{Method: "GET", Pattern: "/{$}", Access: route.Authenticated, Handler: ui.home},
		// A method-less catch-all is less specific than every other pattern,
		// so it never conflicts with the other surfaces' routes.
		{Method: "", Pattern: "/", Access: route.Public, Handler: ui.notFound},

		{Method: "GET", Pattern: "/setup", Access: route.Public, Handler: ui.setupPage},
		{Method: "POST", Pattern: "/setup", Access: route.Public, Handler: ui.setupSubmit},
		{Method: "GET", Pattern: "/login", Access: route.Public, Handler: ui.loginPage},
		{Method: "POST", Pattern: "/login", Access: route.Public, Handler: ui.loginSubmit},
		{Method: "POST", Pattern: "/logout", Access: route.Authenticated, Handler: ui.logout},

		{Method: "GET", Pattern: "/projects", Access: route.Authenticated, Handler: ui.projectsPage},
		{Method: "GET", Pattern: "/projects/new", Access: route.Authenticated, Handler: ui.projectNewPage},
		{Method: "POST", Pattern: "/projects/new", Access: route.Authenticated, Handler: ui.projectNewSubmit},

		{Method: "GET", Pattern: "/p/{key}", Access: route.ProjectViewer, Handler: ui.projectPage},
	}
	if ui.track != nil {
		rs = append(rs,
			route.Route{Method: "GET", Pattern: "/p/{key}/runs", Access: route.ProjectViewer, Handler: ui.runsPage},
			route.Route{Method: "GET", Pattern: "/p/{key}/runs/compare", Access: route.ProjectViewer, Handler: ui.comparePage},
			route.Route{Method: "GET", Pattern: "/p/{key}/runs/{run}", Access: route.ProjectViewer, Handler: ui.runPage},
			route.Route{Method: "GET", Pattern: "/p/{key}/runs/{run}/metric.json", Access: route.ProjectViewer, Handler: ui.runMetricJSON})
		if ui.blobs != nil {
			rs = append(rs, route.Route{Method: "GET", Pattern: "/p/{key}/runs/{run}/artifacts/{path...}", Access: route.ProjectViewer, Handler: ui.runArtifactFile})
		}
	}
	if ui.goals != nil {
		rs = append(rs, route.Route{Method: "GET", Pattern: "/p/{key}/goals", Access: route.ProjectViewer, Handler: ui.goalsPage})
	}
	for _, c := range capabilities {
		if (c.Slug == "runs" && ui.track != nil) || (c.Slug == "goals" && ui.goals != nil) {
			continue // the real pages replace the placeholder
		}
		rs = append(rs, route.Route{Method: "GET", Pattern: "/p/{key}/" + c.Slug, Access: route.ProjectViewer, Handler: ui.capabilityPage(c)})
	}
	rs = append(rs, ui.specRoutes()...)
	return append(rs, []route.Route{
		{Method: "GET", Pattern: "/p/{key}/backlog", Access: route.ProjectViewer, Handler: ui.backlogPage},
		{Method: "POST", Pattern: "/p/{key}/backlog", Access: route.ProjectEditor, Handler: ui.backlogCreate},
		{Method: "POST", Pattern: "/p/{key}/backlog/template", Access: route.ProjectEditor, Handler: ui.backlogFromTemplate},
		{Method: "POST", Pattern: "/p/{key}/backlog/bulk", Access: route.ProjectEditor, Handler: ui.backlogBulk},
		{Method: "POST", Pattern: "/p/{key}/backlog/filters", Access: route.ProjectViewer, Handler: ui.backlogSaveFilter},
		{Method: "GET", Pattern: "/p/{key}/items/{item}", Access: route.ProjectViewer, Handler: ui.itemPage},
		{Method: "POST", Pattern: "/p/{key}/items/{item}", Access: route.ProjectEditor, Handler: ui.itemSave},
		{Method: "POST", Pattern: "/p/{key}/items/{item}/links", Access: route.ProjectEditor, Handler: ui.itemLink},
		{Method: "POST", Pattern: "/p/{key}/items/{item}/decide", Access: route.ProjectEditor, Handler: ui.itemDecide},
		{Method: "POST", Pattern: "/p/{key}/items/{item}/dod", Access: route.ProjectEditor, Handler: ui.itemDoD},
		{Method: "POST", Pattern: "/p/{key}/items/{item}/comments", Access: route.ProjectEditor, Handler: ui.itemComment},
		{Method: "POST", Pattern: "/p/{key}/items/{item}/goals", Access: route.ProjectEditor, Handler: ui.goalAdd},
		{Method: "POST", Pattern: "/p/{key}/goals", Access: route.ProjectEditor, Handler: ui.goalAdd},
		{Method: "POST", Pattern: "/p/{key}/goals/{id}/delete", Access: route.ProjectEditor, Handler: ui.goalDelete},
		{Method: "POST", Pattern: "/p/{key}/goals/{id}/edit", Access: route.ProjectEditor, Handler: ui.goalEdit},
		{Method: "GET", Pattern: "/p/{key}/activity", Access: route.ProjectViewer, Handler: ui.activityPage},
		{Method: "GET", Pattern: "/p/{key}/search", Access: route.ProjectViewer, Handler: ui.searchPage},
		{Method: "GET", Pattern: "/p/{key}/import", Access: route.ProjectEditor, Handler: ui.importPage},
		{Method: "POST", Pattern: "/p/{key}/import", Access: route.ProjectEditor, Handler: ui.importSubmit},
		{Method: "GET", Pattern: "/inbox", Access: route.Authenticated, Handler: ui.inboxPage},
		{Method: "POST", Pattern: "/inbox/read", Access: route.Authenticated, Handler: ui.inboxRead},
		{Method: "GET", Pattern: "/p/{key}/planning", Access: route.ProjectViewer, Handler: ui.planningPage},
		{Method: "POST", Pattern: "/p/{key}/planning", Access: route.ProjectAdmin, Handler: ui.planningSave},
		{Method: "POST", Pattern: "/p/{key}/planning/templates", Access: route.ProjectAdmin, Handler: ui.planningTemplate},
		{Method: "GET", Pattern: "/p/{key}/board", Access: route.ProjectViewer, Handler: ui.boardPage},
		{Method: "POST", Pattern: "/p/{key}/board/move", Access: route.ProjectEditor, Handler: ui.boardMove},
		{Method: "GET", Pattern: "/p/{key}/sprints", Access: route.ProjectViewer, Handler: ui.sprintsPage},
		{Method: "POST", Pattern: "/p/{key}/sprints", Access: route.ProjectEditor, Handler: ui.sprintCreate},
		{Method: "GET", Pattern: "/p/{key}/sprints/{sprint}", Access: route.ProjectViewer, Handler: ui.sprintPage},
		{Method: "POST", Pattern: "/p/{key}/sprints/{sprint}/items", Access: route.ProjectEditor, Handler: ui.sprintAddItems},
		{Method: "POST", Pattern: "/p/{key}/sprints/{sprint}/remove", Access: route.ProjectEditor, Handler: ui.sprintRemoveItem},
		{Method: "POST", Pattern: "/p/{key}/sprints/{sprint}/start", Access: route.ProjectEditor, Handler: ui.sprintStart},
		{Method: "POST", Pattern: "/p/{key}/sprints/{sprint}/edit", Access: route.ProjectEditor, Handler: ui.sprintEdit},
		{Method: "POST", Pattern: "/p/{key}/sprints/{sprint}/close", Access: route.ProjectEditor, Handler: ui.sprintClose},
		{Method: "GET", Pattern: "/p/{key}/experiments", Access: route.ProjectViewer, Handler: ui.experimentsPage},
		{Method: "GET", Pattern: "/p/{key}/experiments/log", Access: route.ProjectViewer, Handler: ui.hypothesesPage},

		{Method: "GET", Pattern: "/p/{key}/settings", Access: route.ProjectViewer, Handler: ui.settingsPage},
		{Method: "POST", Pattern: "/p/{key}/settings", Access: route.ProjectAdmin, Handler: ui.settingsSave},
		{Method: "POST", Pattern: "/p/{key}/settings/archive", Access: route.ProjectAdmin, Handler: ui.settingsArchive},
		{Method: "POST", Pattern: "/p/{key}/settings/members", Access: route.ProjectAdmin, Handler: ui.memberSet},
		{Method: "POST", Pattern: "/p/{key}/settings/members/remove", Access: route.ProjectAdmin, Handler: ui.memberRemove},

		{Method: "GET", Pattern: "/account", Access: route.Authenticated, Handler: ui.accountPage},
		{Method: "POST", Pattern: "/account/password", Access: route.Authenticated, Handler: ui.accountPassword},
		{Method: "POST", Pattern: "/account/tokens", Access: route.Authenticated, Handler: ui.tokenCreate},
		{Method: "POST", Pattern: "/account/default-project", Access: route.Authenticated, Handler: ui.accountDefaultProject},
		{Method: "POST", Pattern: "/account/tokens/{id}/revoke", Access: route.Authenticated, Handler: ui.tokenRevoke},

		{Method: "GET", Pattern: "/admin/users", Access: route.InstanceAdmin, Handler: ui.usersPage},
		{Method: "POST", Pattern: "/admin/users", Access: route.InstanceAdmin, Handler: ui.userCreate},
		{Method: "POST", Pattern: "/admin/users/{name}/disable", Access: route.InstanceAdmin, Handler: ui.userSetDisabled(true)},
		{Method: "POST", Pattern: "/admin/users/{name}/enable", Access: route.InstanceAdmin, Handler: ui.userSetDisabled(false)},
		{Method: "POST", Pattern: "/admin/users/{name}/revoke-tokens", Access: route.InstanceAdmin, Handler: ui.userRevokeTokens},
	}...)
}
