package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/work"
)

type setupView struct {
	layout
	Token string
	Form  form
}

// setupFields maps auth's field names to the inputs of the setup form.
var setupFields = map[string]string{"name": "name", "password": "password"}

// setupPage offers the one-time form that creates the first admin. The token
// comes from the server log, so only whoever can read the log can claim the
// instance.
func (ui *UI) setupPage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	if err := ui.auth.CheckSetupToken(token); err != nil {
		return err
	}
	return ui.renderSetup(w, r, http.StatusOK, token, newForm(url.Values{"demo": {"1"}}))
}

func (ui *UI) renderSetup(w http.ResponseWriter, r *http.Request, status int, token string, f form) error {
	// The token sits in this page's URL; keep it out of Referer headers.
	w.Header().Set("Referrer-Policy", "no-referrer")
	return ui.render(w, status, "setup", &setupView{layout: ui.base(r, "Set up Trellis", ""), Token: token, Form: f})
}

func (ui *UI) setupSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	token := r.PostForm.Get("token")
	if err := ui.auth.CheckSetupToken(token); err != nil {
		return err
	}
	f := newForm(r.PostForm)
	name := strings.ToLower(strings.TrimSpace(r.PostForm.Get("name")))
	password := r.PostForm.Get("password")
	if password != r.PostForm.Get("confirm") {
		f.fail("confirm", "The passwords do not match.")
		return ui.renderSetup(w, r, http.StatusBadRequest, token, f)
	}
	u, session, err := ui.auth.CompleteSetup(r.Context(), token, name, password)
	if err != nil {
		if status, ok := formError(&f, err, setupFields); ok {
			return ui.renderSetup(w, r, status, token, f)
		}
		return err
	}
	ui.startSession(w, r, session)
	if f.Checked("demo") {
		ctx := auth.NewContext(r.Context(), &auth.Principal{User: u, Scope: auth.ScopeWrite})
		p, keys, err := ui.work.SeedDemo(ctx, work.DemoUsers(ui.auth))
		if err == nil && ui.track != nil {
			err = ui.seedDemoRuns(ctx, p, keys)
		}
		// The admin exists and is signed in; a missing demo project is not
		// worth failing setup over.
		if err != nil {
			ui.log.ErrorContext(r.Context(), "web: create demo project", "err", err)
		}
	}
	return redirect(w, r, "/projects")
}

// seedDemoRuns logs the demo project's tracking runs, linked to its items,
// and then its goals and spec, which judge those runs.
func (ui *UI) seedDemoRuns(ctx context.Context, p *project.Project, keys map[string]string) error {
	if err := ui.track.SeedDemo(ctx, p, keys, ui.blobs); err != nil || ui.goals == nil {
		return err
	}
	return ui.goals.SeedDemo(ctx, p, keys)
}
