package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"

	"github.com/pressly/goose/v3"
)

// Migration 00016 (a Go migration, the one whose work SQL cannot do: the
// chunk encoding) moves metric points from tracking_metrics, one row per
// point, to tracking_metric_chunks, up to 4,096 points of one series per
// row:
//
//	series_id   the series (tracking_latest_metrics.id), ON DELETE CASCADE
//	first_step  the smallest step in the chunk
//	seq         tells apart chunks of a series with the same first step;
//	            tracking_latest_metrics.chunk_seq hands them out
//	last_step   the largest step in the chunk
//	points      how many points data holds
//	data        the points sorted in history order (step, timestamp, non-NaN
//	            before NaN, value): uvarint count, then per point the zigzag
//	            varint deltas of step and timestamp from the previous point
//	            (from 0 for the first) and the 8 little-endian bytes of the
//	            value's IEEE 754 bits (a NaN is the NaN flag)
//
// Chunks of a series may overlap; readers merge them (history.go).
// The existing points are converted in batches of series, in the
// migration's transaction, and tracking_metrics goes away with its index.
const chunksVersion = 16

var chunksDDL = map[Dialect]string{
	SQLite: `CREATE TABLE tracking_metric_chunks (
    series_id  INTEGER NOT NULL REFERENCES tracking_latest_metrics (id) ON DELETE CASCADE,
    first_step INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    last_step  INTEGER NOT NULL,
    points     INTEGER NOT NULL,
    data       BLOB NOT NULL,
    PRIMARY KEY (series_id, first_step, seq)
) STRICT, WITHOUT ROWID;
ALTER TABLE tracking_latest_metrics ADD COLUMN chunk_seq INTEGER NOT NULL DEFAULT 0;`,
	// EXTERNAL: out of line without compression, which the encoded
	// deltas and float bits hardly repay.
	Postgres: `CREATE TABLE tracking_metric_chunks (
    series_id  BIGINT NOT NULL REFERENCES tracking_latest_metrics (id) ON DELETE CASCADE,
    first_step BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    last_step  BIGINT NOT NULL,
    points     INTEGER NOT NULL,
    data       BYTEA NOT NULL,
    PRIMARY KEY (series_id, first_step, seq)
);
ALTER TABLE tracking_metric_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE tracking_latest_metrics ADD COLUMN chunk_seq BIGINT NOT NULL DEFAULT 0;`,
}

// pointsDDL is tracking_metrics as migrations 00002 and 00013 left it, for
// the way down.
var pointsDDL = map[Dialect]string{
	SQLite: `CREATE TABLE tracking_metrics (
    series_id INTEGER NOT NULL REFERENCES tracking_latest_metrics (id) ON DELETE CASCADE,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL,
    is_nan    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX tracking_metrics_history ON tracking_metrics (series_id, step, timestamp, is_nan, value);`,
	Postgres: `CREATE TABLE tracking_metrics (
    series_id BIGINT NOT NULL REFERENCES tracking_latest_metrics (id) ON DELETE CASCADE,
    step      BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    value     DOUBLE PRECISION,
    is_nan    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX tracking_metrics_history ON tracking_metrics (series_id, step, timestamp, is_nan, value);`,
}

// migrationSeriesBatch is how many series one step of the conversion reads.
const migrationSeriesBatch = 64

func chunksMigration(d Dialect) *goose.Migration {
	return goose.NewGoMigration(chunksVersion,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return chunksUp(ctx, tx, d) }},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return chunksDown(ctx, tx, d) }})
}

// seriesBatches calls fn with the ids of all series, a batch at a time.
func seriesBatches(ctx context.Context, tx *sql.Tx, fn func([]any) error) error {
	after := int64(math.MinInt64)
	for {
		var ids []any
		rows, err := tx.QueryContext(ctx, `SELECT id FROM tracking_latest_metrics WHERE id > $1 ORDER BY id LIMIT $2`, after, migrationSeriesBatch)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := rows.Scan(&after); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, after)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		if err := fn(ids); err != nil {
			return err
		}
	}
}

func chunksUp(ctx context.Context, tx *sql.Tx, d Dialect) error {
	if _, err := tx.ExecContext(ctx, chunksDDL[d]); err != nil {
		return fmt.Errorf("create tracking_metric_chunks: %w", err)
	}
	err := seriesBatches(ctx, tx, func(ids []any) error {
		bySeries := map[int64][]point{}
		rows, err := tx.QueryContext(ctx, `SELECT series_id, step, timestamp, value, is_nan FROM tracking_metrics WHERE series_id IN `+
			placeholders(1, len(ids), 1), ids...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var p point
			var v sql.NullFloat64
			var isNaN bool
			if err := rows.Scan(&id, &p.step, &p.ts, &v, &isNaN); err != nil {
				rows.Close()
				return err
			}
			p.v = metricValue(v, isNaN)
			bySeries[id] = append(bySeries[id], p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var chunks []chunkRow
		for _, id := range ids {
			pts := bySeries[id.(int64)]
			slices.SortFunc(pts, cmpPoint)
			seq := int64(1)
			chunks = append(chunks, makeChunks(id.(int64), pts, seq, func() int64 { seq++; return seq })...)
		}
		for len(chunks) > 0 {
			part := chunks[:min(len(chunks), 32)]
			chunks = chunks[len(part):]
			args := make([]any, 0, 6*len(part))
			for _, c := range part {
				args = append(args, c.series, c.firstStep, c.seq, c.lastStep, c.points, c.data)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_metric_chunks (series_id, first_step, seq, last_step, points, data) VALUES `+
				placeholders(len(part), 6, 1), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("convert metric points to chunks: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tracking_latest_metrics SET chunk_seq = (SELECT COUNT(*) FROM tracking_metric_chunks WHERE series_id = tracking_latest_metrics.id)`); err != nil {
		return fmt.Errorf("number chunks: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE tracking_metrics`); err != nil {
		return fmt.Errorf("drop tracking_metrics: %w", err)
	}
	return nil
}

// chunksDown puts the points back into tracking_metrics.
func chunksDown(ctx context.Context, tx *sql.Tx, d Dialect) error {
	if _, err := tx.ExecContext(ctx, pointsDDL[d]); err != nil {
		return fmt.Errorf("create tracking_metrics: %w", err)
	}
	err := seriesBatches(ctx, tx, func(ids []any) error {
		var pts []point
		var series []int64
		rows, err := tx.QueryContext(ctx, `SELECT series_id, data FROM tracking_metric_chunks WHERE series_id IN `+placeholders(1, len(ids), 1), ids...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var data []byte
			if err := rows.Scan(&id, &data); err != nil {
				rows.Close()
				return err
			}
			n := len(pts)
			if pts, err = decodeChunk(pts, data); err != nil {
				rows.Close()
				return err
			}
			for range len(pts) - n {
				series = append(series, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := 0; i < len(pts); i += 100 {
			n := min(len(pts)-i, 100)
			args := make([]any, 0, 5*n)
			for j := i; j < i+n; j++ {
				v, isNaN := storedValue(pts[j].v)
				args = append(args, series[j], pts[j].step, pts[j].ts, v, isNaN)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_metrics (series_id, step, timestamp, value, is_nan) VALUES `+placeholders(n, 5, 1), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("convert metric chunks to points: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE tracking_metric_chunks`); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `ALTER TABLE tracking_latest_metrics DROP COLUMN chunk_seq`)
	return err
}
