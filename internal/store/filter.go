package store

import (
	"context"

	"github.com/trellisml/trellis/internal/work"
)

// FindFilters lists a user's saved filters in a project by name.
func (db *DB) FindFilters(ctx context.Context, projectID, userID string) ([]work.SavedFilter, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, query FROM saved_filters WHERE project_id = $1 AND user_id = $2 ORDER BY name`, projectID, userID)
	if err != nil {
		return nil, mapErr(err, "Filters")
	}
	defer rows.Close()
	fs := []work.SavedFilter{}
	for rows.Next() {
		var f work.SavedFilter
		if err := rows.Scan(&f.Name, &f.Query); err != nil {
			return nil, mapErr(err, "Filters")
		}
		fs = append(fs, f)
	}
	return fs, mapErr(rows.Err(), "Filters")
}

// SaveFilter inserts or replaces a saved filter.
func (db *DB) SaveFilter(ctx context.Context, projectID, userID string, f work.SavedFilter) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO saved_filters (project_id, user_id, name, query) VALUES ($1, $2, $3, $4)
		ON CONFLICT (project_id, user_id, name) DO UPDATE SET query = excluded.query`, projectID, userID, f.Name, f.Query)
	return mapErr(err, "Filter")
}

// DeleteFilter deletes a saved filter. Errors: ENOTFOUND.
func (db *DB) DeleteFilter(ctx context.Context, projectID, userID, name string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM saved_filters WHERE project_id = $1 AND user_id = $2 AND name = $3`, projectID, userID, name)
	return affected(res, err, "Filter")
}
