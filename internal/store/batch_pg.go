package store

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/trellisml/trellis/internal/tracking"
)

// logBatchPostgres is LogBatch's PostgreSQL hot path: the whole batch runs
// in one transaction on the native pgx connection, so that array arguments
// (unnest) make each step one statement whatever the batch size.
func (db *DB) logBatchPostgres(ctx context.Context, projectID, runID string, write func(*tracking.RunInfo) ([]tracking.ItemLink, error), b tracking.Batch) error {
	defer db.afterTrackingWrite()
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
		run, err := touchRun(tx.QueryRow(ctx, touchRunSQL, runID, projectID), write)
		if err != nil {
			return err
		}
		if run.changed {
			if _, err := tx.Exec(ctx, saveRunSQL, saveRunArgs(run.info)...); err != nil {
				return mapErr(err, "Run")
			}
		}
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
			if err := pgLogMetrics(ctx, tx, run.info, b.Metrics); err != nil {
				return err
			}
		}
		if len(run.links) > 0 {
			query, args := linkRunItemsSQL(run.links)
			if _, err := tx.Exec(ctx, query, args...); err != nil {
				return mapErr(err, "Link")
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
	for i, p := range ps {
		keys[i], vals[i] = p.Key, p.Value
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
	return refuseChangedParams(rows, runID, ps)
}

// pgLogMetrics is logMetrics on PostgreSQL, a round trip per step: the
// series upsert, the last chunks of the series with few new points, the
// chunks, the rollup blocks.
func pgLogMetrics(ctx context.Context, tx pgx.Tx, run *tracking.RunInfo, ms []tracking.Metric) error {
	runID := run.ID
	latest, order := latestPoints(ms)
	byKey, _ := seriesPoints(ms)
	keys, steps, stamps := make([]string, len(order)), make([]int64, len(order)), make([]int64, len(order))
	vals, nans, reserved := make([]*float64, len(order)), make([]bool, len(order)), make([]int64, len(order))
	for i, k := range order {
		m := latest[k]
		keys[i], steps[i], stamps[i], reserved[i] = k, m.Step, m.Timestamp, reservedSeqs(len(byKey[k]))
		if math.IsNaN(m.Value) {
			nans[i] = true
		} else {
			vals[i] = &m.Value
		}
	}
	rows, err := tx.Query(ctx, `INSERT INTO tracking_latest_metrics AS l (run_id, experiment_id, key, value, is_nan, timestamp, step, chunk_seq)
		SELECT $1, $8, k, v, n, t, s, c FROM unnest($2::text[], $3::float8[], $4::bool[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u(k, v, n, t, s, c)`+
		upsertSeriesSet, runID, keys, vals, nans, stamps, steps, reserved, run.ExperimentID)
	if err != nil {
		return mapErr(err, "Metric")
	}
	series := make(map[string]int64, len(order))
	seqEnd := make(map[string]int64, len(order))
	err = scanSeries(rows, series, seqEnd)
	rows.Close()
	if err != nil {
		return mapErr(err, "Metric")
	}
	var few []int64
	for _, k := range order {
		if needsTail(len(byKey[k]), seqEnd[k]) {
			few = append(few, series[k])
		}
	}
	tails := map[int64]*tailChunk{}
	if len(few) > 0 {
		rows, err := tx.Query(ctx, pgTailChunks, few)
		if err != nil {
			return mapErr(err, "Metric")
		}
		for rows.Next() {
			var id int64
			var t tailChunk
			var data []byte
			if err := rows.Scan(&id, &t.seq, &data); err != nil {
				rows.Close()
				return mapErr(err, "Metric")
			}
			if data != nil {
				if t.pts, err = decodeChunk(nil, data); err != nil {
					rows.Close()
					return mapErr(err, "Metric")
				}
				tails[id] = &t
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err, "Metric")
		}
	}
	var chunks []chunkRow
	for _, k := range order {
		id := series[k]
		chunks = append(chunks, planChunks(id, byKey[k], tails[id], seqEnd[k])...)
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = series[m.Key]
	}
	// The chunks and the blocks in one round trip.
	var batch pgx.Batch
	batch.Queue(pgWriteChunks, pgChunkArgs(chunks)...)
	if blocks, aggs := blockRollup(ids, ms); len(blocks) > 0 {
		batch.Queue(pgUpsertBlocks, pgBlockArgs(blocks, aggs)...)
	}
	br := tx.SendBatch(ctx, &batch)
	for range batch.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return mapErr(err, "Metric")
		}
	}
	return mapErr(br.Close(), "Metric")
}
