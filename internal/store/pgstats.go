package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgStatsInterval is the least time between two checks of the tracking
// tables' statistics.
const pgStatsInterval = time.Second

// pgStats keeps PostgreSQL's planner statistics of the tracking tables
// current while runs and metrics pour in. Without them (a table just
// filled, before autovacuum's next round, which comes up to a minute
// later, or never where autovacuum is off) the planner takes a search's
// tables for a few rows each and chose nested loops that read one index
// once per row of another: a search of 2,000 runs took 150 ms instead of
// 10, one of 100,000 runs 460 ms instead of 8. After tracking writes, at
// most once a second and in the background, the tables that changed by
// more than autovacuum's own analyze threshold (50 rows plus a tenth of
// the table) since their last analysis are analyzed; with autovacuum
// keeping up, the check finds nothing to do.
type pgStats struct {
	mu      sync.Mutex
	last    time.Time
	running bool
}

// afterTrackingWrite starts a statistics check when one is due.
func (db *DB) afterTrackingWrite() {
	if db.dialect != Postgres {
		return
	}
	s := &db.pgStats
	s.mu.Lock()
	if s.running || time.Since(s.last) < pgStatsInterval {
		s.mu.Unlock()
		return
	}
	s.running, s.last = true, time.Now()
	s.mu.Unlock()
	go func() {
		defer func() {
			s.mu.Lock()
			s.running = false
			s.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = db.analyzeStale(ctx) // a failed check is retried after the next write
	}()
}

// analyzeStale analyzes the tracking tables of the current schema that
// changed by more than autovacuum's analyze threshold.
func (db *DB) analyzeStale(ctx context.Context) error {
	var names []string
	err := db.eachRow(ctx, `SELECT relname FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND relname LIKE 'tracking\_%'
		AND n_mod_since_analyze > 50 + 0.1 * n_live_tup`, nil, func(rows *sql.Rows) error {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := db.write.ExecContext(ctx, `ANALYZE `+pgx.Identifier{n}.Sanitize()); err != nil {
			return err
		}
	}
	return nil
}
