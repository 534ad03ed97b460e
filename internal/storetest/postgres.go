package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// PostgresDSN returns a DSN for a fresh schema on the PostgreSQL server that
// TRELLIS_TEST_POSTGRES names, dropped when the test ends. Without the
// variable the test is skipped — or fails, under TRELLIS_TEST_REQUIRE_ALL=1,
// so that CI cannot silently skip the PostgreSQL suite.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("TRELLIS_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("TRELLIS_TEST_REQUIRE_ALL") == "1" {
			tb.Fatal("TRELLIS_TEST_POSTGRES is not set but TRELLIS_TEST_REQUIRE_ALL=1")
		}
		tb.Skip("PostgreSQL suite skipped: set TRELLIS_TEST_POSTGRES=postgres://... to run it")
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			tb.Errorf("drop test schema: %v", err)
		}
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// Analyze gathers PostgreSQL's planner statistics of the schema dsn names,
// as autovacuum would have on a corpus that size: benchmarks seed their
// data and then measure, and without statistics the planner takes every
// table for a row or so.
func Analyze(tb testing.TB, dsn string) {
	tb.Helper()
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("ANALYZE"); err != nil {
		tb.Fatal(err)
	}
}
