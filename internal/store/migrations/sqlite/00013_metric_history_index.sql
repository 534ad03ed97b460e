-- +goose Up
-- get-history reads a series in (step, timestamp, is_nan, value) order. The
-- index on (series_id, step, timestamp) needed a table lookup per point and
-- a sort of the last two order terms; this one holds every column the read
-- needs, in its order, so a page is one index range scan. It replaces the
-- old index (same leading columns, so the foreign key and the chart buckets
-- are served as before).
CREATE INDEX tracking_metrics_history ON tracking_metrics (series_id, step, timestamp, is_nan, value);
DROP INDEX tracking_metrics_series;

-- +goose Down
CREATE INDEX tracking_metrics_series ON tracking_metrics (series_id, step, timestamp);
DROP INDEX tracking_metrics_history;
