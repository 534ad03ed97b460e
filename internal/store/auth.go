package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/trellis"
)

var _ auth.Store = (*DB)(nil)

const userColumns = `id, name, password_hash, admin, disabled, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (*auth.User, error) {
	var u auth.User
	var created, updated int64
	if err := row.Scan(&u.ID, &u.Name, &u.PasswordHash, &u.Admin, &u.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = tm(created), tm(updated)
	return &u, nil
}

func insertUser(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, u *auth.User) error {
	_, err := q.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.Name, u.PasswordHash, u.Admin, u.Disabled, ms(u.CreatedAt), ms(u.UpdatedAt))
	return mapErr(err, "User")
}

// CreateUser inserts a user. Errors: ECONFLICT when the name is taken.
func (db *DB) CreateUser(ctx context.Context, u *auth.User) error {
	return insertUser(ctx, db.write, u)
}

// CreateFirstUser inserts u only when the users table is empty.
func (db *DB) CreateFirstUser(ctx context.Context, u *auth.User) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if db.dialect == Postgres {
			// Serialise concurrent setups; SQLite's single writer already does.
			if _, err := tx.ExecContext(ctx, `LOCK TABLE users IN EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return trellis.Errorf(trellis.ECONFLICT, "A user already exists.")
		}
		return insertUser(ctx, tx, u)
	})
}

// FindUserByID returns a user. Errors: ENOTFOUND.
func (db *DB) FindUserByID(ctx context.Context, id string) (*auth.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	return u, mapErr(err, "User")
}

// FindUserByName returns a user. Errors: ENOTFOUND.
func (db *DB) FindUserByName(ctx context.Context, name string) (*auth.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	return u, mapErr(err, "User")
}

// FindUsers returns every user by name.
func (db *DB) FindUsers(ctx context.Context) ([]*auth.User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, mapErr(err, "Users")
	}
	defer rows.Close()
	var us []*auth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, mapErr(err, "Users")
		}
		us = append(us, u)
	}
	return us, mapErr(rows.Err(), "Users")
}

// CountUsers returns the number of users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, mapErr(err, "Users")
}

// UpdateUserRevoking saves a user's mutable fields and, in the same
// transaction, deletes the sessions and API tokens rv names, so no request
// sees the new state with the old credentials. It returns the number of
// tokens deleted. Errors: ENOTFOUND.
func (db *DB) UpdateUserRevoking(ctx context.Context, u *auth.User, rv auth.Revocation) (int, error) {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, admin = $2, disabled = $3, updated_at = $4 WHERE id = $5`,
			u.PasswordHash, u.Admin, u.Disabled, ms(u.UpdatedAt), u.ID)
		if err := affected(res, err, "User"); err != nil {
			return err
		}
		if rv.Sessions {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
				return mapErr(err, "Session")
			}
		}
		if rv.Tokens {
			res, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE user_id = $1`, u.ID)
			if err != nil {
				return mapErr(err, "Token")
			}
			n, err = res.RowsAffected()
			return mapErr(err, "Token")
		}
		return nil
	})
	return int(n), err
}

// affected maps an UPDATE or DELETE that touched no row to ENOTFOUND.
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return mapErr(err, what)
	}
	if n, err := res.RowsAffected(); err != nil {
		return mapErr(err, what)
	} else if n == 0 {
		return trellis.Errorf(trellis.ENOTFOUND, "%s not found.", what)
	}
	return nil
}

// CreateSession inserts a session.
func (db *DB) CreateSession(ctx context.Context, s *auth.Session) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.Hash, s.UserID, ms(s.CreatedAt), ms(s.ExpiresAt))
	return mapErr(err, "Session")
}

// FindSession returns a session by hash. Errors: ENOTFOUND.
func (db *DB) FindSession(ctx context.Context, hash string) (*auth.Session, error) {
	var s auth.Session
	var created, expires int64
	err := db.read.QueryRowContext(ctx, `SELECT hash, user_id, created_at, expires_at FROM sessions WHERE hash = $1`, hash).
		Scan(&s.Hash, &s.UserID, &created, &expires)
	if err != nil {
		return nil, mapErr(err, "Session")
	}
	s.CreatedAt, s.ExpiresAt = tm(created), tm(expires)
	return &s, nil
}

