package store

import (
	"context"
	"database/sql"

	"github.com/trellisml/trellis/internal/work"
)

// FindStatuses returns a project's stored workflow in order.
func (db *DB) FindStatuses(ctx context.Context, projectID string) ([]work.Status, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, category, wip_limit FROM item_statuses WHERE project_id = $1 ORDER BY position`, projectID)
	if err != nil {
		return nil, mapErr(err, "Statuses")
	}
	defer rows.Close()
	var ss []work.Status
	for rows.Next() {
		var s work.Status
		if err := rows.Scan(&s.Name, &s.Category, &s.WIPLimit); err != nil {
			return nil, mapErr(err, "Statuses")
		}
		ss = append(ss, s)
	}
	return ss, mapErr(rows.Err(), "Statuses")
}

// SetStatuses replaces a project's workflow atomically.
func (db *DB) SetStatuses(ctx context.Context, projectID string, ss []work.Status) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM item_statuses WHERE project_id = $1`, projectID); err != nil {
			return mapErr(err, "Statuses")
		}
		for i, s := range ss {
			if _, err := tx.ExecContext(ctx, `INSERT INTO item_statuses (project_id, name, position, category, wip_limit) VALUES ($1, $2, $3, $4, $5)`,
				projectID, s.Name, i, s.Category, s.WIPLimit); err != nil {
				return mapErr(err, "Status")
			}
		}
		return nil
	})
}

// FindPlanning returns a project's planning settings, or the defaults.
func (db *DB) FindPlanning(ctx context.Context, projectID string) (work.Planning, error) {
	p := work.DefaultPlanning
	err := db.read.QueryRowContext(ctx, `SELECT point_scale, alloc_committed, alloc_experiments, alloc_learning FROM planning_settings WHERE project_id = $1`,
		projectID).Scan(&p.PointScale, &p.Allocation.Committed, &p.Allocation.Experiments, &p.Allocation.Learning)
	if err == sql.ErrNoRows {
		return work.DefaultPlanning, nil
	}
	return p, mapErr(err, "Planning settings")
}

// SetPlanning saves a project's planning settings.
func (db *DB) SetPlanning(ctx context.Context, projectID string, p work.Planning) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO planning_settings (project_id, point_scale, alloc_committed, alloc_experiments, alloc_learning)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id) DO UPDATE SET point_scale = excluded.point_scale,
		alloc_committed = excluded.alloc_committed, alloc_experiments = excluded.alloc_experiments, alloc_learning = excluded.alloc_learning`,
		projectID, p.PointScale, p.Allocation.Committed, p.Allocation.Experiments, p.Allocation.Learning)
	return mapErr(err, "Planning settings")
}
