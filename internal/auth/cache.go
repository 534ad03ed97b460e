package auth

import (
	"context"
	"time"
)

// Every API request resolves its token to a user. Reading the token and the
// user from the store cost about 80 µs of server CPU per request under an
// MLflow client's load (two queries through database/sql), more than the
// rest of a small request's authentication and routing together, so both
// are remembered for a few seconds.
//
// Staleness is bounded two ways. Within this process every change that can
// take a credential away (revoking a token, disabling a user, changing a
// password) drops the entries it touches before it returns, so the very next
// request reads the store again. Another process sharing the database (a
// second server on one PostgreSQL database, or `trellis user disable` run
// against the SQLite file) cannot reach this cache, so entries are also
// re-read after credCacheTTL.
const (
	credCacheTTL = 5 * time.Second
	credCacheMax = 10000
)

// cachedToken returns the token with SHA-256 hash, from the cache when it was
// read less than credCacheTTL ago.
func (s *Service) cachedToken(ctx context.Context, hash string) (Token, error) {
	return s.tokens.Get(ctx, hash, s.now(), func(ctx context.Context) (Token, error) {
		t, err := s.store.FindTokenByHash(ctx, hash)
		if err != nil {
			return Token{}, err
		}
		return *t, nil
	}, nil)
}

// cachedUser returns the user with id, from the cache when it was read less
// than credCacheTTL ago. The returned pointer is a fresh copy: handlers may
// keep or change it without touching the cache.
func (s *Service) cachedUser(ctx context.Context, id string) (*User, error) {
	u, err := s.users.Get(ctx, id, s.now(), func(ctx context.Context) (User, error) {
		u, err := s.store.FindUserByID(ctx, id)
		if err != nil {
			return User{}, err
		}
		return *u, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// touchDue reports whether the token's last use must be written now, and if
// so records now as its last use in the cache, so that concurrent requests
// with the same token write it once.
func (s *Service) touchDue(hash string, t Token, now time.Time) bool {
	if now.Sub(t.LastUsedAt) <= tokenTouchInterval {
		return false
	}
	due := true
	s.tokens.Update(hash, func(t *Token) {
		if now.Sub(t.LastUsedAt) <= tokenTouchInterval {
			due = false
			return
		}
		t.LastUsedAt = now
	})
	return due
}

// forgetUser drops everything remembered about a user's credentials: cached
// basic-auth verifications, the user row and their tokens. It runs after
// every change that may take access away, so the change applies to the very
// next request.
func (s *Service) forgetUser(userID string) {
	s.mu.Lock()
	for k, v := range s.basic {
		if v.userID == userID {
			delete(s.basic, k)
		}
	}
	s.mu.Unlock()
	s.users.DeleteFunc(func(id string, _ User) bool { return id == userID })
	s.tokens.DeleteFunc(func(_ string, t Token) bool { return t.UserID == userID })
}

// forgetToken drops a revoked token, so the next request with it reads the
// store and is refused.
func (s *Service) forgetToken(id string) {
	s.tokens.DeleteFunc(func(_ string, t Token) bool { return t.ID == id })
}
