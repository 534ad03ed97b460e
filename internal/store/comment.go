package store

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/work"
)

// AddComment inserts a comment with its event and notifications atomically.
func (db *DB) AddComment(ctx context.Context, c *work.Comment, notes []*work.Notification) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_comments (id, item_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, c.ItemID, c.Author, c.Body, ms(c.CreatedAt)); err != nil {
			return mapErr(err, "Comment")
		}
		for _, n := range notes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO inbox (id, user_id, item_id, actor, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				n.ID, n.UserID, n.ItemID, n.Actor, n.Text, ms(n.CreatedAt)); err != nil {
				return mapErr(err, "Notification")
			}
		}
		excerpt := c.Body
		if len(excerpt) > 200 {
			excerpt = excerpt[:200] + "…"
		}
		return insertEvents(ctx, tx, c.ItemID, []work.ItemEvent{{User: c.Author, Field: "comment", New: excerpt, At: c.CreatedAt}})
	})
}

// FindComments lists an item's comments, oldest first.
func (db *DB) FindComments(ctx context.Context, itemID string) ([]*work.Comment, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, item_id, author, body, created_at FROM item_comments WHERE item_id = $1 ORDER BY created_at, id`, itemID)
	if err != nil {
		return nil, mapErr(err, "Comments")
	}
	defer rows.Close()
	cs := []*work.Comment{}
	for rows.Next() {
		var c work.Comment
		var at int64
		if err := rows.Scan(&c.ID, &c.ItemID, &c.Author, &c.Body, &at); err != nil {
			return nil, mapErr(err, "Comments")
		}
		c.CreatedAt = tm(at)
		cs = append(cs, &c)
	}
	return cs, mapErr(rows.Err(), "Comments")
}

// AddNotifications inserts notifications about no item, in one transaction.
func (db *DB) AddNotifications(ctx context.Context, notes []*work.Notification) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, n := range notes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO inbox (id, user_id, kind, actor, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				n.ID, n.UserID, n.Kind, n.Actor, n.Text, ms(n.CreatedAt)); err != nil {
				return mapErr(err, "Notification")
			}
		}
		return nil
	})
}

// FindInbox returns a user's notifications, newest first.
func (db *DB) FindInbox(ctx context.Context, userID string, limit int) ([]*work.Notification, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT n.id, COALESCE(n.item_id, ''), n.kind, COALESCE(p.key, ''), COALESCE(i.number, 0), COALESCE(i.title, ''),
		n.actor, n.text, n.created_at, n.read_at
		FROM inbox n LEFT JOIN items i ON i.id = n.item_id LEFT JOIN projects p ON p.id = i.project_id
		WHERE n.user_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT `+strconv.Itoa(limit), userID)
	if err != nil {
		return nil, mapErr(err, "Inbox")
	}
	defer rows.Close()
	ns := []*work.Notification{}
	for rows.Next() {
		var n work.Notification
		var num, at, read int64
		if err := rows.Scan(&n.ID, &n.ItemID, &n.Kind, &n.Project, &num, &n.Title, &n.Actor, &n.Text, &at, &read); err != nil {
			return nil, mapErr(err, "Inbox")
		}
		n.UserID, n.CreatedAt, n.Read = userID, tm(at), read != 0
		if n.Project != "" {
			n.Item = project.ItemKey(n.Project, num)
		}
		ns = append(ns, &n)
	}
	return ns, mapErr(rows.Err(), "Inbox")
}

// MarkRead marks every unread notification of a user read.
func (db *DB) MarkRead(ctx context.Context, userID string, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE inbox SET read_at = $1 WHERE user_id = $2 AND read_at = 0`, ms(at), userID)
	return mapErr(err, "Inbox")
}

// FindActivity returns a project's latest item events.
func (db *DB) FindActivity(ctx context.Context, projectID string, limit int) ([]*work.Activity, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT i.number, i.title, e.user_name, e.field, e.old_value, e.new_value, e.at
		FROM item_events e JOIN items i ON i.id = e.item_id WHERE i.project_id = $1 ORDER BY e.at DESC, e.id DESC LIMIT `+strconv.Itoa(limit), projectID)
	if err != nil {
		return nil, mapErr(err, "Activity")
	}
	defer rows.Close()
	as := []*work.Activity{}
	for rows.Next() {
		var a work.Activity
		var num, at int64
		if err := rows.Scan(&num, &a.Title, &a.User, &a.Field, &a.Old, &a.New, &at); err != nil {
			return nil, mapErr(err, "Activity")
		}
		a.Item, a.At = strconv.FormatInt(num, 10), tm(at)
		as = append(as, &a)
	}
	return as, mapErr(rows.Err(), "Activity")
}
