package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
)

func TestSQLite(t *testing.T) {
	t.Parallel() // each subtest opens a store of its own
	storetest.Run(t, OpenSQLite)
}

func TestPostgres(t *testing.T) {
	t.Parallel() // each subtest has a schema of its own
	storetest.Run(t, OpenPostgres)
}

// TestBatchAllOrNothing fails the last write of a log-batch, an update-run
// and a create-run in the database and checks that none of it is visible.
func TestBatchAllOrNothing(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { storetest.BatchAllOrNothing(t, filepath.Join(t.TempDir(), "trellis.db")) })
	t.Run("postgres", func(t *testing.T) { storetest.BatchAllOrNothing(t, storetest.PostgresDSN(t)) })
}

// The store's tests open their stores as every other package's tests do.
var (
	OpenSQLite   = storetest.OpenSQLite
	OpenPostgres = storetest.OpenPostgres
	openMigrated = storetest.OpenMigrated
)

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trellis.db")
	db := openMigrated(t, path)
	// Pretend a newer Trellis migrated this database.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)`); err != nil {
		t.Fatal(err)
	}
	err = db.CheckSchema(ctx)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("CheckSchema on a newer schema: %v", err)
	}
	if _, err := db.Migrate(ctx); err == nil {
		t.Fatal("Migrate ran on a newer schema")
	}
}

func TestBackup(t *testing.T) {
	ctx := context.Background()
	db := OpenSQLite(t)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	copyDB, err := store.Open(ctx, out, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	if err := copyDB.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, out); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
}
