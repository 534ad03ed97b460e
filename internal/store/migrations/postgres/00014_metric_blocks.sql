-- +goose Up
-- Rollups of every metric series for the run page's charts: the non-NaN
-- points of each aligned block of 2^level steps (levels 4, 8, 12, 16, i.e.
-- 16 to 65,536 steps) reduced to what combines exactly: first and last
-- step, smallest and largest value, sum of the finite values (an infinity
-- shows in min_value or max_value) and count. A chart bucket of whole
-- blocks reads a few rows instead of every point; log-batch keeps them up
-- to date in its transaction (internal/store/tracking_blocks.go). block is
-- floor(step / 2^level), negative steps included.
CREATE TABLE tracking_metric_blocks (
    series_id  BIGINT NOT NULL REFERENCES tracking_latest_metrics (id) ON DELETE CASCADE,
    level      SMALLINT NOT NULL,
    block      BIGINT NOT NULL,
    min_step   BIGINT NOT NULL,
    max_step   BIGINT NOT NULL,
    min_value  DOUBLE PRECISION NOT NULL,
    max_value  DOUBLE PRECISION NOT NULL,
    finite_sum DOUBLE PRECISION NOT NULL,
    points     BIGINT NOT NULL,
    PRIMARY KEY (series_id, level, block)
);

-- The series logged before this migration.
INSERT INTO tracking_metric_blocks (series_id, level, block, min_step, max_step, min_value, max_value, finite_sum, points)
SELECT m.series_id, l.level, m.step >> l.level AS blk,
       MIN(m.step), MAX(m.step), MIN(m.value), MAX(m.value),
       COALESCE(SUM(CASE WHEN m.value NOT IN ('Infinity', '-Infinity') THEN m.value ELSE 0 END), 0), COUNT(*)
FROM tracking_metrics m CROSS JOIN (VALUES (4::smallint), (8), (12), (16)) AS l(level)
WHERE NOT m.is_nan
GROUP BY m.series_id, l.level, blk;

-- +goose Down
DROP TABLE tracking_metric_blocks;
