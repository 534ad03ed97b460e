package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"reflect"

	"modernc.org/sqlite"
)

// sqliteDriver is the name the statement-caching SQLite driver is
// registered under; openSQLite uses it for the writer and the readers.
const sqliteDriver = "trellis-sqlite"

// maxCachedStmts bounds the statements each SQLite connection keeps
// prepared. Queries built per request (placeholder lists of varying length)
// stop being cached once it is reached; they are prepared per call as
// before.
const maxCachedStmts = 512

func init() {
	sql.Register(sqliteDriver, stmtCachingDriver{&sqlite.Driver{}})
}

// stmtCachingDriver wraps modernc.org/sqlite so that each connection keeps
// its statements prepared, keyed by SQL text. database/sql prepares,
// runs and finalizes a statement on every ExecContext and QueryContext; on
// the tracking hot paths SQLite's parser and planner took a third of the
// server's CPU (create-run + log-batch profile), more than running the
// statements. A cached statement is reset and its bindings cleared after
// each use, so it behaves as a fresh one.
type stmtCachingDriver struct{ d *sqlite.Driver }

// Open implements driver.Driver.
func (d stmtCachingDriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	return &cachingConn{conn: c.(sqliteConn), stmts: map[string]*cachedStmt{}}, nil
}

// sqliteConn is what database/sql uses of a modernc.org/sqlite connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy bool // a Rows of it is open, or it is executing
}

// cachingConn is a connection with its prepared statements. database/sql
// uses a connection from one goroutine at a time, so no locking is needed.
type cachingConn struct {
	conn  sqliteConn
	stmts map[string]*cachedStmt
}

// cached returns the prepared statement of query, preparing it on first
// use; nil when it is in use by an open Rows (a query nested in the loop of
// the same query) or cannot be cached, and the caller runs it uncached.
func (c *cachingConn) cached(ctx context.Context, query string) *cachedStmt {
	if st, ok := c.stmts[query]; ok {
		if st.busy {
			return nil
		}
		return st
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	s, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil // the uncached call reports the error
	}
	ps, ok := s.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		s.Close()
		return nil
	}
	st := &cachedStmt{stmt: ps}
	c.stmts[query] = st
	return st
}

// ExecContext implements driver.ExecerContext.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st := c.cached(ctx, query)
	if st == nil {
		return c.conn.ExecContext(ctx, query, args)
	}
	st.busy = true
	defer func() { st.busy = false }()
	return st.stmt.ExecContext(ctx, args)
}

// QueryContext implements driver.QueryerContext.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st := c.cached(ctx, query)
	if st == nil {
		return c.conn.QueryContext(ctx, query, args)
	}
	st.busy = true
	rows, err := st.stmt.QueryContext(ctx, args)
	if err != nil {
		st.busy = false
		return nil, err
	}
	return &cachedRows{Rows: rows, st: st}, nil
}

// Prepare implements driver.Conn.
func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }

// PrepareContext implements driver.ConnPrepareContext.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.conn.PrepareContext(ctx, query)
}

// Begin implements driver.Conn.
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.conn.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx.
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.conn.BeginTx(ctx, opts)
}

// Ping implements driver.Pinger.
func (c *cachingConn) Ping(ctx context.Context) error { return c.conn.Ping(ctx) }

// ResetSession implements driver.SessionResetter.
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.conn.ResetSession(ctx) }

// IsValid implements driver.Validator.
func (c *cachingConn) IsValid() bool { return c.conn.IsValid() }

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	for q, st := range c.stmts {
		st.stmt.Close()
		delete(c.stmts, q)
	}
	return c.conn.Close()
}

// cachedRows releases its statement for reuse when closed.
type cachedRows struct {
	driver.Rows
	st *cachedStmt
}

// Close implements driver.Rows.
func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.st.busy = false
	return err
}

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

// ColumnTypeNullable implements driver.RowsColumnTypeNullable.
func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

// ColumnTypeScanType implements driver.RowsColumnTypeScanType.
func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
