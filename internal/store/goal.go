package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/trellis"
)

var _ goal.GoalStore = (*DB)(nil)

const goalColumns = `g.id, g.project_id, COALESCE(g.item_id, ''), COALESCE(i.number, 0), g.position, g.metric, g.comparator,
	g.threshold, g.class, g.slice, g.dataset, g.dataset_version, g.runs_experiment, g.runs_tag_key, g.runs_tag_value, g.note,
	g.created_by, g.created_at, g.updated_at`

const goalFrom = ` FROM goals g LEFT JOIN items i ON i.id = g.item_id`

func scanGoal(row interface{ Scan(...any) error }) (*goal.StoredGoal, error) {
	var g goal.StoredGoal
	var created, updated int64
	var tagKey, tagValue string
	if err := row.Scan(&g.ID, &g.ProjectID, &g.ItemID, &g.ItemNumber, &g.Position, &g.Metric, &g.Comparator, &g.Threshold,
		&g.Class, &g.Slice, &g.Dataset, &g.DatasetVersion, &g.Experiment, &tagKey, &tagValue, &g.Note, &g.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	if tagKey != "" {
		g.RunTag = tagKey + "=" + tagValue
	}
	g.CreatedAt, g.UpdatedAt = tm(created), tm(updated)
	return &g, nil
}

// FindItemRef returns the id and number of a project's item, which goals
// and specs are attached to. Errors: ENOTFOUND.
func (db *DB) FindItemRef(ctx context.Context, projectID string, number int64) (*goal.ItemRef, error) {
	var it goal.ItemRef
	err := db.read.QueryRowContext(ctx, `SELECT id, number FROM items WHERE project_id = $1 AND number = $2`, projectID, number).Scan(&it.ID, &it.Number)
	if err != nil {
		return nil, mapErr(err, "Item")
	}
	return &it, nil
}

// CreateGoal inserts g after the last goal of its item (or of its
// project's own goals), setting g.Position. Two concurrent adds may share
// a position; the id then orders them.
func (db *DB) CreateGoal(ctx context.Context, g *goal.StoredGoal) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		tagKey, tagValue := g.Goal.RunTagPair()
		err := tx.QueryRowContext(ctx, `INSERT INTO goals (id, project_id, item_id, position, metric, comparator, threshold, class, slice,
			dataset, dataset_version, runs_experiment, runs_tag_key, runs_tag_value, note, metric_key, created_by, created_at, updated_at)
			SELECT $1, $2, $3, COALESCE(MAX(position), 0) + 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18
			FROM goals WHERE project_id = $2 AND (item_id = $3 OR (item_id IS NULL AND $3 IS NULL))
			RETURNING position`,
			g.ID, g.ProjectID, nullable(g.ItemID), g.Metric, string(g.Comparator), g.Threshold, g.Class, g.Slice,
			g.Dataset, g.DatasetVersion, g.Experiment, tagKey, tagValue, g.Note, g.Goal.MetricKey(), g.CreatedBy, ms(g.CreatedAt), ms(g.UpdatedAt)).Scan(&g.Position)
		return mapErr(err, "Goal")
	})
}

// FindGoal returns a goal of a project. Errors: ENOTFOUND.
func (db *DB) FindGoal(ctx context.Context, projectID, id string) (*goal.StoredGoal, error) {
	g, err := scanGoal(db.read.QueryRowContext(ctx, `SELECT `+goalColumns+goalFrom+` WHERE g.project_id = $1 AND g.id = $2`, projectID, id))
	return g, mapErr(err, "Goal")
}

// goalWhere is the WHERE clause of a goal filter over goals g and their
// items i.
func goalWhere(f goal.GoalFilter) (string, []any) {
	where, args := ` WHERE g.project_id = $1`, []any{f.ProjectID}
	switch {
	case f.ItemID != "":
		where += ` AND g.item_id = $2`
		args = append(args, f.ItemID)
	case f.Level == goal.ItemGoals:
		where += ` AND g.item_id IS NOT NULL`
	case f.Level == goal.ProjectGoals:
		where += ` AND g.item_id IS NULL`
	}
	if f.SprintID != "" {
		args = append(args, f.SprintID)
		where += ` AND i.sprint_id = $` + strconv.Itoa(len(args))
	}
	if f.Kind != "" {
		args = append(args, string(f.Kind))
		where += ` AND i.kind = $` + strconv.Itoa(len(args))
	}
	return where, args
}

