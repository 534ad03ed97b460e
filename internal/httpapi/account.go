package httpapi

import (
	"net/http"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/trellis"
)

// meResponse describes the caller.
type meResponse struct {
	User  *auth.User `json:"user"`
	Scope auth.Scope `json:"scope"`
	Via   string     `json:"via"` // session, token or password
	// DefaultProject is the key of the project /api/2.0/mlflow serves.
	DefaultProject string `json:"default_project,omitempty"`
}

func (api *API) me(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	via := "password"
	switch {
	case p.TokenID != "":
		via = "token"
	case p.Session != "":
		via = "session"
	}
	out := meResponse{User: p.User, Scope: p.Scope, Via: via}
	if api.track != nil {
		id, err := api.track.DefaultProjectID(r.Context())
		if err != nil {
			return err
		}
		if id != "" {
			ps, err := api.projects.Projects(r.Context(), false)
			if err != nil {
				return err
			}
			for _, proj := range ps {
				if proj.ID == id {
					out.DefaultProject = proj.Key
				}
			}
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

type tokenList struct {
	Tokens []*auth.Token `json:"tokens"`
}

func (api *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := api.auth.Tokens(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tokenList{Tokens: ts})
}

// CreateTokenRequest is the body of POST /tokens.
type CreateTokenRequest struct {
	Name    string     `json:"name"`
	Scope   auth.Scope `json:"scope"`
	Expires string     `json:"expires"` // "90d", "12h", "never"; empty = never
}

// CreatedToken is the answer to POST /tokens: the only time the secret is shown.
type CreatedToken struct {
	Token  *auth.Token `json:"token"`
	Secret string      `json:"secret"`
}

func (api *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var req CreateTokenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	ttl, err := auth.ParseTTL(req.Expires)
	if err != nil {
		return err
	}
	t, secret, err := api.auth.CreateToken(r.Context(), auth.NewToken{Name: req.Name, Scope: req.Scope, TTL: ttl})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, CreatedToken{Token: t, Secret: secret})
}

func (api *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathValue(r, "id")
	if err != nil {
		return err
	}
	if err := api.auth.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userSummary is what any signed-in user may see of another user.
type userSummary struct {
	Name     string `json:"name"`
	Admin    bool   `json:"admin"`
	Disabled bool   `json:"disabled"`
}

type userList struct {
	Users []userSummary `json:"users"`
}

func (api *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	us, err := api.auth.Users(r.Context())
	if err != nil {
		return err
	}
	out := userList{Users: make([]userSummary, 0, len(us))}
	for _, u := range us {
		out.Users = append(out.Users, userSummary{Name: u.Name, Admin: u.Admin, Disabled: u.Disabled})
	}
	return writeJSON(w, http.StatusOK, out)
}

// CreateUserRequest is the body of POST /users.
type CreateUserRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Admin    bool   `json:"admin"`
}

func (api *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var req CreateUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u, err := api.auth.CreateUser(r.Context(), auth.NewUser{Name: req.Name, Password: req.Password, Admin: req.Admin})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, userSummary{Name: u.Name, Admin: u.Admin})
}

// UpdateUserRequest is the body of PATCH /users/{name}. Disabling a user
// also ends their sessions and tokens; RevokeTokens ends the tokens alone,
// or with a new Password.
type UpdateUserRequest struct {
	Disabled     *bool   `json:"disabled"`
	Password     *string `json:"password"`
	RevokeTokens bool    `json:"revoke_tokens"`
}

// updatedUser is the answer to PATCH /users/{name}.
type updatedUser struct {
	userSummary
	RevokedTokens int `json:"revoked_tokens"`
}

func (api *API) updateUser(w http.ResponseWriter, r *http.Request) error {
	name, err := pathValue(r, "name")
	if err != nil {
		return err
	}
	var req UpdateUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Disabled != nil {
		if *req.Disabled && auth.FromContext(r.Context()).User.Name == name {
			return trellis.Invalid("disabled", "you cannot disable yourself")
		}
		if err := api.auth.SetDisabled(r.Context(), name, *req.Disabled); err != nil {
			return err
		}
	}
	var revoked int
	switch {
	case req.Password != nil:
		if revoked, err = api.auth.SetPassword(r.Context(), name, auth.NewPassword{Password: *req.Password, RevokeTokens: req.RevokeTokens}); err != nil {
			return err
		}
	case req.RevokeTokens:
		if revoked, err = api.auth.RevokeUserTokens(r.Context(), name); err != nil {
			return err
		}
	}
	u, err := api.auth.UserByName(r.Context(), name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, updatedUser{userSummary{Name: u.Name, Admin: u.Admin, Disabled: u.Disabled}, revoked})
}

// ChangePasswordRequest is the body of POST /me/password.
type ChangePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
	// RevokeTokens also ends every API token of the caller, the one this
	// request may carry included.
	RevokeTokens bool `json:"revoke_tokens"`
}

// passwordChanged is the answer to POST /me/password.
type passwordChanged struct {
	RevokedTokens int `json:"revoked_tokens"`
}

// changePassword changes the caller's password, given the current one. It
// ends every session of the caller (a browser signs in again) and, when
// asked, every API token.
func (api *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var req ChangePasswordRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	p := auth.FromContext(r.Context())
	n, err := api.auth.ChangePassword(r.Context(), p.User, req.CurrentPassword, auth.NewPassword{Password: req.NewPassword, RevokeTokens: req.RevokeTokens})
	switch trellis.ErrorCode(err) {
	case "":
	case trellis.EUNAUTHENTICATED:
		// A 401 would read as "your credentials for this request are bad".
		return trellis.Invalid("current_password", "the current password is not correct")
	case trellis.EINVALID:
		return trellis.Invalid("new_password", "%s", trellis.ErrorMessage(err))
	default:
		return err
	}
	return writeJSON(w, http.StatusOK, passwordChanged{RevokedTokens: n})
}

// meUpdate changes the caller's preferences.
type meUpdate struct {
	DefaultProject *string `json:"default_project"`
}

func (api *API) updateMe(w http.ResponseWriter, r *http.Request) error {
	var req meUpdate
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.DefaultProject != nil {
		proj, err := api.projects.Authorize(r.Context(), *req.DefaultProject, auth.RoleViewer)
		if err != nil {
			if trellis.ErrorCode(err) == trellis.ENOTFOUND {
				return trellis.Invalid("default_project", "no project %q that you belong to", *req.DefaultProject)
			}
			return err
		}
		if err := api.track.SetDefaultProject(r.Context(), proj); err != nil {
			return err
		}
	}
	return api.me(w, r)
}
