-- +goose Up
-- Goals: measurable criteria attached to an item, or to the project itself
-- when item_id is NULL. metric_key is the logged name the goal reads
-- (metric[.class][.slice]), kept beside the parts so that evaluation joins
-- it against tracking_latest_metrics.key in one query.
CREATE TABLE goals (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    item_id         TEXT REFERENCES items (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    metric          TEXT NOT NULL,
    comparator      TEXT NOT NULL CHECK (comparator IN ('at least', 'at most', 'more than', 'less than', 'exactly')),
    threshold       REAL NOT NULL,
    class           TEXT NOT NULL DEFAULT '',
    slice           TEXT NOT NULL DEFAULT '',
    dataset         TEXT NOT NULL DEFAULT '',
    dataset_version TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    metric_key      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX goals_project ON goals (project_id, item_id, position);
CREATE INDEX goals_item ON goals (item_id);

-- The goal results at the moment an experiment was decided: the evidence
-- the hypothesis log shows, frozen so later runs do not rewrite history.
CREATE TABLE decision_goal_results (
    item_id  TEXT PRIMARY KEY REFERENCES item_decisions (item_id) ON DELETE CASCADE,
    results  TEXT NOT NULL,
    taken_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE decision_goal_results;
DROP TABLE goals;
