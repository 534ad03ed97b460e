package store

import (
	"context"
	"strconv"

	"github.com/trellisml/trellis/internal/work"
)

// AddLink inserts a link; an existing one is ECONFLICT.
func (db *DB) AddLink(ctx context.Context, fromID, toID, typ string) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO item_links (from_id, to_id, type) VALUES ($1, $2, $3)`, fromID, toID, typ)
	return mapErr(err, "Link")
}

// RemoveLink deletes a link. Errors: ENOTFOUND.
func (db *DB) RemoveLink(ctx context.Context, fromID, toID, typ string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM item_links WHERE from_id = $1 AND to_id = $2 AND type = $3`, fromID, toID, typ)
	return affected(res, err, "Link")
}

// FindLinks returns an item's links both ways; Key holds the other item's
// number, which the service turns into a key.
func (db *DB) FindLinks(ctx context.Context, itemID string) ([]work.Link, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT l.type, o.number, o.title, 'out' FROM item_links l JOIN items o ON o.id = l.to_id WHERE l.from_id = $1
		UNION ALL SELECT l.type, o.number, o.title, 'in' FROM item_links l JOIN items o ON o.id = l.from_id WHERE l.to_id = $1
		ORDER BY 1, 2`, itemID)
	if err != nil {
		return nil, mapErr(err, "Links")
	}
	defer rows.Close()
	links := []work.Link{}
	for rows.Next() {
		var l work.Link
		var n int64
		if err := rows.Scan(&l.Type, &n, &l.Title, &l.Direction); err != nil {
			return nil, mapErr(err, "Links")
		}
		l.Key = strconv.FormatInt(n, 10)
		links = append(links, l)
	}
	return links, mapErr(rows.Err(), "Links")
}
