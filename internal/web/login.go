package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
)

type loginView struct {
	layout
	Form       form
	Next       string
	NeedsSetup bool // no user exists yet: point to the setup link instead
}

func (ui *UI) loginPage(w http.ResponseWriter, r *http.Request) error {
	next := localPath(r.URL.Query().Get("next"))
	if auth.FromContext(r.Context()) != nil {
		return redirect(w, r, nextOr(next, "/projects"))
	}
	return ui.renderLogin(w, r, http.StatusOK, newForm(nil), next)
}

func (ui *UI) renderLogin(w http.ResponseWriter, r *http.Request, status int, f form, next string) error {
	needsSetup, err := ui.auth.NeedsSetup(r.Context())
	if err != nil {
		return err
	}
	v := &loginView{layout: ui.base(r, "Sign in", ""), Form: f, Next: next, NeedsSetup: needsSetup}
	return ui.render(w, status, "login", v)
}

func (ui *UI) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	next := localPath(r.PostForm.Get("next"))
	f := newForm(url.Values{"name": {r.PostForm.Get("name")}})
	_, session, err := ui.auth.Login(r.Context(), r.PostForm.Get("name"), r.PostForm.Get("password"))
	if err != nil {
		switch trellis.ErrorCode(err) {
		case trellis.EUNAUTHENTICATED, trellis.ETOOMANY:
			// A throttled attempt says how long to wait, in the message
			// and in Retry-After.
			if secs, ok := auth.RetryAfter(err); ok {
				w.Header().Set("Retry-After", strconv.Itoa(secs))
			}
			f.fail("", trellis.ErrorMessage(err))
			return ui.renderLogin(w, r, route.Status(err), f, next)
		}
		return err
	}
	ui.startSession(w, r, session)
	return redirect(w, r, nextOr(next, "/projects"))
}

func (ui *UI) logout(w http.ResponseWriter, r *http.Request) error {
	if p := auth.FromContext(r.Context()); p != nil && p.Session != "" {
		if err := ui.auth.Logout(r.Context(), p.Session); err != nil {
			return err
		}
	}
	ui.clearSessionCookie(w, r)
	return redirect(w, r, "/login?ok=signed-out")
}

// home has nothing of its own yet; projects are where work starts.
func (ui *UI) home(w http.ResponseWriter, r *http.Request) error {
	return redirect(w, r, "/projects")
}
