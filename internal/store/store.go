// Package store is the one SQL implementation of every capability's Store
// interface, over database/sql, for SQLite (modernc.org/sqlite, the default)
// and PostgreSQL (pgx). Queries are portable SQL with $N placeholders, which
// both drivers accept; dialect differences live in the migrations and in a
// few named hot paths.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trellisml/trellis/internal/trellis"
)

// Dialect names a supported database.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// Options tune how a store is opened.
type Options struct {
	// SyncFull sets SQLite's synchronous=FULL: every commit survives power
	// loss, at the cost of an fsync per commit. NORMAL (the default) in WAL
	// mode survives process crashes and loses at most the last commits on power
	// loss.
	SyncFull bool
}

// DB is an open store. SQLite gets one writer connection, so writes queue in
// Go instead of failing with SQLITE_BUSY, beside a pool of readers that WAL
// lets run concurrently with the writer. PostgreSQL uses one pool for both.
type DB struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB
	source  string // the DSN or path, for messages
	runData runDataCache
	pgStats pgStats
}

// IsPostgres reports whether dsn names a PostgreSQL database: a
// postgres:// or postgresql:// URL, or a libpq key=value string
// ("host=db user=trellis dbname=trellis"), which pgx accepts too. A
// key=value string is recognised by its first word being a libpq keyword
// followed by '=', so a SQLite file of that name needs a directory in front
// ("./host=x.db").
func IsPostgres(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return true
	}
	key, _, ok := strings.Cut(strings.TrimSpace(dsn), "=")
	return ok && libpqKeywords[strings.TrimSpace(key)]
}

// libpqKeywords are the connection parameters libpq (and pgx) know.
var libpqKeywords = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "password": true, "passfile": true,
	"connect_timeout": true, "options": true, "application_name": true, "fallback_application_name": true,
	"sslmode": true, "sslcert": true, "sslkey": true, "sslrootcert": true, "sslpassword": true, "sslnegotiation": true,
	"sslsni": true, "service": true, "servicefile": true, "target_session_attrs": true, "channel_binding": true,
	"krbsrvname": true, "gssencmode": true, "require_auth": true, "min_read_buffer_size": true,
}

// kvPassword matches the password values of a key=value DSN: unquoted up
// to the next space, or single-quoted with backslash escapes.
var kvPassword = regexp.MustCompile(`(^|\s)((?:ssl)?password)\s*=\s*(?:'(?:[^'\\]|\\.)*'?|(?:[^\s\\]|\\.)*)`)

// RedactDSN returns dsn safe to print: the passwords of a PostgreSQL URL
// (in the user info and the password and sslpassword parameters) and of a
// key=value DSN replaced by xxxxx. A SQLite path is returned as it is.
func RedactDSN(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	if !strings.Contains(dsn, "://") {
		return kvPassword.ReplaceAllString(dsn, "${1}${2}=xxxxx")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparseable)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// Open opens the store at dsn: a SQLite file path, or a PostgreSQL URL or
// key=value string (IsPostgres). A new SQLite database and its WAL and SHM
// files are created 0600 in a directory created 0700. It does not migrate;
// call Migrate or CheckSchema next.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn, opts)
}

func openSQLite(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open store: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	if err := makePrivate(path); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	sync := "NORMAL"
	if opts.SyncFull {
		sync = "FULL"
	}
	// busy_timeout goes first so that the pragmas after it already wait for
	// locks instead of failing.
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(ON)", "synchronous(" + sync + ")"} {
		q.Add("_pragma", p)
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	write, err := sql.Open(sqliteDriver, dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open(sqliteDriver, dsn+"&mode=ro")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	read.SetMaxOpenConns(max(4, runtime.NumCPU()))
	db := &DB{dialect: SQLite, write: write, read: read, source: path}
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return db, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	pool.SetMaxOpenConns(max(8, 2*runtime.NumCPU()))
	pool.SetMaxIdleConns(max(8, 2*runtime.NumCPU()))
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{dialect: Postgres, write: pool, read: pool, source: RedactDSN(dsn)}
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store %s: %w", db.source, err)
	}
	return db, nil
}

