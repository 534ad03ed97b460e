package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/trellisml/trellis/internal/tracking"
)

// CreateExperiment inserts e with its tags and sets e.ID. Errors: ECONFLICT.
func (db *DB) CreateExperiment(ctx context.Context, e *tracking.Experiment) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO tracking_experiments (project_id, name, artifact_location, lifecycle_stage, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, e.ProjectID, e.Name, e.ArtifactLocation, e.LifecycleStage, e.CreatedAt, e.UpdatedAt).Scan(&e.ID)
		if err != nil {
			return mapErr(err, "Experiment")
		}
		for _, t := range e.Tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3)`, e.ID, t.Key, t.Value); err != nil {
				return mapErr(err, "Experiment tag")
			}
		}
		return nil
	})
}

const experimentColumns = `e.id, e.project_id, e.name, e.artifact_location, e.lifecycle_stage, e.created_at, e.updated_at`

func scanExperiment(row interface{ Scan(...any) error }) (*tracking.Experiment, error) {
	var e tracking.Experiment
	err := row.Scan(&e.ID, &e.ProjectID, &e.Name, &e.ArtifactLocation, &e.LifecycleStage, &e.CreatedAt, &e.UpdatedAt)
	return &e, err
}

func (db *DB) loadExperimentTags(ctx context.Context, es []*tracking.Experiment) error {
	byID := map[int64]*tracking.Experiment{}
	ids := make([]any, 0, len(es))
	for _, e := range es {
		byID[e.ID] = e
		ids = append(ids, e.ID)
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		rows, err := db.read.QueryContext(ctx, `SELECT experiment_id, key, value FROM tracking_experiment_tags WHERE experiment_id IN `+placeholders(1, len(chunk), 1)+` ORDER BY experiment_id, key`, chunk...)
		if err != nil {
			return mapErr(err, "Experiment tags")
		}
		for rows.Next() {
			var id int64
			var t tracking.Tag
			if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
				rows.Close()
				return mapErr(err, "Experiment tags")
			}
			byID[id].Tags = append(byID[id].Tags, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err, "Experiment tags")
		}
	}
	return nil
}

func (db *DB) findExperiment(ctx context.Context, where string, args ...any) (*tracking.Experiment, error) {
	e, err := scanExperiment(db.read.QueryRowContext(ctx, `SELECT `+experimentColumns+` FROM tracking_experiments e WHERE `+where, args...))
	if err != nil {
		return nil, mapErr(err, "Experiment")
	}
	return e, db.loadExperimentTags(ctx, []*tracking.Experiment{e})
}

// FindExperiment returns an experiment of a project. Errors: ENOTFOUND.
func (db *DB) FindExperiment(ctx context.Context, projectID string, id int64) (*tracking.Experiment, error) {
	return db.findExperiment(ctx, `e.project_id = $1 AND e.id = $2`, projectID, id)
}

// FindExperimentByName returns an experiment of a project. Errors: ENOTFOUND.
func (db *DB) FindExperimentByName(ctx context.Context, projectID, name string) (*tracking.Experiment, error) {
	return db.findExperiment(ctx, `e.project_id = $1 AND e.name = $2`, projectID, name)
}

// FindExperiments returns a page of a project's experiments.
func (db *DB) FindExperiments(ctx context.Context, q tracking.ExperimentQuery) ([]*tracking.Experiment, error) {
	b := &sqlBuilder{dialect: db.dialect}
	where := []string{"e.project_id = " + b.arg(q.ProjectID)}
	if s := stageCondition("e", q.View); s != "" {
		where = append(where, s)
	}
	if q.Filter != nil {
		cond, err := b.experimentExpr(q.Filter)
		if err != nil {
			return nil, err
		}
		where = append(where, cond)
	}
	var order []string
	for _, k := range q.OrderBy {
		col := map[string]string{"name": "e.name", "experiment_id": "e.id", "creation_time": "e.created_at", "last_update_time": "e.updated_at", "lifecycle_stage": "e.lifecycle_stage"}[k.Key]
		order = append(order, col+dir(k.Desc))
	}
	order = append(order, "e.id ASC")
	query := `SELECT ` + experimentColumns + ` FROM tracking_experiments e WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ` + b.arg(q.Limit) + ` OFFSET ` + b.arg(q.Offset)
	rows, err := db.read.QueryContext(ctx, query, b.args...)
	if err != nil {
		return nil, mapErr(err, "Experiments")
	}
	var es []*tracking.Experiment
	for rows.Next() {
		e, err := scanExperiment(rows)
		if err != nil {
			rows.Close()
			return nil, mapErr(err, "Experiments")
		}
		es = append(es, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, "Experiments")
	}
	return es, db.loadExperimentTags(ctx, es)
}

func stageCondition(alias, view string) string {
	switch view {
	case tracking.ViewDeleted:
		return alias + ".lifecycle_stage = 'deleted'"
	case tracking.ViewAll:
		return ""
	}
	return alias + ".lifecycle_stage = 'active'"
}

// UpdateExperiment saves name, lifecycle stage and update time; a change of
// stage carries over to the experiment's runs, as in MLflow. Errors:
// ENOTFOUND, ECONFLICT.
func (db *DB) UpdateExperiment(ctx context.Context, e *tracking.Experiment) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var stage string
		if err := tx.QueryRowContext(ctx, `SELECT lifecycle_stage FROM tracking_experiments WHERE id = $1`, e.ID).Scan(&stage); err != nil {
			return mapErr(err, "Experiment")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tracking_experiments SET name = $1, lifecycle_stage = $2, updated_at = $3 WHERE id = $4`,
			e.Name, e.LifecycleStage, e.UpdatedAt, e.ID); err != nil {
			return mapErr(err, "Experiment")
		}
		if stage != e.LifecycleStage {
			var deleted any
			if e.LifecycleStage == tracking.StageDeleted {
				deleted = e.UpdatedAt
			}
			if _, err := tx.ExecContext(ctx, `UPDATE tracking_runs SET lifecycle_stage = $1, deleted_time = $2 WHERE experiment_id = $3`,
				e.LifecycleStage, deleted, e.ID); err != nil {
				return mapErr(err, "Runs")
			}
		}
		return nil
	})
}

