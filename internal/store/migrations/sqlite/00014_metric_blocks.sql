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
    series_id  INTEGER NOT NULL REFERENCES tracking_latest_metrics (id) ON DELETE CASCADE,
    level      INTEGER NOT NULL,
    block      INTEGER NOT NULL,
    min_step   INTEGER NOT NULL,
    max_step   INTEGER NOT NULL,
    min_value  REAL NOT NULL,
    max_value  REAL NOT NULL,
    finite_sum REAL NOT NULL,
    points     INTEGER NOT NULL,
    PRIMARY KEY (series_id, level, block)
) STRICT, WITHOUT ROWID;

-- The series logged before this migration.
INSERT INTO tracking_metric_blocks (series_id, level, block, min_step, max_step, min_value, max_value, finite_sum, points)
SELECT m.series_id, l.level,
       CASE WHEN m.step >= 0 THEN m.step / (1 << l.level) ELSE (m.step + 1) / (1 << l.level) - 1 END AS blk,
       MIN(m.step), MAX(m.step), MIN(m.value), MAX(m.value),
       TOTAL(CASE WHEN ABS(m.value) < 9e999 THEN m.value ELSE 0 END), COUNT(*)
FROM tracking_metrics m CROSS JOIN (SELECT 4 AS level UNION ALL SELECT 8 UNION ALL SELECT 12 UNION ALL SELECT 16) l
WHERE m.is_nan = 0
GROUP BY m.series_id, l.level, blk;

-- +goose Down
DROP TABLE tracking_metric_blocks;
