-- +goose Up
-- A counter of every change to a run's params, tags or latest metrics,
-- raised in the transaction that makes the change. A run search reads it
-- with the run and takes the run's data from the store's in-memory cache
-- when the cached copy was loaded at the same version (store/rundata.go);
-- because the counter lives in the database, a change made by another
-- process sharing it invalidates the copy as well.
ALTER TABLE tracking_runs ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tracking_runs DROP COLUMN data_version;
