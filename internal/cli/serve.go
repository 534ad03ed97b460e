package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/blob"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/httpapi"
	"github.com/trellisml/trellis/internal/mlflowapi"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/server"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/web"
	"github.com/trellisml/trellis/internal/work"
)

func serveCmd() *cobra.Command {
	var c Config
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Trellis server (web UI, JSON API, MLflow API)",
		Long: "Run the Trellis server. It migrates the store to this version's schema, refuses a newer schema,\n" +
			"and on first start, with no users, prints a one-time setup URL to create the first admin.\n" +
			"SIGTERM or SIGINT stop it gracefully.",
		Example: "  trellis serve\n  trellis serve --addr 0.0.0.0:8420 --base-url https://trellis.example.com --db postgres://trellis@db/trellis",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.resolve(); err != nil {
				return err
			}
			return serveDemo(cmd.Context(), c, demo, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	c.serveFlags(cmd)
	cmd.Flags().BoolVar(&demo, "demo", false, "on a store without projects, seed the demo project BAL (Balloon detector)")
	return cmd
}

// openStore opens and migrates the store the config names.
func openStore(ctx context.Context, c Config, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, c.DB, store.Options{SyncFull: c.SyncFull})
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 && log != nil {
		log.Info("migrated store", "migrations", n, "dialect", db.Dialect())
	}
	return db, nil
}

// app is the wired application: services over one store.
type app struct {
	db       *store.DB
	auth     *auth.Service
	projects *project.Service
	work     *work.Service
	track    *tracking.Service
	goals    *goal.Service
	blobs    blob.Store
}

// wire builds the services over db. Cross-capability reactions are wired
// here, so tracking never imports goal: a run that finishes re-checks the
// specs of its items; a failure there is logged to log (nil: slog's
// default) and never fails the run's update.
func wire(db *store.DB, hash auth.HashParams, log *slog.Logger) *app {
	if log == nil {
		log = slog.Default()
	}
	a := auth.NewService(db, hash)
	track := tracking.NewService(db)
	ps := project.NewService(db, a)
	ws, goals := work.NewService(db, ps), goal.NewService(db, track)
	track.OnRunFinished(func(ctx context.Context, ev tracking.RunFinished) {
		if err := goals.SpecRunFinished(ctx, ev); err != nil {
			log.Error("spec check after run finished", "project", ev.Project.Key, "run", ev.RunID, "err", err)
		}
	})
	// A decision keeps the item's goal results of that moment as evidence.
	ws.OnDecided(func(ctx context.Context, ev work.Decided) {
		if err := goals.SnapshotDecision(ctx, ev.Project, goal.ItemRef{ID: ev.Decision.ItemID, Key: ev.Decision.Item}, ev.Decision.DecidedAt); err != nil {
			log.ErrorContext(ctx, "keeping the goal results of a decision", "item", ev.Decision.Item, "err", err)
		}
	})
	return &app{db: db, auth: a, projects: ps, work: ws, track: track, goals: goals}
}

// loginCeiling raises the alert of a user name guessed from many addresses
// (auth.NameCeiling failures within auth.NameWindow): a warning in the log,
// the server's counter, and a notice in every instance admin's inbox. The
// user is not locked out. auth does not import work, so the reaction is
// wired here.
func (a *app) loginCeiling(ctx context.Context, log *slog.Logger, srv *server.Server, ev auth.LoginCeiling) {
	log.WarnContext(ctx, "failed sign-ins for one user reached the ceiling; the user is not locked out",
		"user", ev.Name, "failures", ev.Failures, "since", ev.Since, "window", auth.NameWindow, "last_address", ev.Addr)
	srv.LoginCeilingReached()
	users, err := a.auth.Users(ctx)
	if err != nil {
		log.ErrorContext(ctx, "alerting the admins of failed sign-ins", "user", ev.Name, "err", err)
		return
	}
	var admins []string
	for _, u := range users {
		if u.Admin && !u.Disabled {
			admins = append(admins, u.ID)
		}
	}
	text := fmt.Sprintf("%d failed sign-ins for %q within %d minutes, from many addresses (the last from %s); each address is slowed down, nobody is locked out. Check the log, and ask the user to choose a strong password.",
		ev.Failures, ev.Name, int(auth.NameWindow.Minutes()), ev.Addr)
	if err := a.work.NotifySecurity(ctx, admins, "trellis", text); err != nil {
		log.ErrorContext(ctx, "alerting the admins of failed sign-ins", "user", ev.Name, "err", err)
	}
}

// Running is the program started as trellis serve starts it: the store
// opened and migrated, the services and the three surfaces wired, the
// listener bound. The caller runs Serve, and Close after Serve returned.
// Tests (internal/apptest) start the program through it and seed their
// fixtures through its services.
type Running struct {
	// URL is the base URL users reach the server at.
	URL string
	// Config is the configuration it runs with, defaults filled in.
	Config Config
	// Server is the HTTP server, bound to its address.
	Server *server.Server
	// Auth, Projects and Tracking are the wired services.
	Auth     *auth.Service
	Projects *project.Service
	Tracking *tracking.Service

	app *app
}

