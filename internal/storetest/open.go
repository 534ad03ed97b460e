package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/trellisml/trellis/internal/store"
)

// OpenMigrated opens the store dsn names (a file path for SQLite, a
// postgres:// URL for PostgreSQL), migrates it and closes it when the test
// ends.
func OpenMigrated(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// OpenSQLite opens a migrated SQLite store in a temporary directory.
func OpenSQLite(tb testing.TB) *store.DB {
	tb.Helper()
	return OpenMigrated(tb, filepath.Join(tb.TempDir(), "trellis.db"))
}

// OpenPostgres opens a migrated PostgreSQL store in a schema of its own; it
// skips the test without TRELLIS_TEST_POSTGRES (see PostgresDSN).
func OpenPostgres(tb testing.TB) *store.DB {
	tb.Helper()
	return OpenMigrated(tb, PostgresDSN(tb))
}

// Backends runs fn on a fresh SQLite store and on a fresh PostgreSQL store
// (when TRELLIS_TEST_POSTGRES is set), as subtests "sqlite" and "postgres":
// a capability's behaviour must not depend on the database.
func Backends(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t)) })
}
