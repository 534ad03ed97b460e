package web

import (
	"net/http"
	"strings"

	"github.com/trellisml/trellis/internal/auth"
)

type usersView struct {
	layout
	Users []*auth.User
	Form  form
}

// userFields maps auth's field names to the create-user inputs.
var userFields = map[string]string{"name": "name", "password": "password"}

func (ui *UI) usersPage(w http.ResponseWriter, r *http.Request) error {
	return ui.renderUsers(w, r, http.StatusOK, newForm(nil))
}

func (ui *UI) renderUsers(w http.ResponseWriter, r *http.Request, status int, f form) error {
	users, err := ui.auth.Users(r.Context())
	if err != nil {
		return err
	}
	return ui.render(w, status, "admin_users", &usersView{layout: ui.base(r, "Users", "admin"), Users: users, Form: f})
}

func (ui *UI) userCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := newForm(r.PostForm)
	_, err := ui.auth.CreateUser(r.Context(), auth.NewUser{
		Name:     strings.ToLower(strings.TrimSpace(f.Get("name"))),
		Password: f.Get("password"),
		Admin:    f.Checked("admin"),
	})
	if err != nil {
		if status, ok := formError(&f, err, userFields); ok {
			return ui.renderUsers(w, r, status, f)
		}
		return err
	}
	return redirect(w, r, "/admin/users?ok=user-created")
}

// userSetDisabled disables or re-enables a user. Disabling yourself is
// refused: it would sign you out with nobody left to undo it, if you were
// the only admin.
func (ui *UI) userSetDisabled(disabled bool) func(http.ResponseWriter, *http.Request) error {
	ok := "user-enabled"
	if disabled {
		ok = "user-disabled"
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("name")
		if p := auth.FromContext(r.Context()); disabled && p.User.Name == name {
			f := newForm(nil)
			f.fail("", "You cannot disable your own account.")
			return ui.renderUsers(w, r, http.StatusConflict, f)
		}
		if err := ui.auth.SetDisabled(r.Context(), name, disabled); err != nil {
			return err
		}
		return redirect(w, r, "/admin/users?ok="+ok)
	}
}

// userRevokeTokens ends every API token of a user: with Disable, the
// admin's answer to an account that may be compromised.
func (ui *UI) userRevokeTokens(w http.ResponseWriter, r *http.Request) error {
	if _, err := ui.auth.RevokeUserTokens(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	return redirect(w, r, "/admin/users?ok=user-tokens-revoked")
}