// FindGoals lists the goals f selects, project goals first, then by item
// number, each list in its order.
func (db *DB) FindGoals(ctx context.Context, f goal.GoalFilter) ([]*goal.StoredGoal, error) {
	where, args := goalWhere(f)
	rows, err := db.read.QueryContext(ctx, `SELECT `+goalColumns+goalFrom+where+` ORDER BY COALESCE(i.number, 0), g.position, g.id`, args...)
	if err != nil {
		return nil, mapErr(err, "Goals")
	}
	defer rows.Close()
	gs := []*goal.StoredGoal{}
	for rows.Next() {
		g, err := scanGoal(rows)
		if err != nil {
			return nil, mapErr(err, "Goals")
		}
		gs = append(gs, g)
	}
	return gs, mapErr(rows.Err(), "Goals")
}

// UpdateGoal saves a goal's criterion and note. Errors: ENOTFOUND.
func (db *DB) UpdateGoal(ctx context.Context, g *goal.StoredGoal) error {
	tagKey, tagValue := g.Goal.RunTagPair()
	res, err := db.write.ExecContext(ctx, `UPDATE goals SET metric = $1, comparator = $2, threshold = $3, class = $4, slice = $5,
		dataset = $6, dataset_version = $7, runs_experiment = $8, runs_tag_key = $9, runs_tag_value = $10, note = $11, metric_key = $12,
		updated_at = $13 WHERE project_id = $14 AND id = $15`,
		g.Metric, string(g.Comparator), g.Threshold, g.Class, g.Slice, g.Dataset, g.DatasetVersion, g.Experiment, tagKey, tagValue,
		g.Note, g.Goal.MetricKey(), ms(g.UpdatedAt), g.ProjectID, g.ID)
	return affected(res, err, "Goal")
}

