package store

import (
	"context"

	"github.com/trellisml/trellis/internal/tracking"
)

// FindRunsOneQuery is FindRuns with the whole order in one query, the form
// the split search replaces: tests check that both give the same pages.
func (db *DB) FindRunsOneQuery(ctx context.Context, q tracking.RunQuery) ([]*tracking.Run, error) {
	vrs, err := db.queryRuns(ctx, q, runsAll, q.Limit, q.Offset)
	runs := make([]*tracking.Run, len(vrs))
	for i, v := range vrs {
		runs[i] = v.run
	}
	return runs, err
}

// FindMetricBucketsFromPoints is FindMetricBuckets reading every point of
// the buckets (the grouped scan) instead of the rollup blocks, with the
// same bucket boundaries: tests compare the two.
func (db *DB) FindMetricBucketsFromPoints(ctx context.Context, q tracking.BucketQuery) ([]tracking.Bucket, error) {
	return db.findMetricBuckets(ctx, q, false)
}

// MigrateDownTo undoes the migrations above version.
func (db *DB) MigrateDownTo(ctx context.Context, version int64) error {
	p, err := db.provider()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}
