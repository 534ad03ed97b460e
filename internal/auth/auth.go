// Package auth is who may do what: users and their passwords, browser
// sessions, API tokens, the one-time setup of the first admin, and the project
// roles every other capability checks against.
package auth

import (
	"context"
	"time"

	"github.com/trellisml/trellis/internal/trellis"
)

// User is a person who signs in. Names are lowercase handles used in URLs,
// @mentions and HTTP basic auth.
type User struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Admin        bool      `json:"admin"` // instance admin: every project, every user
	Disabled     bool      `json:"disabled"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Session is a signed-in browser. Only the SHA-256 of the cookie value is
// stored, so a copy of the database cannot be replayed as a cookie.
type Session struct {
	Hash      string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Scope limits what an API token may do.
type Scope string

// Token scopes. A read token may only use safe methods (GET, HEAD) and the
// routes whose row says they are read-only (route.Route.ReadOnly).
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

// Token is an API token. The secret is shown once at creation; the store
// keeps its SHA-256, which is safe because the secret has 256 bits of entropy.
type Token struct {
	ID         string    `json:"id"`
	UserID     string    `json:"-"`
	Name       string    `json:"name"`
	Scope      Scope     `json:"scope"`
	Prefix     string    `json:"prefix"` // first characters of the secret, to recognise it
	Hash       string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Role is a user's standing in one project. Roles are ordered: each includes
// the rights of the ones before it.
type Role string

// Project roles, weakest first. RoleNone means "not a member".
const (
	RoleNone   Role = ""
	RoleViewer Role = "viewer"
	RoleEditor Role = "editor"
	RoleAdmin  Role = "admin"
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// AtLeast reports whether r includes the rights of need.
func (r Role) AtLeast(need Role) bool { return r.rank() >= need.rank() && r.rank() > 0 }

// ParseRole parses a role name; the field names the input for the error.
func ParseRole(field, s string) (Role, error) {
	switch r := Role(s); r {
	case RoleViewer, RoleEditor, RoleAdmin:
		return r, nil
	}
	return RoleNone, trellis.Invalid(field, "role must be one of viewer, editor, admin")
}

// Principal is the authenticated caller of one request.
type Principal struct {
	User    *User
	Scope   Scope  // ScopeWrite for sessions and passwords; the token's scope otherwise
	TokenID string // set when authenticated by API token
	Session string // the raw session cookie value, when authenticated by session
}

// CanWrite reports whether the principal's credentials allow unsafe methods.
func (p *Principal) CanWrite() bool { return p != nil && p.Scope == ScopeWrite }

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, or nil for an anonymous caller.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Revocation names the credentials of a user that a change ends with it.
type Revocation struct {
	Sessions bool // every browser session
	Tokens   bool // every API token
}

// Store is the persistence auth needs. Lookups of absent rows return an
// ENOTFOUND error; unique violations return ECONFLICT.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	// CreateFirstUser creates u only if no user exists yet (ECONFLICT otherwise),
	// atomically, so two setup requests cannot both create an admin.
	CreateFirstUser(ctx context.Context, u *User) error
	FindUserByID(ctx context.Context, id string) (*User, error)
	FindUserByName(ctx context.Context, name string) (*User, error)
	FindUsers(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)
	// UpdateUserRevoking saves u and, in the same transaction, deletes the
	// credentials rv names; it returns the number of tokens deleted.
	UpdateUserRevoking(ctx context.Context, u *User, rv Revocation) (int, error)

	CreateSession(ctx context.Context, s *Session) error
	FindSession(ctx context.Context, hash string) (*Session, error)
	DeleteSession(ctx context.Context, hash string) error

	CreateToken(ctx context.Context, t *Token) error
	FindTokenByHash(ctx context.Context, hash string) (*Token, error)
	FindTokens(ctx context.Context, userID string) ([]*Token, error)
	DeleteToken(ctx context.Context, userID, id string) error
	// DeleteUserTokens deletes every token of a user and returns how many.
	DeleteUserTokens(ctx context.Context, userID string) (int, error)
	TouchToken(ctx context.Context, id string, at time.Time) error

	// FindLoginFailures returns the counters of name from addr and of addr
	// (zero when there are none; Name is left zero).
	FindLoginFailures(ctx context.Context, name, addr string) (LoginFailures, error)
	// RecordLoginFailure counts f in the counters of its name from its
	// address, of its address and of its name, with one statement, and
	// returns them as they are after it.
	RecordLoginFailure(ctx context.Context, f LoginFailure) (LoginFailures, error)
	// ClearLoginFailures forgets the failures of name from addr.
	ClearLoginFailures(ctx context.Context, name, addr string) error
	// PruneLoginFailures deletes the counters whose last failure is before
	// before.
	PruneLoginFailures(ctx context.Context, before time.Time) error
}
