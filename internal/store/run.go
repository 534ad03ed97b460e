package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/tracking"
)

var _ tracking.Store = (*DB)(nil)

// CreateRun reads the experiment, then inserts the run build makes, its
// tags and item links, all in one transaction (see tracking.Store).
func (db *DB) CreateRun(ctx context.Context, projectID string, expID int64, build tracking.BuildRun) error {
	// The experiment is read inside the write transaction, on the writer
	// connection: a read-pool connection would first have to notice the
	// previous request's commit and drop its page cache, which made this
	// one lookup cost as much as the insert.
	where, arg := `e.project_id = $1 AND e.id = $2`, any(expID)
	if expID == 0 {
		where, arg = `e.project_id = $1 AND e.name = $2`, tracking.DefaultExperimentName
	}
	defer db.afterTrackingWrite()
	return db.tx(ctx, func(tx *sql.Tx) error {
		e, err := scanExperiment(tx.QueryRowContext(ctx, `SELECT `+experimentColumns+` FROM tracking_experiments e WHERE `+where, projectID, arg))
		if err != nil {
			return mapErr(err, "Experiment")
		}
		r, links, err := build(e)
		if err != nil {
			return err
		}
		i := r.Info
		if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_runs (id, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, i.ID, i.ExperimentID, i.Name, i.UserID, i.Status, i.StartTime, i.EndTime, i.LifecycleStage, i.ArtifactURI); err != nil {
			return mapErr(err, "Run")
		}
		if err := upsertTags(ctx, tx, i.ID, r.Tags); err != nil {
			return err
		}
		return linkRunItems(ctx, tx, links)
	})
}

