package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

var _ project.Store = (*DB)(nil)

const projectColumns = `p.id, p.key, p.name, p.description, p.archived, p.created_at, p.updated_at`

func scanProject(row interface{ Scan(...any) error }, extra ...any) (*project.Project, error) {
	var p project.Project
	var created, updated int64
	if err := row.Scan(append([]any{&p.ID, &p.Key, &p.Name, &p.Description, &p.Archived, &created, &updated}, extra...)...); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = tm(created), tm(updated)
	return &p, nil
}

// CreateProject inserts p with ownerID as its admin.
func (db *DB) CreateProject(ctx context.Context, p *project.Project, ownerID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO projects (id, key, name, description, archived, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			p.ID, p.Key, p.Name, p.Description, p.Archived, ms(p.CreatedAt), ms(p.UpdatedAt)); err != nil {
			return mapErr(err, "Project")
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)`,
			p.ID, ownerID, string(auth.RoleAdmin), ms(p.CreatedAt))
		return mapErr(err, "Project member")
	})
}

// FindProjectByKey returns a project. Errors: ENOTFOUND.
func (db *DB) FindProjectByKey(ctx context.Context, key string) (*project.Project, error) {
	p, err := scanProject(db.read.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects p WHERE p.key = $1`, key))
	return p, mapErr(err, "Project")
}

// FindProjects lists projects by key; with a MemberID, only that user's
// projects, each with the user's role.
func (db *DB) FindProjects(ctx context.Context, f project.ProjectFilter) ([]*project.Project, error) {
	var rows *sql.Rows
	var err error
	if f.MemberID != "" {
		rows, err = db.read.QueryContext(ctx, `SELECT `+projectColumns+`, m.role FROM projects p
			JOIN project_members m ON m.project_id = p.id AND m.user_id = $1
			WHERE ($2 OR NOT p.archived) ORDER BY p.key`, f.MemberID, f.IncludeArchived)
	} else {
		rows, err = db.read.QueryContext(ctx, `SELECT `+projectColumns+`, '' FROM projects p
			WHERE ($1 OR NOT p.archived) ORDER BY p.key`, f.IncludeArchived)
	}
	if err != nil {
		return nil, mapErr(err, "Projects")
	}
	defer rows.Close()
	ps := []*project.Project{}
	for rows.Next() {
		var role string
		p, err := scanProject(rows, &role)
		if err != nil {
			return nil, mapErr(err, "Projects")
		}
		p.Role = auth.Role(role)
		ps = append(ps, p)
	}
	return ps, mapErr(rows.Err(), "Projects")
}

// UpdateProject saves a project's mutable fields. Errors: ENOTFOUND.
func (db *DB) UpdateProject(ctx context.Context, p *project.Project) error {
	res, err := db.write.ExecContext(ctx, `UPDATE projects SET name = $1, description = $2, archived = $3, updated_at = $4 WHERE id = $5`,
		p.Name, p.Description, p.Archived, ms(p.UpdatedAt), p.ID)
	return affected(res, err, "Project")
}

// FindMemberRole returns the user's role in the project, RoleNone if none.
func (db *DB) FindMemberRole(ctx context.Context, projectID, userID string) (auth.Role, error) {
	var role string
	err := db.read.QueryRowContext(ctx, `SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2`, projectID, userID).Scan(&role)
	if err == sql.ErrNoRows {
		return auth.RoleNone, nil
	}
	return auth.Role(role), mapErr(err, "Project member")
}

// FindMembers lists a project's members by user name.
func (db *DB) FindMembers(ctx context.Context, projectID string) ([]*project.Member, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT m.user_id, u.name, m.role, m.added_at FROM project_members m
		JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY u.name`, projectID)
	if err != nil {
		return nil, mapErr(err, "Project members")
	}
	defer rows.Close()
	ms := []*project.Member{}
	for rows.Next() {
		var m project.Member
		var role string
		var added int64
		if err := rows.Scan(&m.UserID, &m.UserName, &role, &added); err != nil {
			return nil, mapErr(err, "Project members")
		}
		m.Role, m.AddedAt = auth.Role(role), tm(added)
		ms = append(ms, &m)
	}
	return ms, mapErr(rows.Err(), "Project members")
}

// ensureAdminLeft fails the transaction when the project has no admin left.
func (db *DB) ensureAdminLeft(ctx context.Context, tx *sql.Tx, projectID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM project_members WHERE project_id = $1 AND role = 'admin'`, projectID).Scan(&n); err != nil {
		return mapErr(err, "Project members")
	}
	if n == 0 {
		return trellis.Errorf(trellis.ECONFLICT, "A project needs at least one admin; make someone else admin first.")
	}
	return nil
}

func (db *DB) lockMembers(ctx context.Context, tx *sql.Tx, projectID string) error {
	if db.dialect != Postgres {
		return nil // SQLite's single writer serialises these transactions already
	}
	_, err := tx.ExecContext(ctx, `SELECT id FROM projects WHERE id = $1 FOR UPDATE`, projectID)
	return mapErr(err, "Project")
}

// SetMember adds or changes a membership, keeping at least one admin.
func (db *DB) SetMember(ctx context.Context, projectID, userID string, role auth.Role, at time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.lockMembers(ctx, tx, projectID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO project_members (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role`, projectID, userID, string(role), ms(at)); err != nil {
			return mapErr(err, "Project member")
		}
		return db.ensureAdminLeft(ctx, tx, projectID)
	})
}

// RemoveMember deletes a membership, keeping at least one admin.
// Errors: ENOTFOUND, ECONFLICT.
func (db *DB) RemoveMember(ctx context.Context, projectID, userID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.lockMembers(ctx, tx, projectID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM project_members WHERE project_id = $1 AND user_id = $2`, projectID, userID)
		if err := affected(res, err, "Project member"); err != nil {
			return err
		}
		return db.ensureAdminLeft(ctx, tx, projectID)
	})
}
