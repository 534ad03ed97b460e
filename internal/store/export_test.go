package store

import (
	"context"

	"github.com/trellisml/trellis/internal/tracking"
)

// FindRunsOneQuery is FindRuns with the whole order in one query, the form
// the split search replaces: tests check that both give the same pages.
func (db *DB) FindRunsOneQuery(ctx context.Context, q tracking.RunQuery) ([]*tracking.Run, error) {
	return db.queryRuns(ctx, q, runsAll, q.Limit, q.Offset)
}