// Start validates c and fills its defaults, opens the store, wires the
// services and surfaces, and binds the listen address; hash sets the
// password hashing cost (tests pass a cheap one).
func Start(ctx context.Context, c Config, log *slog.Logger, hash auth.HashParams) (*Running, error) {
	if err := c.resolve(); err != nil {
		return nil, err
	}
	db, err := openStore(ctx, c, log)
	if err != nil {
		return nil, err
	}
	a := wire(db, hash, log)
	a.track.AllowArtifactLocations(c.AllowArtifactLocation)
	if a.blobs, err = blob.Open(c.Artifacts); err != nil {
		db.Close()
		return nil, err
	}
	privateDataDir(c.DataDir, log)
	// The base URL may depend on the port the listener picks, so listen
	// before building the parts that print links.
	probe := server.New(server.Options{Addr: c.Addr, Logger: log, Auth: a.auth, Store: db, SessionCookie: web.SessionCookie})
	addr, err := probe.Listen()
	if err != nil {
		a.close()
		return nil, err
	}
	base := c.BaseURL
	if base == "" {
		base = "http://" + addr.String()
	}
	ui, err := web.New(web.Options{Auth: a.auth, Projects: a.projects, Work: a.work, Tracking: a.track, Goals: a.goals, Blobs: a.blobs, BaseURL: base, Logger: log})
	if err != nil {
		a.close()
		return nil, err
	}
	surfaces := []route.Surface{httpapi.New(httpapi.Options{Auth: a.auth, Projects: a.projects, Work: a.work, Tracking: a.track, Goals: a.goals, Logger: log}).Surface()}
	surfaces = append(surfaces, mlflowapi.New(mlflowapi.Options{Projects: a.projects, Tracking: a.track, Blobs: a.blobs, BaseURL: base, Logger: log}).Surfaces()...)
	surfaces = append(surfaces, ui.Surface())
	srv := server.New(server.Options{Addr: c.Addr, Logger: log, Auth: a.auth, Store: db, SessionCookie: web.SessionCookie, Surfaces: surfaces,
		TrustedProxies: c.trustedProxies})
	srv.UseListener(probe)
	a.auth.OnLoginCeiling(func(ctx context.Context, ev auth.LoginCeiling) { a.loginCeiling(ctx, log, srv, ev) })
	return &Running{URL: base, Config: c, Server: srv, Auth: a.auth, Projects: a.projects, Tracking: a.track, app: a}, nil
}

// Serve serves until ctx ends, then shuts down gracefully.
func (r *Running) Serve(ctx context.Context) error { return r.Server.Serve(ctx) }

// Close closes the artifact store and the store.
func (r *Running) Close() { r.app.close() }

func (a *app) close() {
	if a.blobs != nil {
		a.blobs.Close()
	}
	a.db.Close()
}

// privateDataDir makes the data directory private (0700) when others may
// enter it, as one left by an older version or made by hand may be: it
// holds the database and the artifacts. Trellis creates it 0700 and its
// database files 0600 (tightening those too); the change is logged, so an
// operator who shared the directory on purpose sees it.
func privateDataDir(dir string, log *slog.Logger) {
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return
	}
	if err := os.Chmod(dir, st.Mode().Perm()&0o700); err != nil {
		if log != nil {
			log.Warn("the data directory is open to other users and could not be made private", "dir", dir, "mode", st.Mode().Perm().String(), "err", err)
		}
		return
	}
	if log != nil {
		log.Info("made the data directory private to its owner", "dir", dir, "was", st.Mode().Perm().String())
	}
}

func serve(ctx context.Context, c Config, stdout, stderr io.Writer) error {
	return serveDemo(ctx, c, false, stdout, stderr)
}

// serveDemo is serve, seeding the demo project first when demo is set.
func serveDemo(ctx context.Context, c Config, demo bool, stdout, stderr io.Writer) error {
	log := c.logger(stderr)
	r, err := Start(ctx, c, log, auth.DefaultHashParams)
	if err != nil {
		return err
	}
	defer r.Close()
	if demo {
		if err := seedDemo(ctx, r.app, stdout); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Trellis is listening on %s\n", r.URL)
	token, first, err := r.app.auth.SetupToken(ctx)
	if err != nil {
		return err
	}
	if first {
		fmt.Fprintf(stdout, "No users yet. Create the first admin at: %s/setup?token=%s\n", r.URL, token)
		fmt.Fprintf(stdout, "(or run: trellis user create NAME --admin --db %s)\n", c.redacted().DB)
	}
	log.Info("serving", "url", r.URL, "db", c.redacted().DB, "dialect", r.app.db.Dialect(), "artifacts", c.redacted().Artifacts, "version", Version(), "pid", os.Getpid())
	return r.Serve(ctx)
}

// seedDemo seeds the demo project on a store without projects, owned by
// the demo team's data scientist; instance admins see it like every project.
func seedDemo(ctx context.Context, a *app, stdout io.Writer) error {
	ps, err := a.projects.Projects(auth.NewContext(ctx, &auth.Principal{User: &auth.User{Admin: true}, Scope: auth.ScopeRead}), true)
	if err != nil {
		return err
	}
	if len(ps) > 0 {
		fmt.Fprintln(stdout, "The store already has projects; --demo seeds only an empty store.")
		return nil
	}
	users := work.DemoUsers(a.auth)
	owner, err := users(ctx, work.DemoTeam[0])
	if err != nil {
		return err
	}
	ctx = auth.NewContext(ctx, &auth.Principal{User: owner, Scope: auth.ScopeWrite})
	p, keys, err := a.work.SeedDemo(ctx, users)
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	if err := a.track.SeedDemo(ctx, p, keys, a.blobs); err != nil {
		return fmt.Errorf("seed demo runs: %w", err)
	}
	if err := a.goals.SeedDemo(ctx, p, keys); err != nil {
		return fmt.Errorf("seed demo goals: %w", err)
	}
	fmt.Fprintf(stdout, "Seeded the demo project %s (%s).\n", p.Key, p.Name)
	return nil
}
