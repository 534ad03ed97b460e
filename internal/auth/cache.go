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

type tokenEntry struct {
	token   Token
	fetched time.Time
}

type userEntry struct {
	user    User
	fetched time.Time
}

// cachedToken returns the token with SHA-256 hash, from the cache when it was
// read less than credCacheTTL ago. The returned copy is the caller's.
func (s *Service) cachedToken(ctx context.Context, hash string) (Token, error) {
	now := s.now()
	s.mu.Lock()
	e, ok := s.tokens[hash]
	gen := s.credGen
	s.mu.Unlock()
	if ok && now.Sub(e.fetched) < credCacheTTL {
		return e.token, nil
	}
	t, err := s.store.FindTokenByHash(ctx, hash)
	if err != nil {
		return Token{}, err
	}
	s.mu.Lock()
	// An invalidation that ran while the store was read may have dropped
	// what was just read; keeping it would undo the revocation.
	if s.credGen == gen {
		if len(s.tokens) >= credCacheMax {
			clear(s.tokens)
		}
		s.tokens[hash] = &tokenEntry{token: *t, fetched: now}
	}
	s.mu.Unlock()
	return *t, nil
}

// cachedUser returns the user with id, from the cache when it was read less
// than credCacheTTL ago. The returned pointer is a fresh copy: handlers may
// keep or change it without touching the cache.
func (s *Service) cachedUser(ctx context.Context, id string) (*User, error) {
	now := s.now()
	s.mu.Lock()
	e, ok := s.users[id]
	gen := s.credGen
	s.mu.Unlock()
	if ok && now.Sub(e.fetched) < credCacheTTL {
		u := e.user
		return &u, nil
	}
	u, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.credGen == gen {
		if len(s.users) >= credCacheMax {
			clear(s.users)
		}
		s.users[id] = &userEntry{user: *u, fetched: now}
	}
	s.mu.Unlock()
	return u, nil
}

// touchDue reports whether the token's last use must be written now, and if
// so records now as its last use in the cache, so that concurrent requests
// with the same token write it once.
func (s *Service) touchDue(hash string, t Token, now time.Time) bool {
	if now.Sub(t.LastUsedAt) <= tokenTouchInterval {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.tokens[hash]; ok {
		if now.Sub(e.token.LastUsedAt) <= tokenTouchInterval {
			return false
		}
		e.token.LastUsedAt = now
	}
	return true
}

// forgetUser drops everything remembered about a user's credentials: cached
// basic-auth verifications, the user row and their tokens. It runs after
// every change that may take access away, so the change applies to the very
// next request.
func (s *Service) forgetUser(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credGen++
	for k, v := range s.basic {
		if v.userID == userID {
			delete(s.basic, k)
		}
	}
	delete(s.users, userID)
	for k, v := range s.tokens {
		if v.token.UserID == userID {
			delete(s.tokens, k)
		}
	}
}

// forgetToken drops a revoked token, so the next request with it reads the
// store and is refused.
func (s *Service) forgetToken(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credGen++
	for k, v := range s.tokens {
		if v.token.ID == id {
			delete(s.tokens, k)
		}
	}
}
