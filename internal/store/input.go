package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/trellisml/trellis/internal/tracking"
)

// LogRunInputs records datasets and links them to a run in one
// transaction. A dataset known by (experiment, name, digest) is reused
// unchanged, and an input the run already has keeps its tags, as MLflow's
// SQL store does.
func (db *DB) LogRunInputs(ctx context.Context, experimentID int64, runID string, inputs []tracking.DatasetInput) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, in := range inputs {
			d := in.Dataset
			if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_datasets (experiment_id, name, digest, source_type, source, dataset_schema, dataset_profile)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (experiment_id, name, digest) DO NOTHING`,
				experimentID, d.Name, d.Digest, d.SourceType, d.Source, d.Schema, d.Profile); err != nil {
				return mapErr(err, "Dataset")
			}
			var datasetID int64
			if err := tx.QueryRowContext(ctx, `SELECT id FROM tracking_datasets WHERE experiment_id = $1 AND name = $2 AND digest = $3`,
				experimentID, d.Name, d.Digest).Scan(&datasetID); err != nil {
				return mapErr(err, "Dataset")
			}
			var inputID int64
			err := tx.QueryRowContext(ctx, `INSERT INTO tracking_run_inputs (run_id, dataset_id) VALUES ($1, $2)
				ON CONFLICT (run_id, dataset_id) DO NOTHING RETURNING id`, runID, datasetID).Scan(&inputID)
			if errors.Is(err, sql.ErrNoRows) {
				continue // the run already has this input
			}
			if err != nil {
				return mapErr(err, "Run input")
			}
			for _, t := range in.Tags {
				if _, err := tx.ExecContext(ctx, `INSERT INTO tracking_input_tags (input_id, key, value) VALUES ($1, $2, $3)`, inputID, t.Key, t.Value); err != nil {
					return mapErr(err, "Input tag")
				}
			}
		}
		return nil
	})
}

// FindRunInputs returns the dataset inputs of runs, each run's in the
// order they were logged, with their tags in key order: two queries per 500
// runs, and only the first when no run has an input.
func (db *DB) FindRunInputs(ctx context.Context, runIDs []string) (map[string][]tracking.DatasetInput, error) {
	out := map[string][]tracking.DatasetInput{}
	ids := make([]any, len(runIDs))
	for i, id := range runIDs {
		ids[i] = id
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		in := placeholders(1, len(chunk), 1)
		type ref struct {
			run string
			i   int
		}
		byInput := map[int64]ref{}
		err := db.eachRow(ctx, `SELECT i.id, i.run_id, d.name, d.digest, d.source_type, d.source, d.dataset_schema, d.dataset_profile
			FROM tracking_run_inputs i JOIN tracking_datasets d ON d.id = i.dataset_id
			WHERE i.run_id IN `+in+` ORDER BY i.id`, chunk, func(rows *sql.Rows) error {
			var id int64
			var run string
			var d tracking.Dataset
			var schema, profile sql.NullString
			if err := rows.Scan(&id, &run, &d.Name, &d.Digest, &d.SourceType, &d.Source, &schema, &profile); err != nil {
				return err
			}
			if schema.Valid {
				d.Schema = &schema.String
			}
			if profile.Valid {
				d.Profile = &profile.String
			}
			byInput[id] = ref{run, len(out[run])}
			out[run] = append(out[run], tracking.DatasetInput{Dataset: d})
			return nil
		})
		if err != nil {
			return nil, mapErr(err, "Run inputs")
		}
		if len(byInput) == 0 {
			continue
		}
		err = db.eachRow(ctx, `SELECT t.input_id, t.key, t.value FROM tracking_input_tags t
			JOIN tracking_run_inputs i ON i.id = t.input_id WHERE i.run_id IN `+in+` ORDER BY t.input_id, t.key`, chunk, func(rows *sql.Rows) error {
			var id int64
			var t tracking.Tag
			if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
				return err
			}
			r := byInput[id]
			out[r.run][r.i].Tags = append(out[r.run][r.i].Tags, t)
			return nil
		})
		if err != nil {
			return nil, mapErr(err, "Input tags")
		}
	}
	return out, nil
}
