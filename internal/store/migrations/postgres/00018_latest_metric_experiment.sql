-- +goose Up
-- A run search ordered by a metric walks the metric's (key, value) index in
-- value order and keeps the runs of the searched experiments. The index
-- held no experiment, so each entry of another experiment logging the same
-- key cost three lookups (the series row for its run, the run for its
-- experiment) before it was skipped: with a second experiment as large as
-- the searched one, a search took 30-40 % longer. The series row now
-- carries its run's experiment (a run never changes experiment) and the
-- index holds it after the value, so the walk skips other experiments'
-- entries inside the index. (With the run id in the index too, to skip the
-- series row of the runs it keeps, creating runs cost 10 % more for no
-- measurable gain.)
ALTER TABLE tracking_latest_metrics ADD COLUMN experiment_id BIGINT NOT NULL DEFAULT 0;
UPDATE tracking_latest_metrics SET experiment_id = (SELECT r.experiment_id FROM tracking_runs r WHERE r.id = tracking_latest_metrics.run_id);
DROP INDEX tracking_latest_metrics_key;
CREATE INDEX tracking_latest_metrics_key ON tracking_latest_metrics (key, value, experiment_id);

-- +goose Down
DROP INDEX tracking_latest_metrics_key;
CREATE INDEX tracking_latest_metrics_key ON tracking_latest_metrics (key, value);
ALTER TABLE tracking_latest_metrics DROP COLUMN experiment_id;
