package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

const sprintColumns = `id, project_id, name, goal, starts_at, ends_at, state, capacity, snapshot, created_at`

func scanSprint(row interface{ Scan(...any) error }) (*work.Sprint, error) {
	var sp work.Sprint
	var starts, ends, created int64
	var capacity, snapshot string
	if err := row.Scan(&sp.ID, &sp.ProjectID, &sp.Name, &sp.Goal, &starts, &ends, &sp.State, &capacity, &snapshot, &created); err != nil {
		return nil, err
	}
	sp.StartsAt, sp.EndsAt, sp.CreatedAt = tm(starts), tm(ends), tm(created)
	sp.Capacity = map[string]int{}
	if err := json.Unmarshal([]byte(capacity), &sp.Capacity); err != nil {
		return nil, err
	}
	if snapshot != "" {
		sp.Snapshot = &work.SprintSnapshot{}
		if err := json.Unmarshal([]byte(snapshot), sp.Snapshot); err != nil {
			return nil, err
		}
	}
	return &sp, nil
}

func sprintJSON(sp *work.Sprint) (string, string) {
	c, _ := json.Marshal(sp.Capacity)
	if sp.Snapshot == nil {
		return string(c), ""
	}
	s, _ := json.Marshal(sp.Snapshot)
	return string(c), string(s)
}

// CreateSprint inserts a sprint; a taken name is ECONFLICT.
func (db *DB) CreateSprint(ctx context.Context, sp *work.Sprint) error {
	c, s := sprintJSON(sp)
	_, err := db.write.ExecContext(ctx, `INSERT INTO sprints (`+sprintColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		sp.ID, sp.ProjectID, sp.Name, sp.Goal, ms(sp.StartsAt), ms(sp.EndsAt), sp.State, c, s, ms(sp.CreatedAt))
	return mapErr(err, "Sprint")
}

// FindSprint returns a sprint of a project. Errors: ENOTFOUND.
func (db *DB) FindSprint(ctx context.Context, projectID, id string) (*work.Sprint, error) {
	sp, err := scanSprint(db.read.QueryRowContext(ctx, `SELECT `+sprintColumns+` FROM sprints WHERE project_id = $1 AND id = $2`, projectID, id))
	return sp, mapErr(err, "Sprint")
}

// FindSprints lists a project's sprints by start date.
func (db *DB) FindSprints(ctx context.Context, projectID string) ([]*work.Sprint, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+sprintColumns+` FROM sprints WHERE project_id = $1 ORDER BY starts_at, name`, projectID)
	if err != nil {
		return nil, mapErr(err, "Sprints")
	}
	defer rows.Close()
	sps := []*work.Sprint{}
	for rows.Next() {
		sp, err := scanSprint(rows)
		if err != nil {
			return nil, mapErr(err, "Sprints")
		}
		sps = append(sps, sp)
	}
	return sps, mapErr(rows.Err(), "Sprints")
}

// UpdateSprint saves a sprint's mutable fields.
func (db *DB) UpdateSprint(ctx context.Context, sp *work.Sprint) error {
	c, s := sprintJSON(sp)
	res, err := db.write.ExecContext(ctx, `UPDATE sprints SET name = $1, goal = $2, state = $3, capacity = $4, snapshot = $5 WHERE id = $6`,
		sp.Name, sp.Goal, sp.State, c, s, sp.ID)
	return affected(res, err, "Sprint")
}

// CloseSprint saves the closed sprint and moves unfinished items in one
// transaction, so a close is never half done.
func (db *DB) CloseSprint(ctx context.Context, sp *work.Sprint, unfinished []string, nextID string) error {
	c, s := sprintJSON(sp)
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sprints SET state = $1, capacity = $2, snapshot = $3 WHERE id = $4 AND state = 'active'`, sp.State, c, s, sp.ID)
		if err := affected(res, err, "Active sprint"); err != nil {
			if trellis.ErrorCode(err) == trellis.ENOTFOUND {
				return trellis.Errorf(trellis.ECONFLICT, "Sprint %q is no longer active.", sp.Name)
			}
			return err
		}
		for _, id := range unfinished {
			if _, err := tx.ExecContext(ctx, `UPDATE items SET sprint_id = $1 WHERE id = $2`, nullable(nextID), id); err != nil {
				return mapErr(err, "Item")
			}
		}
		return nil
	})
}

// RecordSprintDay upserts a sprint's totals for a day (ms of its midnight UTC).
func (db *DB) RecordSprintDay(ctx context.Context, sprintID string, day time.Time, committed, done int) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO sprint_days (sprint_id, day, committed, done) VALUES ($1, $2, $3, $4)
		ON CONFLICT (sprint_id, day) DO UPDATE SET committed = excluded.committed, done = excluded.done`, sprintID, ms(day), committed, done)
	return mapErr(err, "Sprint day")
}

// FindSprintDays returns a sprint's recorded days in order.
func (db *DB) FindSprintDays(ctx context.Context, sprintID string) ([]work.SprintDay, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT day, committed, done FROM sprint_days WHERE sprint_id = $1 ORDER BY day`, sprintID)
	if err != nil {
		return nil, mapErr(err, "Sprint days")
	}
	defer rows.Close()
	days := []work.SprintDay{}
	for rows.Next() {
		var d work.SprintDay
		var day int64
		if err := rows.Scan(&day, &d.Committed, &d.Done); err != nil {
			return nil, mapErr(err, "Sprint days")
		}
		d.Day = tm(day)
		days = append(days, d)
	}
	return days, mapErr(rows.Err(), "Sprint days")
}