// DeleteGoal removes a goal. Errors: ENOTFOUND.
func (db *DB) DeleteGoal(ctx context.Context, projectID, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM goals WHERE project_id = $1 AND id = $2`, projectID, id)
	return affected(res, err, "Goal")
}

// activeRuns joins a link l to its run r and the run's tracking experiment
// e, keeping only runs and experiments that are not deleted.
const activeRuns = ` JOIN tracking_runs r ON r.id = l.run_id AND r.lifecycle_stage = 'active'
	JOIN tracking_experiments e ON e.id = r.experiment_id AND e.lifecycle_stage = 'active'`

// The queries below are built once from these rules (package variables
// only because Go constants cannot call functions; nothing changes them).

// goalDatasetRule is the SQL projection of goal.Goal.UsedBy over goals g:
// with a dataset, only runs (the run id column named by run) that logged
// an input of that name — and of the goal's version as digest or
// "version" input tag — count. storetest's randomized goal test keeps the
// two in step.
func goalDatasetRule(run string) string {
	return ` AND (g.dataset = '' OR EXISTS (SELECT 1 FROM tracking_run_inputs ri JOIN tracking_datasets d ON d.id = ri.dataset_id
		WHERE ri.run_id = ` + run + ` AND d.name = g.dataset AND (g.dataset_version = '' OR d.digest = g.dataset_version
		OR EXISTS (SELECT 1 FROM tracking_input_tags t WHERE t.input_id = ri.id AND t.key = 'version' AND t.value = g.dataset_version))))`
}

// goalRunsRule is the SQL projection of goal.Goal.Chooses over goals g,
// for the run r (or r2) of experiment e: the goal's experiment, when it
// names one, and its run tag, when it names one. A project goal that names
// neither judges no run (goal.Goal.ChoosesRuns).
func goalRunsRule(run string) string {
	return ` AND (g.runs_experiment = '' OR e.name = g.runs_experiment) AND (g.runs_tag_key = '' OR EXISTS (SELECT 1 FROM tracking_run_tags rt
		WHERE rt.run_id = ` + run + ` AND rt.key = g.runs_tag_key AND rt.value = g.runs_tag_value))`
}

// finishedRunsDecide is the SQL projection of goal.FinishedRunsDecide over
// the run column named by status.
func finishedRunsDecide(status string) string {
	return ` AND ` + status + ` NOT IN ('RUNNING', 'SCHEDULED')`
}

// goalObservations joins the item goals a WHERE clause over g selects to
// their items' run links (by the key the link holds, PROJECT-NUMBER), the
// active runs and each run's latest value of the goal's metric key. The
// tables are listed in the order to visit them and joined with CROSS JOIN,
// which SQLite takes as a fixed order (PostgreSQL plans it as an inner
// join): left to itself, SQLite's planner starts from the links and
// rescans every goal for each link, 100 s for a board of 1,000 items with
// 10,000 linked runs instead of 0.4 s. (Starting from the items instead,
// to visit each run once, measured slower on both databases.)
var (
	goalObservationsFrom = `SELECT g.id, r.id, r.name, r.start_time, m.value, r.status
	FROM goals g CROSS JOIN items i CROSS JOIN projects p CROSS JOIN tracking_run_items l
	CROSS JOIN tracking_runs r CROSS JOIN tracking_experiments e CROSS JOIN tracking_latest_metrics m`
	goalObservationsJoin = ` AND g.item_id IS NOT NULL AND i.id = g.item_id AND p.id = g.project_id
	AND l.project_id = g.project_id AND l.item_key = p.key || '-' || CAST(i.number AS TEXT)
	AND r.id = l.run_id AND r.lifecycle_stage = 'active' AND e.id = r.experiment_id AND e.lifecycle_stage = 'active'
	AND m.run_id = r.id AND m.key = g.metric_key` + goalDatasetRule("r.id") + goalRunsRule("r.id")
	// projectGoalObservations is the same for a project's own goals over
	// the project's active runs, read from the goal's metric key through
	// the latest-metric key index, which carries the experiment.
	projectGoalObservations = `SELECT g.id, r.id, r.name, r.start_time, m.value, r.status
	FROM goals g CROSS JOIN tracking_latest_metrics m CROSS JOIN tracking_experiments e CROSS JOIN tracking_runs r
	WHERE g.project_id = $1 AND g.item_id IS NULL AND m.key = g.metric_key
	AND e.id = m.experiment_id AND e.project_id = g.project_id AND e.lifecycle_stage = 'active'
	AND r.id = m.run_id AND r.lifecycle_stage = 'active' AND (g.runs_experiment <> '' OR g.runs_tag_key <> '')` +
		goalDatasetRule("r.id") + goalRunsRule("r.id")
)

// FindGoalObservations returns the latest value of each item goal's metric
// in every active run linked to the goal's item: one statement for a
// whole board, served by the link index and the latest-metric unique key.
func (db *DB) FindGoalObservations(ctx context.Context, f goal.GoalFilter) ([]goal.GoalObservation, error) {
	var rows *sql.Rows
	var err error
	if f.Level == goal.ProjectGoals && f.ItemID == "" {
		rows, err = db.read.QueryContext(ctx, projectGoalObservations, f.ProjectID)
	} else {
		where, args := goalWhere(f)
		rows, err = db.read.QueryContext(ctx, goalObservationsFrom+where+goalObservationsJoin, args...)
	}
	if err != nil {
		return nil, mapErr(err, "Goal observations")
	}
	defer rows.Close()
	var out []goal.GoalObservation
	for rows.Next() {
		var o goal.GoalObservation
		var v sql.NullFloat64
		var status string
		if err := rows.Scan(&o.GoalID, &o.RunID, &o.RunName, &o.StartTime, &v, &status); err != nil {
			return nil, mapErr(err, "Goal observations")
		}
		if v.Valid {
			o.Value = &v.Float64
		}
		o.Unfinished = !goal.FinishedRunsDecide(status)
		out = append(out, o)
	}
	return out, mapErr(rows.Err(), "Goal observations")
}

// latestRunDecides is the SQL projection of goal.LaterRun, the rule "the
// latest run decides a goal" (testGoalsLatestRandom in storetest keeps the
// two in step). The latest observation of each item goal: per goal, the
// item's links newest first (tracking_run_items_latest orders them by the
// run's start time, then run id, as goal.LaterRun does), the first whose run
// and experiment are active and which logged the goal's metric key. Each
// goal reads the links only until that run, not all of them: 3,000 goals
// cost about 3,000 short index walks instead of a join of every linked run
// with every goal. (Run ids are 32 lowercase hex digits, so the index's
// order of ids is the byte order Go compares them in.) PostgreSQL runs the
// per-goal walk as a LATERAL subquery; SQLite, which has no LATERAL, as a
// correlated scalar subquery that returns the latest-metric row's id.
var (
	latestRunDecides = `FROM tracking_run_items l
	CROSS JOIN tracking_runs r2 CROSS JOIN tracking_experiments e CROSS JOIN tracking_latest_metrics m2
	WHERE l.project_id = g.project_id AND l.item_key = p.key || '-' || CAST(i.number AS TEXT)
	AND r2.id = l.run_id AND r2.lifecycle_stage = 'active' AND e.id = r2.experiment_id AND e.lifecycle_stage = 'active'
	AND m2.run_id = l.run_id AND m2.key = g.metric_key` + finishedRunsDecide("r2.status") + goalDatasetRule("l.run_id") + goalRunsRule("l.run_id") + `
	ORDER BY l.run_start DESC, l.run_id DESC LIMIT 1`
	latestGoalColumns       = `SELECT g.id, i.number, g.metric, g.class, g.slice, g.comparator, g.threshold, `
	latestObservationSQLite = latestGoalColumns + `r.id, r.name, r.start_time, m.value, m.id IS NOT NULL
	FROM goals g CROSS JOIN items i CROSS JOIN projects p
	LEFT JOIN tracking_latest_metrics m ON m.id = (SELECT m2.id ` + latestRunDecides + `)
	LEFT JOIN tracking_runs r ON r.id = m.run_id`
	latestObservationPostgres = latestGoalColumns + `o.id, o.name, o.start_time, o.value, o.id IS NOT NULL
	FROM goals g JOIN items i ON i.id = g.item_id JOIN projects p ON p.id = g.project_id
	LEFT JOIN LATERAL (SELECT r2.id, r2.name, r2.start_time, m2.value ` + latestRunDecides + `) o ON TRUE`
)

// FindLatestGoalObservations returns each item goal f selects with the
// observation that decides its status: the latest active linked run that
// logged the goal's metric. It is the board's query; FindGoalObservations
// returns every observation, for an item page's chart and best value.
func (db *DB) FindLatestGoalObservations(ctx context.Context, f goal.GoalFilter) ([]goal.GoalLatest, error) {
	if f.Level == goal.ProjectGoals && f.ItemID == "" {
		return nil, nil
	}
	where, args := goalWhere(f)
	query := latestObservationSQLite + where + ` AND g.item_id IS NOT NULL AND i.id = g.item_id AND p.id = g.project_id`
	if db.dialect == Postgres {
		query = latestObservationPostgres + where + ` AND g.item_id IS NOT NULL`
	}
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err, "Goal observations")
	}
	defer rows.Close()
	var out []goal.GoalLatest
	for rows.Next() {
		var gl goal.GoalLatest
		var runID, name sql.NullString
		var start sql.NullInt64
		var v sql.NullFloat64
		var observed bool
		if err := rows.Scan(&gl.GoalID, &gl.ItemNumber, &gl.Goal.Metric, &gl.Goal.Class, &gl.Goal.Slice, &gl.Goal.Comparator, &gl.Goal.Threshold,
			&runID, &name, &start, &v, &observed); err != nil {
			return nil, mapErr(err, "Goal observations")
		}
		if observed {
			gl.Latest = &goal.GoalObservation{GoalID: gl.GoalID, RunID: runID.String, RunName: name.String, StartTime: start.Int64}
			if v.Valid {
				gl.Latest.Value = &v.Float64
			}
		}
		out = append(out, gl)
	}
	return out, mapErr(rows.Err(), "Goal observations")
}

// FindRunValues returns the latest values of q.Keys in the project's
// active runs linked to q.ItemKey.
func (db *DB) FindRunValues(ctx context.Context, q goal.RunQuery) ([]goal.RunValue, error) {
	if len(q.Keys) == 0 {
		return nil, nil
	}
	args := []any{q.ProjectID, q.ItemKey}
	marks := make([]string, len(q.Keys))
	for i, k := range q.Keys {
		args = append(args, k)
		marks[i] = "$" + strconv.Itoa(len(args))
	}
	query := `SELECT r.id, r.name, r.start_time, m.key, m.value, r.status FROM tracking_run_items l` + activeRuns + `
		JOIN tracking_latest_metrics m ON m.run_id = r.id
		WHERE l.project_id = $1 AND l.item_key = $2 AND m.key IN (` + strings.Join(marks, ", ") + `)`
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err, "Run values")
	}
	defer rows.Close()
	var out []goal.RunValue
	for rows.Next() {
		var o goal.RunValue
		var v sql.NullFloat64
		var status string
		if err := rows.Scan(&o.RunID, &o.RunName, &o.StartTime, &o.Key, &v, &status); err != nil {
			return nil, mapErr(err, "Run values")
		}
		o.Unfinished = !goal.FinishedRunsDecide(status)
		if v.Valid {
			o.Value = &v.Float64
		}
		out = append(out, o)
	}
	return out, mapErr(rows.Err(), "Run values")
}

// CountLinkedRuns counts the active runs linked to an item key.
func (db *DB) CountLinkedRuns(ctx context.Context, projectID, itemKey string) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM tracking_run_items l`+activeRuns+`
		WHERE l.project_id = $1 AND l.item_key = $2`, projectID, itemKey).Scan(&n)
	return n, mapErr(err, "Linked runs")
}

