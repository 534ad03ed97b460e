package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
)

// AddSpecVersion stores v as the item's next version unless its text is
// the latest version's. The read and the insert share one transaction; on
// PostgreSQL two concurrent uploads can pick the same number, and the
// loser gets ECONFLICT from the primary key rather than a lost version.
func (db *DB) AddSpecVersion(ctx context.Context, v *goal.SpecVersion) (bool, error) {
	created := false
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var latest int
		var body, name, author string
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT version, body, name, author, created_at FROM item_specs
			WHERE item_id = $1 ORDER BY version DESC LIMIT 1`, v.ItemID).Scan(&latest, &body, &name, &author, &at)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return mapErr(err, "Spec")
		case body == v.Text:
			v.Version, v.Name, v.Author, v.CreatedAt = latest, name, author, tm(at)
			return nil
		}
		v.Version = latest + 1
		_, err = tx.ExecContext(ctx, `INSERT INTO item_specs (item_id, project_id, version, name, body, author, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, v.ItemID, v.ProjectID, v.Version, v.Name, v.Text, v.Author, ms(v.CreatedAt))
		if err != nil {
			return mapErr(err, "Spec version")
		}
		created = true
		return nil
	})
	return created, err
}

// FindSpecVersions lists an item's spec versions newest first, without text.
func (db *DB) FindSpecVersions(ctx context.Context, itemID string) ([]*goal.SpecVersion, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT item_id, project_id, version, name, author, created_at FROM item_specs
		WHERE item_id = $1 ORDER BY version DESC`, itemID)
	if err != nil {
		return nil, mapErr(err, "Spec")
	}
	defer rows.Close()
	out := []*goal.SpecVersion{}
	for rows.Next() {
		v := &goal.SpecVersion{}
		var at int64
		if err := rows.Scan(&v.ItemID, &v.ProjectID, &v.Version, &v.Name, &v.Author, &at); err != nil {
			return nil, err
		}
		v.CreatedAt = tm(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

// FindSpecVersion returns one version with its text; 0 is the latest.
func (db *DB) FindSpecVersion(ctx context.Context, itemID string, version int) (*goal.SpecVersion, error) {
	q := `SELECT item_id, project_id, version, name, body, author, created_at FROM item_specs WHERE item_id = $1 AND version = $2`
	args := []any{itemID, version}
	if version == 0 {
		q = `SELECT item_id, project_id, version, name, body, author, created_at FROM item_specs WHERE item_id = $1
			ORDER BY version DESC LIMIT 1`
		args = args[:1]
	}
	v := &goal.SpecVersion{}
	var at int64
	err := db.read.QueryRowContext(ctx, q, args...).Scan(&v.ItemID, &v.ProjectID, &v.Version, &v.Name, &v.Text, &v.Author, &at)
	if err != nil {
		return nil, mapErr(err, "Spec version")
	}
	v.CreatedAt = tm(at)
	return v, nil
}

// SaveSpecResults replaces an item's results with those of a check of
// version, in one transaction that first makes sure version is still the
// latest: a slow check of an old version must not hide a newer one's.
func (db *DB) SaveSpecResults(ctx context.Context, itemID, projectID string, version int, rs []*goal.SpecResult) (bool, error) {
	saved := false
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var latest int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM item_specs WHERE item_id = $1`, itemID).Scan(&latest); err != nil {
			return mapErr(err, "Spec")
		}
		if latest != version {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM item_spec_results WHERE item_id = $1`, itemID); err != nil {
			return mapErr(err, "Spec results")
		}
		for i, r := range rs {
			checks, err := json.Marshal(r.Checks)
			if err != nil {
				return fmt.Errorf("spec result checks: %w", err)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO item_spec_results (item_id, project_id, version, ordinal, scenario, line, row_line,
				outcome, message, checks, run_id, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				itemID, projectID, version, i, r.Scenario, r.Line, r.RowLine, string(r.Outcome), r.Message, string(checks), r.RunID, ms(r.CheckedAt))
			if err != nil {
				return mapErr(err, "Spec result")
			}
		}
		saved = true
		return nil
	})
	return saved, err
}

// FindSpecResults returns an item's latest results in spec order.
func (db *DB) FindSpecResults(ctx context.Context, itemID string) ([]*goal.SpecResult, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT version, scenario, line, row_line, outcome, message, checks, run_id, checked_at
		FROM item_spec_results WHERE item_id = $1 ORDER BY ordinal`, itemID)
	if err != nil {
		return nil, mapErr(err, "Spec results")
	}
	defer rows.Close()
	out := []*goal.SpecResult{}
	for rows.Next() {
		r := &goal.SpecResult{}
		var outcome, checks string
		var at int64
		if err := rows.Scan(&r.Version, &r.Scenario, &r.Line, &r.RowLine, &outcome, &r.Message, &checks, &r.RunID, &at); err != nil {
			return nil, err
		}
		r.Outcome, r.CheckedAt = speccheck.Outcome(outcome), tm(at)
		if err := json.Unmarshal([]byte(checks), &r.Checks); err != nil {
			return nil, fmt.Errorf("spec result checks of item %s: %w", itemID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// FindSpecSummaries counts the results of every item of a project with a
// checked spec in one GROUP BY (one row per item, walking the covering
// index), so a board's cost does not grow with its cards.
func (db *DB) FindSpecSummaries(ctx context.Context, projectID string) (map[string]*goal.SpecSummary, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT item_id, MAX(version), MAX(checked_at),
		SUM(CASE WHEN outcome = 'passed' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END),
		SUM(CASE WHEN outcome = 'error' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'skipped' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'no_data' THEN 1 ELSE 0 END)
		FROM item_spec_results WHERE project_id = $1 GROUP BY item_id`, projectID)
	if err != nil {
		return nil, mapErr(err, "Spec results")
	}
	defer rows.Close()
	out := map[string]*goal.SpecSummary{}
	for rows.Next() {
		var id string
		var at int64
		s := &goal.SpecSummary{}
		if err := rows.Scan(&id, &s.Version, &at, &s.Passed, &s.Failed, &s.Errors, &s.Skipped, &s.NoData); err != nil {
			return nil, err
		}
		s.CheckedAt = tm(at)
		out[id] = s
	}
	return out, rows.Err()
}
