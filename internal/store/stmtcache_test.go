package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestStmtCache checks that cached statements behave as fresh ones: the
// same query nested inside its own open rows (the cached statement is busy,
// so the inner one runs uncached), errors with their SQLite codes, reuse
// after an error, and rows read after a transaction rolled back.
func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open(sqliteDriver, "file:"+filepath.Join(t.TempDir(), "c.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // every call on the one cached connection
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	const ins = `INSERT INTO t (id, v) VALUES (?, ?)`
	for i, v := range []string{"a", "b", "c"} {
		if _, err := db.ExecContext(ctx, ins, i+1, v); err != nil {
			t.Fatal(err)
		}
	}
	// A unique violation keeps its code, and the statement works after it.
	_, err = db.ExecContext(ctx, ins, 9, "a")
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		t.Fatalf("duplicate insert: %v, want SQLITE_CONSTRAINT_UNIQUE", err)
	}
	if _, err := db.ExecContext(ctx, ins, 4, "d"); err != nil {
		t.Fatal(err)
	}

	// The same query inside the loop over its own rows, in a transaction so
	// that both run on the same connection.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const sel = `SELECT id, v FROM t WHERE id >= ? ORDER BY id`
	rows, err := tx.QueryContext(ctx, sel, 1)
	if err != nil {
		t.Fatal(err)
	}
	var outer, inner int
	for rows.Next() {
		var id int
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		outer++
		in, err := tx.QueryContext(ctx, sel, id)
		if err != nil {
			t.Fatal(err)
		}
		for in.Next() {
			inner++
		}
		in.Close()
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if outer != 4 || inner != 4+3+2+1 {
		t.Fatalf("outer %d inner %d rows, want 4 and 10", outer, inner)
	}
	if _, err := tx.ExecContext(ctx, ins, 5, "e"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("count after rollback: %d %v, want 4", n, err)
	}
	// Bindings do not leak from one use to the next.
	var v string
	if err := db.QueryRowContext(ctx, `SELECT v FROM t WHERE id = ?`, 2).Scan(&v); err != nil || v != "b" {
		t.Fatalf("first lookup: %q %v", v, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT v FROM t WHERE id = ?`, 99).Scan(&v); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("second lookup: %v, want no rows", err)
	}
}
