package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/work"
)

// ftsQuery turns user text into an FTS5 query: every word must match, as a
// prefix, and no user character is FTS syntax.
func ftsQuery(text string) string {
	var parts []string
	for _, w := range strings.Fields(text) {
		parts = append(parts, `"`+strings.ReplaceAll(w, `"`, `""`)+`"*`)
	}
	return strings.Join(parts, " ")
}

// SearchItems finds a project's items whose title, description or comments
// hold every word of text, best match first: FTS5 on SQLite, tsvector on
// PostgreSQL.
func (db *DB) SearchItems(ctx context.Context, projectID, text string, limit int) ([]*work.Item, error) {
	var rows *sql.Rows
	var err error
	if db.dialect == Postgres {
		var words []string
		for _, w := range strings.Fields(text) {
			w = strings.Map(func(r rune) rune {
				if strings.ContainsRune(`&|!():*'\<>`, r) {
					return -1
				}
				return r
			}, w)
			if w != "" {
				words = append(words, w+":*")
			}
		}
		if len(words) == 0 {
			return []*work.Item{}, nil
		}
		rows, err = db.read.QueryContext(ctx, `SELECT `+itemColumns+itemFrom+`
			WHERE i.project_id = $1 AND (to_tsvector('simple', i.title || ' ' || i.description) @@ to_tsquery('simple', $2)
			   OR EXISTS (SELECT 1 FROM item_comments c WHERE c.item_id = i.id AND to_tsvector('simple', c.body) @@ to_tsquery('simple', $2)))
			ORDER BY ts_rank(to_tsvector('simple', i.title || ' ' || i.description), to_tsquery('simple', $2)) DESC, i.number DESC
			LIMIT `+strconv.Itoa(limit), projectID, strings.Join(words, " & "))
	} else {
		q := ftsQuery(text)
		if q == "" {
			return []*work.Item{}, nil
		}
		rows, err = db.read.QueryContext(ctx, `SELECT `+itemColumns+` FROM items_fts f JOIN items i ON i.rowid = f.rowid
			LEFT JOIN items pi ON pi.id = i.parent_id
			WHERE items_fts MATCH $1 AND i.project_id = $2 ORDER BY f.rank, i.number DESC LIMIT `+strconv.Itoa(limit), q, projectID)
	}
	if err != nil {
		return nil, mapErr(err, "Search")
	}
	defer rows.Close()
	items := []*work.Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, mapErr(err, "Search")
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, "Search")
	}
	if len(items) == 0 {
		return items, nil
	}
	return items, db.fillItemSets(ctx, items, "i.project_id = $1", projectID)
}
