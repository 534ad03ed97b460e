package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/trellisml/trellis/internal/work"
)

// FindTemplates lists a project's own templates by name.
func (db *DB) FindTemplates(ctx context.Context, projectID string) ([]work.Template, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, kind, title, description, subtasks FROM item_templates WHERE project_id = $1 ORDER BY name`, projectID)
	if err != nil {
		return nil, mapErr(err, "Templates")
	}
	defer rows.Close()
	ts := []work.Template{}
	for rows.Next() {
		var t work.Template
		var kind, subs string
		if err := rows.Scan(&t.Name, &kind, &t.Title, &t.Description, &subs); err != nil {
			return nil, mapErr(err, "Templates")
		}
		t.Kind = work.Kind(kind)
		if err := json.Unmarshal([]byte(subs), &t.SubTasks); err != nil {
			return nil, fmt.Errorf("template %s: %w", t.Name, err)
		}
		ts = append(ts, t)
	}
	return ts, mapErr(rows.Err(), "Templates")
}

// SaveTemplate inserts or replaces a template by name.
func (db *DB) SaveTemplate(ctx context.Context, projectID string, t work.Template) error {
	subs, _ := json.Marshal(t.SubTasks)
	_, err := db.write.ExecContext(ctx, `INSERT INTO item_templates (project_id, name, kind, title, description, subtasks) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (project_id, name) DO UPDATE SET kind = excluded.kind, title = excluded.title, description = excluded.description, subtasks = excluded.subtasks`,
		projectID, t.Name, string(t.Kind), t.Title, t.Description, string(subs))
	return mapErr(err, "Template")
}