// SaveGoalSnapshot keeps a decided item's goal results, replacing an
// earlier snapshot of the same decision.
func (db *DB) SaveGoalSnapshot(ctx context.Context, itemID string, ev goal.EvaluationJSON, at time.Time) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = db.write.ExecContext(ctx, `INSERT INTO decision_goal_results (item_id, results, taken_at) VALUES ($1, $2, $3)
		ON CONFLICT (item_id) DO UPDATE SET results = excluded.results, taken_at = excluded.taken_at`, itemID, string(b), ms(at))
	return mapErr(err, "Goal snapshot")
}

// FindGoalSnapshots returns the goal snapshots of a project's decisions by
// item id.
func (db *DB) FindGoalSnapshots(ctx context.Context, projectID string) (map[string]*goal.Snapshot, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT s.item_id, s.results, s.taken_at FROM decision_goal_results s
		JOIN items i ON i.id = s.item_id WHERE i.project_id = $1`, projectID)
	if err != nil {
		return nil, mapErr(err, "Goal snapshots")
	}
	defer rows.Close()
	out := map[string]*goal.Snapshot{}
	for rows.Next() {
		var id, raw string
		var at int64
		if err := rows.Scan(&id, &raw, &at); err != nil {
			return nil, mapErr(err, "Goal snapshots")
		}
		s := &goal.Snapshot{TakenAt: tm(at)}
		if err := json.Unmarshal([]byte(raw), &s.Results); err != nil {
			return nil, trellis.Errorf(trellis.EINTERNAL, "goal snapshot of item %s: %v", id, err)
		}
		out[id] = s
	}
	return out, mapErr(rows.Err(), "Goal snapshots")
}