// makePrivate creates the SQLite file at path with mode 0600 before SQLite
// opens it: SQLite would create it 0644 less the umask, and gives the -wal
// and -shm files it creates later the database file's mode. A database,
// WAL or SHM file that others may read (left by an older Trellis, or
// copied in) is tightened to 0600.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(p, perm&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// Dialect returns the store's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return nil, err
	}
	d := goose.DialectSQLite3
	if db.dialect == Postgres {
		d = goose.DialectPostgres
	}
	// Capabilities are developed on parallel branches, so a migration with a
	// lower number can land after higher ones: apply it rather than refuse.
	return goose.NewProvider(d, db.write, sub, goose.WithAllowOutofOrder(true),
		goose.WithGoMigrations(chunksMigration(db.dialect)))
}

// SchemaVersion returns the version the database is at and the newest this
// binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, known int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	if current, err = p.GetDBVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	srcs := p.ListSources()
	if len(srcs) > 0 {
		known = srcs[len(srcs)-1].Version
	}
	return current, known, nil
}

// CheckSchema fails with a clear message when the database was migrated by a
// newer Trellis, which this binary would misread.
func (db *DB) CheckSchema(ctx context.Context) error {
	current, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > known {
		return fmt.Errorf("the database %s has schema version %d, newer than the %d this trellis binary knows; run a newer trellis (or restore a backup taken before the upgrade)", db.source, current, known)
	}
	return nil
}

// Migrate applies every pending migration and returns how many ran. It
// refuses a schema newer than the binary.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	if err := db.CheckSchema(ctx); err != nil {
		return 0, err
	}
	p, err := db.provider()
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// Backup writes a consistent snapshot of a live SQLite store to path with
// VACUUM INTO (readers and the writer keep going) and runs integrity_check on
// the copy. PostgreSQL stores are backed up with pg_dump instead.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return errors.New("backup: trellis backup snapshots SQLite stores; back up PostgreSQL with pg_dump --format=custom")
	}
	// The copy holds every password hash and token digest: create it 0600
	// (VACUUM INTO fills an empty file, and would create it 0644).
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("backup: %s already exists; choose a new file name", path)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	if _, err := db.read.ExecContext(ctx, "VACUUM INTO $1", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup: %w", err)
	}
	copyDB, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer copyDB.Close()
	var result string
	if err := copyDB.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("backup: integrity check: %w", err)
	}
	if result != "ok" {
		return fmt.Errorf("backup: integrity check of %s failed: %s", path, result)
	}
	return nil
}

// mapErr turns driver errors into domain errors: unique and foreign-key
// violations become ECONFLICT and EINVALID, sql.ErrNoRows becomes ENOTFOUND
// with the given noun. Anything else is wrapped as is.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	// pgx's native rows (the log-batch path) report its own ErrNoRows.
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return trellis.Errorf(trellis.ENOTFOUND, "%s not found.", what)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return trellis.Errorf(trellis.ECONFLICT, "%s already exists.", what)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return trellis.Errorf(trellis.EINVALID, "%s refers to something that does not exist.", what)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return trellis.Errorf(trellis.ECONFLICT, "%s already exists.", what)
		case "23503":
			return trellis.Errorf(trellis.EINVALID, "%s refers to something that does not exist.", what)
		}
	}
	return fmt.Errorf("%s: %w", strings.ToLower(what), err)
}

// tx runs fn in a write transaction, committing only if fn succeeds.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func ms(t time.Time) int64 { return trellis.Millis(t) }
func tm(v int64) time.Time { return trellis.FromMillis(v) }

type execer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// placeholders returns "($n, $n+1, ...), (...)" for rows of width columns,
// numbered from start.
func placeholders(rows, width, start int) string {
	var b strings.Builder
	n := start
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range width {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

func dir(desc bool) string {
	if desc {
		return " DESC"
	}
	return " ASC"
}

func (db *DB) eachRow(ctx context.Context, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// IntegrityCheck runs SQLite's integrity_check and fails unless it answers
// "ok". PostgreSQL keeps its own consistency; there it only pings.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	if db.dialect != SQLite {
		return db.Ping(ctx)
	}
	var result string
	if err := db.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if result != "ok" {
		return fmt.Errorf("integrity check failed: %s", result)
	}
	return nil
}