// SetExperimentTag sets a tag and touches the experiment's update time.
func (db *DB) SetExperimentTag(ctx context.Context, experimentID int64, t tracking.Tag, at int64) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3)
			ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`, experimentID, t.Key, t.Value); err != nil {
			return mapErr(err, "Experiment tag")
		}
		res, err := tx.ExecContext(ctx, `UPDATE tracking_experiments SET updated_at = $1 WHERE id = $2`, at, experimentID)
		return affected(res, err, "Experiment")
	})
}

// DeleteExperimentTag removes a tag. Errors: ENOTFOUND.
func (db *DB) DeleteExperimentTag(ctx context.Context, experimentID int64, key string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM tracking_experiment_tags WHERE experiment_id = $1 AND key = $2`, experimentID, key)
	return affected(res, err, "Experiment tag")
}

// SetDefaultProject stores a user's default tracking project.
func (db *DB) SetDefaultProject(ctx context.Context, userID, projectID string) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO user_preferences (user_id, default_project_id) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET default_project_id = excluded.default_project_id`, userID, projectID)
	return mapErr(err, "Preference")
}

// FindDefaultProject returns a user's default project id, "" when unset.
func (db *DB) FindDefaultProject(ctx context.Context, userID string) (string, error) {
	var id sql.NullString
	err := db.read.QueryRowContext(ctx, `SELECT default_project_id FROM user_preferences WHERE user_id = $1`, userID).Scan(&id)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return id.String, mapErr(err, "Preference")
}