func upsertTags(ctx context.Context, tx execer, runID string, tags []tracking.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(tags))
	for _, t := range tags {
		args = append(args, runID, t.Key, t.Value)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO tracking_run_tags (run_id, key, value) VALUES `+placeholders(len(tags), 3, 1)+
		` ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`, args...)
	return mapErr(err, "Run tag")
}

const runColumns = `r.id, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time, r.lifecycle_stage, r.artifact_uri`

// scanRun reads the runColumns of a row, then any extra columns into extra.
func scanRun(row interface{ Scan(...any) error }, extra ...any) (*tracking.Run, error) {
	var r tracking.Run
	var end sql.NullInt64
	i := &r.Info
	if err := row.Scan(append([]any{&i.ID, &i.ExperimentID, &i.Name, &i.UserID, &i.Status, &i.StartTime, &end, &i.LifecycleStage, &i.ArtifactURI}, extra...)...); err != nil {
		return nil, err
	}
	if end.Valid {
		i.EndTime = &end.Int64
	}
	return &r, nil
}

// touchRunSQL raises a run's data_version, the label of the copies of its
// data in the run data cache (rundata.go), in the transaction that changes
// the data, and returns the run as that transaction sees it.
const touchRunSQL = `UPDATE tracking_runs SET data_version = data_version + 1
	WHERE id = $1 AND experiment_id IN (SELECT id FROM tracking_experiments WHERE project_id = $2)
	RETURNING id, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri`

// touchedRun is a run as a batch's transaction read it (touchRunSQL) and
// the batch's write function changed it: whether its info is to be saved
// (saveRunSQL), and the item links to add.
type touchedRun struct {
	info    *tracking.RunInfo
	changed bool
	links   []tracking.ItemLink
}

// touchRun reads the run touchRunSQL returned and hands it to write (see
// tracking.Store.LogBatch), whose error it returns; a missing run is
// ENOTFOUND.
func touchRun(row interface{ Scan(...any) error }, write func(*tracking.RunInfo) ([]tracking.ItemLink, error)) (*touchedRun, error) {
	r, err := scanRun(row)
	if err != nil {
		return nil, mapErr(err, "Run")
	}
	i := &r.Info
	name, status, end := i.Name, i.Status, endValue(i.EndTime)
	links, err := write(i)
	if err != nil {
		return nil, err
	}
	changed := i.Name != name || i.Status != status || endValue(i.EndTime) != end
	return &touchedRun{info: i, changed: changed, links: links}, nil
}

// endValue tells an end time apart from another, and from none.
func endValue(end *int64) [2]int64 {
	if end == nil {
		return [2]int64{}
	}
	return [2]int64{1, *end}
}

// saveRunSQL saves what a batch's write function may change of its run, in
// the batch's transaction.
const saveRunSQL = `UPDATE tracking_runs SET name = $1, status = $2, end_time = $3 WHERE id = $4`

func saveRunArgs(i *tracking.RunInfo) []any { return []any{i.Name, i.Status, i.EndTime, i.ID} }

// FindRun returns a run of a project with its data. Errors: ENOTFOUND.
func (db *DB) FindRun(ctx context.Context, projectID, runID string) (*tracking.Run, error) {
	info, err := db.FindRunInfo(ctx, projectID, runID)
	if err != nil {
		return nil, err
	}
	r := &tracking.Run{Info: *info}
	return r, db.loadRunData(ctx, []*tracking.Run{r})
}

// FindRunInfo returns a run of a project without its data. Errors: ENOTFOUND.
func (db *DB) FindRunInfo(ctx context.Context, projectID, runID string) (*tracking.RunInfo, error) {
	r, err := scanRun(db.read.QueryRowContext(ctx, `SELECT `+runColumns+` FROM tracking_runs r
		JOIN tracking_experiments e ON e.id = r.experiment_id WHERE r.id = $1 AND e.project_id = $2`, runID, projectID))
	if err != nil {
		return nil, mapErr(err, "Run")
	}
	return &r.Info, nil
}

// loadRunData fills params, tags and latest metrics of runs, in key order,
// with one query whose only argument is the list of run ids as a JSON array,
// so a page of runs costs one parse instead of three with a placeholder per
// run (SQLite; PostgreSQL keeps loadRunDataLists).
func (db *DB) loadRunData(ctx context.Context, runs []*tracking.Run) error {
	if len(runs) == 0 {
		return nil
	}
	if db.dialect != SQLite {
		return db.loadRunDataLists(ctx, runs)
	}
	byID := make(map[string]*tracking.Run, len(runs))
	ids := make([]string, 0, len(runs))
	for _, r := range runs {
		byID[r.Info.ID] = r
		ids = append(ids, r.Info.ID)
	}
	j, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	arg, in := string(j), "IN (SELECT value FROM json_each($1))"
	query := `SELECT 0, run_id, key, value, CAST(NULL AS DOUBLE PRECISION), FALSE, 0, 0 FROM tracking_params WHERE run_id ` + in + `
		UNION ALL SELECT 1, run_id, key, value, CAST(NULL AS DOUBLE PRECISION), FALSE, 0, 0 FROM tracking_run_tags WHERE run_id ` + in + `
		UNION ALL SELECT 2, run_id, key, CAST(NULL AS TEXT), value, is_nan, timestamp, step FROM tracking_latest_metrics WHERE run_id ` + in
	err = db.eachRow(ctx, query, []any{arg}, func(rows *sql.Rows) error {
		var kind int
		var id, key string
		var text sql.NullString
		var v sql.NullFloat64
		var isNaN bool
		var ts, step int64
		if err := rows.Scan(&kind, &id, &key, &text, &v, &isNaN, &ts, &step); err != nil {
			return err
		}
		r := byID[id]
		switch kind {
		case 0:
			r.Params = append(r.Params, tracking.Param{Key: key, Value: text.String})
		case 1:
			r.Tags = append(r.Tags, tracking.Tag{Key: key, Value: text.String})
		default:
			r.Metrics = append(r.Metrics, tracking.Metric{Key: key, Value: metricValue(v, isNaN), Timestamp: ts, Step: step})
		}
		return nil
	})
	if err != nil {
		return mapErr(err, "Run data")
	}
	for _, r := range runs {
		slices.SortFunc(r.Params, func(a, b tracking.Param) int { return strings.Compare(a.Key, b.Key) })
		slices.SortFunc(r.Tags, func(a, b tracking.Tag) int { return strings.Compare(a.Key, b.Key) })
		slices.SortFunc(r.Metrics, func(a, b tracking.Metric) int { return strings.Compare(a.Key, b.Key) })
	}
	return nil
}

// loadRunDataLists is loadRunData on PostgreSQL: three queries with a
// placeholder per run. The one-query form with an array argument measured
// slower there over HTTP on tables without statistics yet (p50 23 ms against
// 15 ms at 2,000 runs), though faster once analyzed (store benchmark).
func (db *DB) loadRunDataLists(ctx context.Context, runs []*tracking.Run) error {
	byID := make(map[string]*tracking.Run, len(runs))
	ids := make([]any, 0, len(runs))
	for _, r := range runs {
		byID[r.Info.ID] = r
		ids = append(ids, r.Info.ID)
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		in := placeholders(1, len(chunk), 1)
		err := db.eachRow(ctx, `SELECT run_id, key, value FROM tracking_params WHERE run_id IN `+in+` ORDER BY run_id, key`, chunk, func(rows *sql.Rows) error {
			var id string
			var p tracking.Param
			if err := rows.Scan(&id, &p.Key, &p.Value); err != nil {
				return err
			}
			byID[id].Params = append(byID[id].Params, p)
			return nil
		})
		if err != nil {
			return mapErr(err, "Params")
		}
		err = db.eachRow(ctx, `SELECT run_id, key, value FROM tracking_run_tags WHERE run_id IN `+in+` ORDER BY run_id, key`, chunk, func(rows *sql.Rows) error {
			var id string
			var t tracking.Tag
			if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
				return err
			}
			byID[id].Tags = append(byID[id].Tags, t)
			return nil
		})
		if err != nil {
			return mapErr(err, "Tags")
		}
		err = db.eachRow(ctx, `SELECT run_id, key, value, is_nan, timestamp, step FROM tracking_latest_metrics WHERE run_id IN `+in+` ORDER BY run_id, key`, chunk, func(rows *sql.Rows) error {
			var id string
			var m tracking.Metric
			var v sql.NullFloat64
			var isNaN bool
			if err := rows.Scan(&id, &m.Key, &v, &isNaN, &m.Timestamp, &m.Step); err != nil {
				return err
			}
			m.Value = metricValue(v, isNaN)
			byID[id].Metrics = append(byID[id].Metrics, m)
			return nil
		})
		if err != nil {
			return mapErr(err, "Metrics")
		}
	}
	return nil
}

func metricValue(v sql.NullFloat64, isNaN bool) float64 {
	if isNaN || !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// storedValue splits a metric value into the nullable column and the NaN
// flag: SQLite cannot store NaN (it reads back as NULL).
func storedValue(v float64) (any, bool) {
	if math.IsNaN(v) {
		return nil, true
	}
	return v, false
}

// UpdateRun saves a run's name, status, end time and lifecycle stage.
// Errors: ENOTFOUND.
func (db *DB) UpdateRun(ctx context.Context, i *tracking.RunInfo) error {
	res, err := db.write.ExecContext(ctx, `UPDATE tracking_runs SET name = $1, status = $2, end_time = $3, lifecycle_stage = $4,
		deleted_time = CASE WHEN $5 = 'deleted' THEN COALESCE(deleted_time, $6) ELSE NULL END WHERE id = $7`,
		i.Name, i.Status, i.EndTime, i.LifecycleStage, i.LifecycleStage, ms(time.Now()), i.ID)
	return affected(res, err, "Run")
}

// DeleteRunTag removes a run tag. Errors: ENOTFOUND.
func (db *DB) DeleteRunTag(ctx context.Context, runID, key string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tracking_run_tags WHERE run_id = $1 AND key = $2`, runID, key)
		if err := affected(res, err, "Tag"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE tracking_runs SET data_version = data_version + 1 WHERE id = $1`, runID)
		return err
	})
}

// FindRunIDsByTag returns the ids of at most limit active runs of an
// experiment holding the tag key with exactly value, read from the tag index
// (key, value) and joined to the runs. The run page finds nested runs this
// way: a search for the tag walks every run of the experiment when none
// match, 1.3 s per page at 100,000 runs.
func (db *DB) FindRunIDsByTag(ctx context.Context, experimentID int64, key, value string, limit int) ([]string, error) {
	var ids []string
	// CROSS JOIN keeps SQLite from driving the join from the runs of the
	// experiment in start-time order, which spares the sort but visits every
	// run (280 ms at 100,000); PostgreSQL plans it freely.
	err := db.eachRow(ctx, `SELECT t.run_id FROM tracking_run_tags t CROSS JOIN tracking_runs r
		WHERE r.id = t.run_id AND t.key = $1 AND t.value = $2 AND r.experiment_id = $3 AND r.lifecycle_stage = 'active'
		ORDER BY r.start_time DESC, r.id LIMIT $4`,
		[]any{key, value, experimentID, limit}, func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			ids = append(ids, id)
			return err
		})
	return ids, mapErr(err, "Run")
}
