package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/ttlcache"
)

// Limits of the authentication rules.
const (
	SessionTTL = 14 * 24 * time.Hour
	// basicCacheTTL is how long a verified HTTP-basic password is remembered,
	// so MLflow clients that send it on every request cost one argon2id
	// computation per TTL instead of one per request.
	basicCacheTTL      = 5 * time.Minute
	basicCacheMax      = 10000
	tokenTouchInterval = time.Minute // last-use writes are throttled to one per interval
	// TokenPrefix starts every API token so that secret scanners and people
	// can recognise one.
	TokenPrefix = "trl_"
)

var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,38}$`)

// errBadLogin is the one answer for an unknown user and a wrong password, so
// that the login form cannot be used to find out which users exist.
var errBadLogin = trellis.Errorf(trellis.EUNAUTHENTICATED, "Invalid username or password.")

// Service applies the authentication rules over a Store.
type Service struct {
	store  Store
	params HashParams
	now    func() time.Time

	cacheKey []byte // HMAC key for basic-auth cache entries; per process
	mu       sync.Mutex
	basic    map[string]basicEntry
	// tokens (by hash) and users (by id) remember credential lookups for
	// credCacheTTL (see cache.go).
	tokens *ttlcache.Cache[string, Token]
	users  *ttlcache.Cache[string, User]
	setup  string // SHA-256 of the one-time setup token, "" when none
	// dummyHash is verified against when the user does not exist, so both
	// failure paths cost the same time.
	dummyHash string
	// Sign-in throttling (throttle.go): the ceiling hooks, when forgotten
	// counters were last pruned, and the per-address gates.
	ceiling []func(context.Context, LoginCeiling)
	pruned  time.Time
	gates   addrGates
}

type basicEntry struct {
	userID   string
	hash     string // the password hash verified against; a change invalidates the entry
	expires  time.Time
	lastSeen time.Time
}

// NewService returns a Service over store. params sets the argon2id cost;
// tests lower it.
func NewService(store Store, params HashParams) *Service {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	s := &Service{store: store, params: params, now: time.Now, cacheKey: key, basic: map[string]basicEntry{},
		tokens: ttlcache.New[string, Token](credCacheTTL, credCacheMax), users: ttlcache.New[string, User](credCacheTTL, credCacheMax)}
	s.dummyHash, _ = HashPassword("not a real password, only spent time", params)
	return s
}

// SetClock replaces the time source; tests use it to step through sign-in delays.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func randomSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// NewUser is the input to CreateUser.
type NewUser struct {
	Name     string
	Password string
	Admin    bool
}

func (s *Service) newUser(in NewUser) (*User, error) {
	if !userNameRE.MatchString(in.Name) {
		return nil, trellis.Invalid("name", "name must be 2–39 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if err := CheckPassword(in.Name, in.Password); err != nil {
		return nil, err
	}
	hash, err := HashPassword(in.Password, s.params)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	return &User{ID: newID(), Name: in.Name, Admin: in.Admin, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}, nil
}

// CreateUser creates a user. Only instance admins may call it on behalf of a
// principal; the CLI's admin command calls it with no principal because it
// already holds the store. Errors: EINVALID, ECONFLICT, EFORBIDDEN.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*User, error) {
	if err := onlyAdmins(ctx, "create users"); err != nil {
		return nil, err
	}
	u, err := s.newUser(in)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			return nil, trellis.Invalid("name", "a user named %q already exists", in.Name)
		}
		return nil, err
	}
	s.dropSetup(ctx)
	return u, nil
}

// Users lists every user, for member pickers.
func (s *Service) Users(ctx context.Context) ([]*User, error) { return s.store.FindUsers(ctx) }

// UserByName finds a user. Errors: ENOTFOUND.
func (s *Service) UserByName(ctx context.Context, name string) (*User, error) {
	return s.store.FindUserByName(ctx, name)
}

// NeedsSetup reports whether no user exists yet, so the first admin must
// still be created with the setup link.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := s.store.CountUsers(ctx)
	return n == 0, err
}

// SetupToken returns the one-time token that lets the first admin be created
// over HTTP, minting one if there are no users yet. ok is false once a user
// exists. A restart mints a new token; the old one dies with the process.
func (s *Service) SetupToken(ctx context.Context) (token string, ok bool, err error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	token = randomSecret()
	s.mu.Lock()
	s.setup = sha(token)
	s.mu.Unlock()
	return token, true, nil
}

// CheckSetupToken reports whether token is the live setup token. Errors:
// EGONE when setup already happened or the token is not the current one.
func (s *Service) CheckSetupToken(token string) error {
	s.mu.Lock()
	live := s.setup
	s.mu.Unlock()
	if live == "" || token == "" || subtle.ConstantTimeCompare([]byte(sha(token)), []byte(live)) != 1 {
		return trellis.Errorf(trellis.EGONE, "This setup link has already been used or is no longer valid.")
	}
	return nil
}

func (s *Service) dropSetup(ctx context.Context) {
	if n, err := s.store.CountUsers(ctx); err == nil && n > 0 {
		s.mu.Lock()
		s.setup = ""
		s.mu.Unlock()
	}
}

// CompleteSetup creates the first admin with the one-time token and signs them
// in, returning the session cookie value. Errors: EGONE, EINVALID.
func (s *Service) CompleteSetup(ctx context.Context, token, name, password string) (*User, string, error) {
	if err := s.CheckSetupToken(token); err != nil {
		return nil, "", err
	}
	u, err := s.newUser(NewUser{Name: name, Password: password, Admin: true})
	if err != nil {
		return nil, "", err
	}
	if err := s.store.CreateFirstUser(ctx, u); err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			s.dropSetup(ctx)
			return nil, "", trellis.Errorf(trellis.EGONE, "Setup has already been completed.")
		}
		return nil, "", err
	}
	s.dropSetup(ctx)
	sess, err := s.newSession(ctx, u)
	return u, sess, err
}

// verify checks name and password with the failure accounting of
// throttle.go and returns the user. A throttled attempt is refused before
// argon2id runs; unknown names and disabled users cost and answer exactly
// like wrong passwords.
func (s *Service) verify(ctx context.Context, name, password string) (*User, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if len(name) > 64 || len(password) > 4*MaxPasswordLen {
		return nil, errBadLogin
	}
	addr := clientAddr(ctx)
	defer s.gates.enter(addr)()
	seen, err := s.throttle(ctx, name, addr, s.now())
	if err != nil {
		return nil, err
	}
	u, err := s.store.FindUserByName(ctx, name)
	if err != nil && trellis.ErrorCode(err) != trellis.ENOTFOUND {
		return nil, err
	}
	if u == nil || u.Disabled {
		VerifyPassword(password, s.dummyHash)
	} else if VerifyPassword(password, u.PasswordHash) {
		if seen.Pair.Failures > 0 {
			if err := s.store.ClearLoginFailures(ctx, name, addr); err != nil {
				return nil, err
			}
		}
		return u, nil
	}
	if err := s.recordFailure(ctx, name, addr, u != nil && !u.Disabled); err != nil {
		return nil, err
	}
	return nil, errBadLogin
}

func (s *Service) newSession(ctx context.Context, u *User) (string, error) {
	raw := randomSecret()
	now := s.now().UTC()
	if err := s.store.CreateSession(ctx, &Session{Hash: sha(raw), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}); err != nil {
		return "", err
	}
	return raw, nil
}

// Login verifies a password and starts a new session, returning the cookie
// value. A fresh session id on every login prevents session fixation; the
// previous cookie, if any, is ended by the caller with Logout.
// Errors: EUNAUTHENTICATED, ETOOMANY.
func (s *Service) Login(ctx context.Context, name, password string) (*User, string, error) {
	u, err := s.verify(ctx, name, password)
	if err != nil {
		return nil, "", err
	}
	raw, err := s.newSession(ctx, u)
	return u, raw, err
}

// Logout ends the session and forgets cached basic-auth verifications of its
// user.
func (s *Service) Logout(ctx context.Context, session string) error {
	if session == "" {
		return nil
	}
	if sess, err := s.store.FindSession(ctx, sha(session)); err == nil {
		s.forgetUser(sess.UserID)
	}
	return s.store.DeleteSession(ctx, sha(session))
}

// AuthenticateSession resolves a session cookie. Errors: EUNAUTHENTICATED.
func (s *Service) AuthenticateSession(ctx context.Context, raw string) (*Principal, error) {
	if raw == "" || len(raw) > 100 {
		return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Session is missing or invalid.")
	}
	sess, err := s.store.FindSession(ctx, sha(raw))
	if err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Session is missing or invalid.")
		}
		return nil, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		_ = s.store.DeleteSession(ctx, sess.Hash)
		return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Session expired; sign in again.")
	}
	u, err := s.activeUser(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	return &Principal{User: u, Scope: ScopeWrite, Session: raw}, nil
}

func (s *Service) activeUser(ctx context.Context, id string) (*User, error) {
	u, err := s.cachedUser(ctx, id)
	if err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Credentials are no longer valid.")
		}
		return nil, err
	}
	if u.Disabled {
		return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "This account is disabled.")
	}
	return u, nil
}

// AuthenticateToken resolves an API token: one SHA-256 and, at most every
// few seconds, two indexed lookups (see cache.go), cheap enough for every
// request of a busy MLflow client. A revoked token is refused on the next
// request. Errors: EUNAUTHENTICATED.
func (s *Service) AuthenticateToken(ctx context.Context, raw string) (*Principal, error) {
	// The error is made only when needed: this runs on every request.
	bad := func() error {
		return trellis.Errorf(trellis.EUNAUTHENTICATED, "API token is invalid, revoked or expired.")
	}
	if !strings.HasPrefix(raw, TokenPrefix) || len(raw) > 100 {
		return nil, bad()
	}
	hash := sha(raw)
	t, err := s.cachedToken(ctx, hash)
	if err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return nil, bad()
		}
		return nil, err
	}
	now := s.now()
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return nil, bad()
	}
	u, err := s.activeUser(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if s.touchDue(hash, t, now) {
		if err := s.store.TouchToken(ctx, t.ID, now.UTC()); err != nil {
			return nil, err
		}
	}
	return &Principal{User: u, Scope: t.Scope, TokenID: t.ID}, nil
}

// AuthenticateBasic resolves HTTP basic credentials: a username with either
// an API token or the password. Verified passwords are remembered for a few
// minutes under an HMAC of the credentials (never the password itself); the
// entry dies when the password changes, the user logs out or is disabled.
// Errors: EUNAUTHENTICATED, ETOOMANY.
func (s *Service) AuthenticateBasic(ctx context.Context, name, secret string) (*Principal, error) {
	if strings.HasPrefix(secret, TokenPrefix) {
		p, err := s.AuthenticateToken(ctx, secret)
		if err != nil {
			return nil, err
		}
		if p.User.Name != strings.ToLower(name) {
			return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "API token does not belong to this user.")
		}
		return p, nil
	}
	mac := hmac.New(sha256.New, s.cacheKey)
	fmt.Fprintf(mac, "%s\x00%s", name, secret)
	key := string(mac.Sum(nil))
	now := s.now()

	s.mu.Lock()
	e, hit := s.basic[key]
	s.mu.Unlock()
	if hit && now.Before(e.expires) {
		u, err := s.activeUser(ctx, e.userID)
		if err == nil && u.PasswordHash == e.hash {
			return &Principal{User: u, Scope: ScopeWrite}, nil
		}
		if err != nil && trellis.ErrorCode(err) != trellis.EUNAUTHENTICATED {
			return nil, err
		}
	}
	u, err := s.verify(ctx, name, secret)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.basic) >= basicCacheMax {
		for k, v := range s.basic {
			if !now.Before(v.expires) {
				delete(s.basic, k)
			}
		}
		if len(s.basic) >= basicCacheMax {
			clear(s.basic)
		}
	}
	s.basic[key] = basicEntry{userID: u.ID, hash: u.PasswordHash, expires: now.Add(basicCacheTTL)}
	s.mu.Unlock()
	return &Principal{User: u, Scope: ScopeWrite}, nil
}

// NewPassword is the input to ChangePassword and SetPassword.
type NewPassword struct {
	Password string
	// RevokeTokens ends every API token of the user with the change: the
	// answer to a password that may have leaked, when whoever had it may
	// have minted tokens too.
	RevokeTokens bool
}

// ChangePassword sets a new password after checking the current one. It ends
// every session of the user, and their API tokens when in.RevokeTokens, in
// the same transaction, forgets cached verifications, and returns how many
// tokens it revoked. Errors: EUNAUTHENTICATED (wrong current password),
// EINVALID, ETOOMANY.
func (s *Service) ChangePassword(ctx context.Context, u *User, current string, in NewPassword) (int, error) {
	if _, err := s.verify(ctx, u.Name, current); err != nil {
		return 0, err
	}
	return s.setPassword(ctx, u.Name, in)
}

// SetPassword sets a user's password without the old one, as ChangePassword
// does otherwise: the instance admin's path (and the admin command's, which
// calls it with no principal). Errors: ENOTFOUND, EINVALID, EFORBIDDEN.
func (s *Service) SetPassword(ctx context.Context, name string, in NewPassword) (int, error) {
	if err := onlyAdmins(ctx, "set other users' passwords"); err != nil {
		return 0, err
	}
	return s.setPassword(ctx, name, in)
}

func (s *Service) setPassword(ctx context.Context, name string, in NewPassword) (int, error) {
	u, err := s.store.FindUserByName(ctx, name)
	if err != nil {
		return 0, err
	}
	if err := CheckPassword(u.Name, in.Password); err != nil {
		return 0, err
	}
	if u.PasswordHash, err = HashPassword(in.Password, s.params); err != nil {
		return 0, err
	}
	u.UpdatedAt = s.now().UTC()
	n, err := s.store.UpdateUserRevoking(ctx, u, Revocation{Sessions: true, Tokens: in.RevokeTokens})
	if err != nil {
		return 0, err
	}
	s.forgetUser(u.ID)
	return n, nil
}

// SetDisabled disables or re-enables a user. Both end every session and API
// token of the user in the same transaction as the change: disabling, so
// they stop at once; re-enabling, so that nothing issued before the disable
// comes back (a disabled user cannot sign in or mint tokens, so whatever
// exists then is older, such as a token a request in flight created as the
// disable landed, or one kept by a version that did not revoke at disable).
// The token check on every request stays as it was: no extra column to
// compare, no extra query. Enabling an active user changes nothing.
// Errors: ENOTFOUND, EFORBIDDEN.
func (s *Service) SetDisabled(ctx context.Context, name string, disabled bool) error {
	if err := onlyAdmins(ctx, "disable users"); err != nil {
		return err
	}
	u, err := s.store.FindUserByName(ctx, name)
	if err != nil {
		return err
	}
	if !disabled && !u.Disabled {
		return nil
	}
	u.Disabled = disabled
	u.UpdatedAt = s.now().UTC()
	if _, err := s.store.UpdateUserRevoking(ctx, u, Revocation{Sessions: true, Tokens: true}); err != nil {
		return err
	}
	s.forgetUser(u.ID)
	return nil
}

// RevokeUserTokens ends every API token of a user at once and returns how
// many there were: an instance admin's answer to a compromised account.
// Errors: ENOTFOUND, EFORBIDDEN.
func (s *Service) RevokeUserTokens(ctx context.Context, name string) (int, error) {
	if err := onlyAdmins(ctx, "revoke other users' tokens"); err != nil {
		return 0, err
	}
	u, err := s.store.FindUserByName(ctx, name)
	if err != nil {
		return 0, err
	}
	n, err := s.store.DeleteUserTokens(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	s.forgetUser(u.ID)
	return n, nil
}

// onlyAdmins refuses a principal that is not an instance admin with write
// credentials; no principal is the admin command, which holds the store.
func onlyAdmins(ctx context.Context, what string) error {
	if p := FromContext(ctx); p != nil && !(p.User.Admin && p.CanWrite()) {
		return trellis.Errorf(trellis.EFORBIDDEN, "Only instance admins can %s.", what)
	}
	return nil
}

// NewToken is the input to CreateToken.
type NewToken struct {
	Name  string
	Scope Scope         // ScopeWrite when empty
	TTL   time.Duration // 0: never expires
}

// CreateToken mints an API token for the principal's user and returns it
// with its secret, which is never retrievable again.
// Errors: EINVALID, EFORBIDDEN (a read token cannot mint tokens).
func (s *Service) CreateToken(ctx context.Context, in NewToken) (*Token, string, error) {
	p := FromContext(ctx)
	if p == nil {
		return nil, "", trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	if !p.CanWrite() {
		return nil, "", trellis.Errorf(trellis.EFORBIDDEN, "A read-only token cannot create tokens.")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 100 {
		return nil, "", trellis.Invalid("name", "name is required and at most 100 characters")
	}
	if in.Scope == "" {
		in.Scope = ScopeWrite
	}
	if in.Scope != ScopeRead && in.Scope != ScopeWrite {
		return nil, "", trellis.Invalid("scope", "scope must be read or write")
	}
	if in.TTL < 0 || in.TTL > 10*365*24*time.Hour {
		return nil, "", trellis.Invalid("expires", "expiry must be between now and ten years")
	}
	raw := TokenPrefix + randomSecret()
	now := s.now().UTC()
	t := &Token{ID: newID(), UserID: p.User.ID, Name: in.Name, Scope: in.Scope, Prefix: raw[:len(TokenPrefix)+6], Hash: sha(raw), CreatedAt: now}
	if in.TTL > 0 {
		t.ExpiresAt = now.Add(in.TTL)
	}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return nil, "", err
	}
	return t, raw, nil
}

// Tokens lists the principal's tokens.
func (s *Service) Tokens(ctx context.Context) ([]*Token, error) {
	p := FromContext(ctx)
	if p == nil {
		return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	return s.store.FindTokens(ctx, p.User.ID)
}

// RevokeToken deletes one of the principal's tokens. Errors: ENOTFOUND, EFORBIDDEN.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	p := FromContext(ctx)
	if p == nil {
		return trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	if !p.CanWrite() {
		return trellis.Errorf(trellis.EFORBIDDEN, "A read-only token cannot revoke tokens.")
	}
	if err := s.store.DeleteToken(ctx, p.User.ID, id); err != nil {
		return err
	}
	s.forgetToken(id)
	return nil
}

// ParseTTL parses an expiry such as "90d", "12h" or "never" ("" = never).
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "never" || s == "0" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && n > 0 && fmt.Sprint(n) == d {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	if dur, err := time.ParseDuration(s); err == nil && dur > 0 {
		return dur, nil
	}
	return 0, trellis.Invalid("expires", "expiry must look like 90d, 12h or never")
}
