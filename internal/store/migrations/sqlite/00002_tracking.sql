-- +goose Up
-- Tracking experiments are MLflow's experiments, scoped to a project. Ids are
-- integers because MLflow clients expect numeric experiment ids.
CREATE TABLE tracking_experiments (
    id                INTEGER PRIMARY KEY,
    project_id        TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    artifact_location TEXT NOT NULL,
    lifecycle_stage   TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (project_id, name)
) STRICT;

CREATE TABLE tracking_experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES tracking_experiments (id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE tracking_runs (
    id              TEXT PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES tracking_experiments (id) ON DELETE CASCADE,
    name            TEXT NOT NULL DEFAULT '',
    user_id         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
    start_time      INTEGER NOT NULL,
    end_time        INTEGER,
    lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
    artifact_uri    TEXT NOT NULL,
    deleted_time    INTEGER
) STRICT;
CREATE INDEX tracking_runs_experiment ON tracking_runs (experiment_id, start_time DESC, id);

CREATE TABLE tracking_params (
    run_id TEXT NOT NULL REFERENCES tracking_runs (id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX tracking_params_key ON tracking_params (key, value);

CREATE TABLE tracking_run_tags (
    run_id TEXT NOT NULL REFERENCES tracking_runs (id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX tracking_run_tags_key ON tracking_run_tags (key, value);

-- One row per (run, metric key): the series' identity and its latest point
-- (greatest step, then timestamp), which search filters and sorts on. The
-- points reference the series by a small integer instead of repeating the
-- run id and key, so a million-point series stays compact.
CREATE TABLE tracking_latest_metrics (
    id        INTEGER PRIMARY KEY,
    run_id    TEXT NOT NULL REFERENCES tracking_runs (id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    value     REAL,            -- NULL when is_nan
    is_nan    INTEGER NOT NULL DEFAULT 0,
    timestamp INTEGER NOT NULL,
    step      INTEGER NOT NULL,
    UNIQUE (run_id, key)
) STRICT;
CREATE INDEX tracking_latest_metrics_key ON tracking_latest_metrics (key, value);

-- Metric points. The rowid keeps insertion order and makes bulk appends
-- cheap; the one index serves history reads in (step, timestamp) order.
CREATE TABLE tracking_metrics (
    series_id INTEGER NOT NULL REFERENCES tracking_latest_metrics (id) ON DELETE CASCADE,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value     REAL,            -- NULL when is_nan
    is_nan    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX tracking_metrics_series ON tracking_metrics (series_id, step, timestamp);

-- Links between runs and backlog items by key text (BAL-12): the items
-- capability lands separately, so the link holds the key, not a foreign key.
CREATE TABLE tracking_run_items (
    run_id     TEXT NOT NULL REFERENCES tracking_runs (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    item_key   TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('auto', 'manual')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, item_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX tracking_run_items_item ON tracking_run_items (project_id, item_key);

-- Per-user preferences that are not part of the account itself.
CREATE TABLE user_preferences (
    user_id            TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    default_project_id TEXT REFERENCES projects (id) ON DELETE SET NULL
) STRICT;

-- +goose Down
DROP TABLE user_preferences;
DROP TABLE tracking_run_items;
DROP TABLE tracking_metrics;
DROP TABLE tracking_latest_metrics;
DROP TABLE tracking_run_tags;
DROP TABLE tracking_params;
DROP TABLE tracking_runs;
DROP TABLE tracking_experiment_tags;
DROP TABLE tracking_experiments;