// DeleteSession deletes a session; deleting an absent one is not an error.
func (db *DB) DeleteSession(ctx context.Context, hash string) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE hash = $1`, hash)
	return mapErr(err, "Session")
}

// CreateToken inserts an API token.
func (db *DB) CreateToken(ctx context.Context, t *auth.Token) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, name, scope, prefix, hash, created_at, expires_at, last_used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.UserID, t.Name, string(t.Scope), t.Prefix, t.Hash, ms(t.CreatedAt), ms(t.ExpiresAt), ms(t.LastUsedAt))
	return mapErr(err, "Token")
}

const tokenColumns = `id, user_id, name, scope, prefix, hash, created_at, expires_at, last_used_at`

func scanToken(row interface{ Scan(...any) error }) (*auth.Token, error) {
	var t auth.Token
	var scope string
	var created, expires, used int64
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &scope, &t.Prefix, &t.Hash, &created, &expires, &used); err != nil {
		return nil, err
	}
	t.Scope = auth.Scope(scope)
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt = tm(created), tm(expires), tm(used)
	return &t, nil
}

// FindTokenByHash returns a token by the hash of its secret. Errors: ENOTFOUND.
func (db *DB) FindTokenByHash(ctx context.Context, hash string) (*auth.Token, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	return t, mapErr(err, "Token")
}

// FindTokens lists a user's tokens, newest first.
func (db *DB) FindTokens(ctx context.Context, userID string) ([]*auth.Token, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, mapErr(err, "Tokens")
	}
	defer rows.Close()
	ts := []*auth.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, mapErr(err, "Tokens")
		}
		ts = append(ts, t)
	}
	return ts, mapErr(rows.Err(), "Tokens")
}

// DeleteToken deletes one of a user's tokens. Errors: ENOTFOUND, also for
// another user's token.
func (db *DB) DeleteToken(ctx context.Context, userID, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2`, id, userID)
	return affected(res, err, "Token")
}

// DeleteUserTokens deletes every API token of a user and returns how many
// there were.
func (db *DB) DeleteUserTokens(ctx context.Context, userID string) (int, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM api_tokens WHERE user_id = $1`, userID)
	if err != nil {
		return 0, mapErr(err, "Token")
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err, "Token")
}

// TouchToken records a token's last use.
func (db *DB) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, ms(at), id)
	return mapErr(err, "Token")
}

// Sign-in failure counters live in login_throttle, one row per counter:
// kind 'pair' (name, addr), 'addr' (name '') or 'name' (addr '').

// FindLoginFailures returns the counters of name from addr and of addr: one
// read of two primary-key rows.
func (db *DB) FindLoginFailures(ctx context.Context, name, addr string) (auth.LoginFailures, error) {
	var f auth.LoginFailures
	rows, err := db.read.QueryContext(ctx, `SELECT kind, failures, first_at, last_at FROM login_throttle
		WHERE (kind = 'pair' AND name = $1 AND addr = $2) OR (kind = 'addr' AND name = '' AND addr = $2)`, name, addr)
	if err != nil {
		return f, mapErr(err, "Login failures")
	}
	return scanLoginFailures(rows)
}

func scanLoginFailures(rows *sql.Rows) (auth.LoginFailures, error) {
	defer rows.Close()
	var f auth.LoginFailures
	for rows.Next() {
		var kind string
		var c auth.FailureCount
		var first, last int64
		if err := rows.Scan(&kind, &c.Failures, &first, &last); err != nil {
			return f, mapErr(err, "Login failures")
		}
		c.First, c.Last = tm(first), tm(last)
		switch kind {
		case "pair":
			f.Pair = c
		case "addr":
			f.Addr = c
		case "name":
			f.Name = c
		}
	}
	return f, mapErr(rows.Err(), "Login failures")
}

// RecordLoginFailure counts a failure in its three counters with one
// upsert, which restarts a pair or address counter quiet since f.Forget and
// a name counter whose window began before f.Window, and returns them.
// Concurrent failures on several servers each see their own increment.
func (db *DB) RecordLoginFailure(ctx context.Context, f auth.LoginFailure) (auth.LoginFailures, error) {
	const restart = `(t.kind = 'name' AND t.first_at < $5) OR (t.kind <> 'name' AND t.last_at < $4)`
	rows, err := db.write.QueryContext(ctx, `INSERT INTO login_throttle AS t (kind, name, addr, failures, first_at, last_at)
		VALUES ('pair', $1, $2, 1, $3, $3), ('addr', '', $2, 1, $3, $3), ('name', $1, '', 1, $3, $3)
		ON CONFLICT (kind, name, addr) DO UPDATE SET
			failures = CASE WHEN `+restart+` THEN 1 ELSE t.failures + 1 END,
			first_at = CASE WHEN `+restart+` THEN excluded.first_at ELSE t.first_at END,
			last_at = excluded.last_at
		RETURNING kind, failures, first_at, last_at`,
		f.Name, f.Addr, ms(f.At), ms(f.Forget), ms(f.Window))
	if err != nil {
		return auth.LoginFailures{}, mapErr(err, "Login failure")
	}
	return scanLoginFailures(rows)
}

// ClearLoginFailures forgets the failures of name from addr after a
// successful sign-in from there.
func (db *DB) ClearLoginFailures(ctx context.Context, name, addr string) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM login_throttle WHERE kind = 'pair' AND name = $1 AND addr = $2`, name, addr)
	return mapErr(err, "Login failures")
}

// PruneLoginFailures deletes counters whose last failure is before before.
func (db *DB) PruneLoginFailures(ctx context.Context, before time.Time) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM login_throttle WHERE last_at < $1`, ms(before))
	return mapErr(err, "Login failures")
}
