package store

import (
	"context"
	"database/sql"

	"github.com/trellisml/trellis/internal/work"
)

// CreateItems inserts items in order in one transaction: all or none.
func (db *DB) CreateItems(ctx context.Context, items []*work.Item) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, it := range items {
			if err := createItem(ctx, tx, it); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateItems saves several items and their events in one transaction.
func (db *DB) UpdateItems(ctx context.Context, items []*work.Item, events [][]work.ItemEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for i, it := range items {
			if err := updateItem(ctx, tx, it, events[i]); err != nil {
				return err
			}
		}
		return nil
	})
}
