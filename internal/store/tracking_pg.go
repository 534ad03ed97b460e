package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// logBatchPostgres is LogBatch's PostgreSQL hot path: the whole batch runs
// in one transaction on the native pgx connection, so that the points go
// in through COPY (CopyFrom) instead of an INSERT.
func (db *DB) logBatchPostgres(ctx context.Context, runID string, b tracking.Batch) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("log batch: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("log batch: unexpected driver connection %T", dc)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if err := pgLogParams(ctx, tx, runID, b.Params); err != nil {
			return err
		}
		if len(b.Tags) > 0 {
			keys, vals := make([]string, len(b.Tags)), make([]string, len(b.Tags))
			for i, t := range b.Tags {
				keys[i], vals[i] = t.Key, t.Value
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tracking_run_tags (run_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)
				ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`, runID, keys, vals); err != nil {
				return mapErr(err, "Run tag")
			}
		}
		if len(b.Metrics) > 0 {
			latest, order := latestPoints(b.Metrics)
			series := make(map[string]int64, len(order))
			for _, k := range order {
				m := latest[k]
				v, isNaN := storedValue(m.Value)
				var id int64
				if err := tx.QueryRow(ctx, upsertSeries, runID, k, v, isNaN, m.Timestamp, m.Step).Scan(&id); err != nil {
					return mapErr(err, "Metric")
				}
				series[k] = id
			}
			rows := make([][]any, len(b.Metrics))
			for i, m := range b.Metrics {
				v, isNaN := storedValue(m.Value)
				rows[i] = []any{series[m.Key], m.Step, m.Timestamp, v, isNaN}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"tracking_metrics"}, []string{"series_id", "step", "timestamp", "value", "is_nan"},
				pgx.CopyFromRows(rows)); err != nil {
				return mapErr(err, "Metric")
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
}

func pgLogParams(ctx context.Context, tx pgx.Tx, runID string, ps []tracking.Param) error {
	if len(ps) == 0 {
		return nil
	}
	keys, vals := make([]string, len(ps)), make([]string, len(ps))
	want := make(map[string]string, len(ps))
	for i, p := range ps {
		keys[i], vals[i] = p.Key, p.Value
		want[p.Key] = p.Value
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tracking_params (run_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)
		ON CONFLICT (run_id, key) DO NOTHING`, runID, keys, vals); err != nil {
		return mapErr(err, "Param")
	}
	rows, err := tx.Query(ctx, `SELECT key, value FROM tracking_params WHERE run_id = $1 AND key = ANY($2::text[])`, runID, keys)
	if err != nil {
		return mapErr(err, "Params")
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return mapErr(err, "Params")
		}
		if v != want[k] {
			return trellis.Invalid("params", "Changing param values is not allowed. Param with key='%s' was already logged with value='%s' for run ID='%s'. Attempted logging new value '%s'.", k, v, runID, want[k])
		}
	}
	return mapErr(rows.Err(), "Params")
}
