package store

import (
	"context"
	"database/sql"
	"math"
	"strings"

	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// LogBatch writes a batch in one transaction: the run as write changed it
// (name, status, end time), params (a conflicting value aborts everything),
// then tags, then for each metric key the series row with its latest point,
// then the points as chunks (history.go) and their rollup blocks
// (chart.go), and last the item links write returned.
func (db *DB) LogBatch(ctx context.Context, projectID, runID string, write func(*tracking.RunInfo) ([]tracking.ItemLink, error), b tracking.Batch) error {
	if db.dialect == Postgres {
		return db.logBatchPostgres(ctx, projectID, runID, write, b)
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		run, err := touchRun(tx.QueryRowContext(ctx, touchRunSQL, runID, projectID), write)
		if err != nil {
			return err
		}
		if run.changed {
			if _, err := tx.ExecContext(ctx, saveRunSQL, saveRunArgs(run.info)...); err != nil {
				return mapErr(err, "Run")
			}
		}
		if err := logParams(ctx, tx, runID, b.Params); err != nil {
			return err
		}
		if err := upsertTags(ctx, tx, runID, b.Tags); err != nil {
			return err
		}
		if err := db.logMetrics(ctx, tx, run.info, b.Metrics); err != nil {
			return err
		}
		return linkRunItems(ctx, tx, run.links)
	})
}

func logParams(ctx context.Context, tx execer, runID string, ps []tracking.Param) error {
	if len(ps) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(ps))
	keys := make([]any, 0, len(ps)+1)
	keys = append(keys, runID)
	for _, p := range ps {
		args = append(args, runID, p.Key, p.Value)
		keys = append(keys, p.Key)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_params (run_id, key, value) VALUES `+placeholders(len(ps), 3, 1)+
		` ON CONFLICT (run_id, key) DO NOTHING`, args...); err != nil {
		return mapErr(err, "Param")
	}
	rows, err := tx.QueryContext(ctx, `SELECT key, value FROM tracking_params WHERE run_id = $1 AND key IN `+placeholders(1, len(ps), 2), keys...)
	if err != nil {
		return mapErr(err, "Params")
	}
	defer rows.Close()
	return refuseChangedParams(rows, runID, ps)
}

// storedRows is what reading the stored params returns on either dialect:
// *sql.Rows on SQLite, pgx.Rows on PostgreSQL's hot path.
type storedRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// refuseChangedParams is MLflow's rule that a param cannot change, for both
// dialects. After a batch's params are inserted with ON CONFLICT DO NOTHING,
// rows reads back the stored (key, value) of the batch's keys: any key whose
// stored value differs was logged before with another value, and the whole
// batch is refused with MLflow's message naming the old and new values.
func refuseChangedParams(rows storedRows, runID string, ps []tracking.Param) error {
	want := make(map[string]string, len(ps))
	for _, p := range ps {
		want[p.Key] = p.Value
	}
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

// newer reports whether point a comes after b in MLflow's latest-metric
// order: greater step, then greater timestamp, then greater value.
func newer(a, b tracking.Metric) bool {
	if a.Step != b.Step {
		return a.Step > b.Step
	}
	if a.Timestamp != b.Timestamp {
		return a.Timestamp > b.Timestamp
	}
	return a.Value > b.Value || math.IsNaN(b.Value)
}

// latestPoints returns each key's latest point of a batch, and the keys in
// first-seen order.
func latestPoints(ms []tracking.Metric) (map[string]tracking.Metric, []string) {
	latest := map[string]tracking.Metric{}
	var order []string
	for _, m := range ms {
		l, ok := latest[m.Key]
		if !ok {
			order = append(order, m.Key)
		}
		if !ok || newer(m, l) {
			latest[m.Key] = m
		}
	}
	return latest, order
}

// upsertSeriesSet is the ON CONFLICT part of the series upsert: the stored
// latest point is replaced only by a newer one, and the batch reserves the
// chunk seqs it may use (history.go).
const upsertSeriesSet = `
ON CONFLICT (run_id, key) DO UPDATE SET
  value     = CASE WHEN ` + seriesNewer + ` THEN excluded.value ELSE l.value END,
  is_nan    = CASE WHEN ` + seriesNewer + ` THEN excluded.is_nan ELSE l.is_nan END,
  timestamp = CASE WHEN ` + seriesNewer + ` THEN excluded.timestamp ELSE l.timestamp END,
  step      = CASE WHEN ` + seriesNewer + ` THEN excluded.step ELSE l.step END,
  chunk_seq = l.chunk_seq + excluded.chunk_seq
RETURNING key, id, chunk_seq`

// scanSeries reads the rows of the series upsert (upsertSeriesSet's
// RETURNING) into each key's series id and the end of its reserved seqs.
func scanSeries(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}, series, seqEnd map[string]int64) error {
	for rows.Next() {
		var k string
		var id, seq int64
		if err := rows.Scan(&k, &id, &seq); err != nil {
			return err
		}
		series[k], seqEnd[k] = id, seq
	}
	return rows.Err()
}

const seriesNewer = `(excluded.step > l.step OR (excluded.step = l.step AND excluded.timestamp >= l.timestamp))`

// maxSeriesRows bounds the keys of one series upsert statement.
const maxSeriesRows = 128

// pow2Chunk returns the size of the next chunk of n rows: the largest power
// of two not above n or max. Statements of a few fixed shapes stay in the
// connection's statement cache (stmtcache.go) whatever the batch size.
func pow2Chunk(n, max int) int {
	c := 1
	for c*2 <= n && c*2 <= max {
		c *= 2
	}
	return c
}

func (db *DB) logMetrics(ctx context.Context, tx *sql.Tx, run *tracking.RunInfo, ms []tracking.Metric) error {
	if len(ms) == 0 {
		return nil
	}
	runID := run.ID
	latest, order := latestPoints(ms)
	byKey, keys := seriesPoints(ms)
	series := make(map[string]int64, len(order))
	seqEnd := make(map[string]int64, len(order))
	// One upsert for all keys of the batch (per chunk), returning each
	// key's series id: a statement per key made a batch of 10 metrics
	// 10 statements.
	for len(order) > 0 {
		part := order[:min(len(order), maxSeriesRows)]
		order = order[len(part):]
		args := make([]any, 0, 8*len(part))
		for _, k := range part {
			m := latest[k]
			v, isNaN := storedValue(m.Value)
			args = append(args, runID, run.ExperimentID, k, v, isNaN, m.Timestamp, m.Step, reservedSeqs(len(byKey[k])))
		}
		query := `INSERT INTO tracking_latest_metrics AS l (run_id, experiment_id, key, value, is_nan, timestamp, step, chunk_seq) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", len(part)), ", ") + upsertSeriesSet
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return mapErr(err, "Metric")
		}
		err = scanSeries(rows, series, seqEnd)
		rows.Close()
		if err != nil {
			return mapErr(err, "Metric")
		}
	}
	var chunks []chunkRow
	for _, k := range keys {
		pts := byKey[k]
		var tail *tailChunk
		if needsTail(len(pts), seqEnd[k]) {
			var err error
			if tail, err = readTail(ctx, tx, series[k]); err != nil {
				return mapErr(err, "Metric")
			}
		}
		chunks = append(chunks, planChunks(series[k], pts, tail, seqEnd[k])...)
	}
	if err := writeChunksSQLite(ctx, tx, chunks); err != nil {
		return err
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = series[m.Key]
	}
	blocks, aggs := blockRollup(ids, ms)
	return upsertBlocksSQLite(ctx, tx, blocks, aggs)
}
