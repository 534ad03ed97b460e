package store

import (
	"context"
	"database/sql"

	"github.com/trellisml/trellis/internal/work"
)

// FindDoD returns a project's Definition of Done points by kind.
func (db *DB) FindDoD(ctx context.Context, projectID string) (map[work.Kind][]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT kind, text FROM dod_points WHERE project_id = $1 ORDER BY kind, position`, projectID)
	if err != nil {
		return nil, mapErr(err, "Definition of Done")
	}
	defer rows.Close()
	dod := map[work.Kind][]string{}
	for rows.Next() {
		var k, text string
		if err := rows.Scan(&k, &text); err != nil {
			return nil, mapErr(err, "Definition of Done")
		}
		dod[work.Kind(k)] = append(dod[work.Kind(k)], text)
	}
	return dod, mapErr(rows.Err(), "Definition of Done")
}

// SetDoD replaces the Definition of Done of one kind in a project.
func (db *DB) SetDoD(ctx context.Context, projectID string, kind work.Kind, points []string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dod_points WHERE project_id = $1 AND kind = $2`, projectID, string(kind)); err != nil {
			return mapErr(err, "Definition of Done")
		}
		for i, p := range points {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dod_points (project_id, kind, position, text) VALUES ($1, $2, $3, $4)`, projectID, string(kind), i, p); err != nil {
				return mapErr(err, "Definition of Done")
			}
		}
		return nil
	})
}

// FindDoDChecks returns the DoD points checked on an item.
func (db *DB) FindDoDChecks(ctx context.Context, itemID string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT text FROM item_dod_checks WHERE item_id = $1 ORDER BY text`, itemID)
	if err != nil {
		return nil, mapErr(err, "Checks")
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, mapErr(err, "Checks")
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err(), "Checks")
}
