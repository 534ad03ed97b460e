package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

type accountView struct {
	layout
	Tokens       []*auth.Token
	PasswordForm form
	TokenForm    form
	// NewToken is the secret of the token just created. It is on this one
	// response only: the store keeps its hash.
	NewToken     string
	NewTokenName string
	// Projects and DefaultProject feed the default tracking project picker.
	Projects       []*project.Project
	DefaultProject string // project id
	BaseURL        string
}

// tokenFields maps auth's field names to the create-token inputs.
var tokenFields = map[string]string{"name": "token_name", "scope": "scope", "expires": "expires"}

// passwordFields maps auth's field names to the change-password inputs.
var passwordFields = map[string]string{"password": "new"}

func defaultTokenForm() form {
	return newForm(url.Values{"scope": {string(auth.ScopeWrite)}, "expires": {"90d"}})
}

func (ui *UI) accountPage(w http.ResponseWriter, r *http.Request) error {
	v := &accountView{PasswordForm: newForm(nil), TokenForm: defaultTokenForm()}
	if c, err := r.Cookie(newTokenCookie); err == nil {
		// The token just created: shown on this one page, then forgotten.
		ui.setNewTokenCookie(w, r, "", -1)
		if q, err := url.ParseQuery(c.Value); err == nil && strings.HasPrefix(q.Get("secret"), auth.TokenPrefix) {
			v.NewToken, v.NewTokenName = q.Get("secret"), q.Get("name")
		}
	}
	return ui.renderAccount(w, r, http.StatusOK, v)
}

// newTokenCookie carries a new token's secret across the redirect after
// "Create token", so that a reload cannot create a second token: the
// account page shows it once and clears the cookie. It is HttpOnly, strict,
// scoped to /account and lives a minute.
const newTokenCookie = "trellis_new_token"

func (ui *UI) setNewTokenCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: newTokenCookie, Value: value, Path: "/account", MaxAge: maxAge,
		HttpOnly: true, Secure: ui.secure(r), SameSite: http.SameSiteStrictMode})
}

func (ui *UI) renderAccount(w http.ResponseWriter, r *http.Request, status int, v *accountView) error {
	v.layout = ui.base(r, "Account", "account")
	var err error
	if v.Tokens, err = ui.auth.Tokens(r.Context()); err != nil {
		return err
	}
	v.BaseURL = ui.baseURL
	if ui.track != nil {
		if v.Projects, err = ui.projects.Projects(r.Context(), false); err != nil {
			return err
		}
		if v.DefaultProject, err = ui.track.DefaultProjectID(r.Context()); err != nil {
			return err
		}
	}
	return ui.render(w, status, "account", v)
}

// accountDefaultProject chooses the project the unprefixed MLflow tracking
// URI serves.
func (ui *UI) accountDefaultProject(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	if ui.track == nil {
		return trellis.Errorf(trellis.ENOTFOUND, "Tracking is not enabled on this server.")
	}
	proj, err := ui.projects.Authorize(r.Context(), r.PostForm.Get("project"), auth.RoleViewer)
	if err != nil {
		return err
	}
	if err := ui.track.SetDefaultProject(r.Context(), proj); err != nil {
		return err
	}
	http.Redirect(w, r, "/account#tracking", http.StatusSeeOther)
	return nil
}

// accountPassword changes the password, and revokes every API token of the
// user when "Also revoke my API tokens" is ticked. The box starts unticked:
// a routine change should not break the CI jobs and MLflow clients that hold
// tokens (GitHub and GitLab, too, keep personal access tokens across a
// password change), while someone who suspects a leak ticks it in the same
// step. The service ends every session of the user, this one included, so
// the browser is signed in again with the new password rather than being
// thrown out mid-task.
func (ui *UI) accountPassword(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	p := auth.FromContext(r.Context())
	revoke := r.PostForm.Get("revoke_tokens") != ""
	f := newForm(url.Values{"revoke_tokens": r.PostForm["revoke_tokens"]}) // never echo the passwords
	current, next := r.PostForm.Get("current"), r.PostForm.Get("new")
	fail := func(status int) error {
		return ui.renderAccount(w, r, status, &accountView{PasswordForm: f, TokenForm: defaultTokenForm()})
	}
	if next != r.PostForm.Get("confirm") {
		f.fail("confirm", "The new passwords do not match.")
		return fail(http.StatusBadRequest)
	}
	if _, err := ui.auth.ChangePassword(r.Context(), p.User, current, auth.NewPassword{Password: next, RevokeTokens: revoke}); err != nil {
		if trellis.ErrorCode(err) == trellis.EUNAUTHENTICATED {
			f.fail("current", "The current password is not correct.")
			return fail(http.StatusBadRequest)
		}
		if status, ok := formError(&f, err, passwordFields); ok {
			return fail(status)
		}
		return err
	}
	_, session, err := ui.auth.Login(r.Context(), p.User.Name, next)
	if err != nil {
		ui.clearSessionCookie(w, r)
		return redirect(w, r, "/login")
	}
	ui.setSessionCookie(w, r, session)
	if revoke {
		return redirect(w, r, "/account?ok=password-changed-tokens-revoked")
	}
	return redirect(w, r, "/account?ok=password-changed")
}

// tokenCreate creates a token and redirects to the account page, which shows
// its secret exactly once (see newTokenCookie).
func (ui *UI) tokenCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := newForm(r.PostForm)
	fail := func(err error) error {
		if status, ok := formError(&f, err, tokenFields); ok {
			return ui.renderAccount(w, r, status, &accountView{PasswordForm: newForm(nil), TokenForm: f})
		}
		return err
	}
	ttl, err := auth.ParseTTL(f.Get("expires"))
	if err != nil {
		return fail(err)
	}
	t, secret, err := ui.auth.CreateToken(r.Context(), auth.NewToken{
		Name:  strings.TrimSpace(f.Get("token_name")),
		Scope: auth.Scope(f.Get("scope")),
		TTL:   ttl,
	})
	if err != nil {
		return fail(err)
	}
	ui.setNewTokenCookie(w, r, url.Values{"secret": {secret}, "name": {t.Name}}.Encode(), 60)
	return redirect(w, r, "/account#new-token-title")
}

func (ui *UI) tokenRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := ui.auth.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	return redirect(w, r, "/account?ok=token-revoked#tokens")
}
