-- +goose Up
-- A spec scenario that reads the latest run of an item with no run yet has
-- the outcome no_data: nothing to judge, which is not an error.
-- SQLite cannot change a CHECK in place: the table is rebuilt (nothing
-- references it).
CREATE TABLE item_spec_results_new (
    item_id    TEXT NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    ordinal    INTEGER NOT NULL,
    scenario   TEXT NOT NULL,
    line       INTEGER NOT NULL,
    row_line   INTEGER NOT NULL DEFAULT 0,
    outcome    TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'error', 'skipped', 'no_data')),
    message    TEXT NOT NULL DEFAULT '',
    checks     TEXT NOT NULL DEFAULT '[]',
    run_id     TEXT NOT NULL DEFAULT '',
    checked_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, ordinal),
    FOREIGN KEY (item_id, version) REFERENCES item_specs (item_id, version) ON DELETE CASCADE
) STRICT;
INSERT INTO item_spec_results_new SELECT item_id, project_id, version, ordinal, scenario, line, row_line, outcome, message, checks, run_id, checked_at FROM item_spec_results;
DROP TABLE item_spec_results;
ALTER TABLE item_spec_results_new RENAME TO item_spec_results;
CREATE INDEX item_spec_results_project ON item_spec_results (project_id, item_id, outcome, version, checked_at);

-- +goose Down
DELETE FROM item_spec_results WHERE outcome = 'no_data';
CREATE TABLE item_spec_results_old (
    item_id    TEXT NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    ordinal    INTEGER NOT NULL,
    scenario   TEXT NOT NULL,
    line       INTEGER NOT NULL,
    row_line   INTEGER NOT NULL DEFAULT 0,
    outcome    TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'error', 'skipped')),
    message    TEXT NOT NULL DEFAULT '',
    checks     TEXT NOT NULL DEFAULT '[]',
    run_id     TEXT NOT NULL DEFAULT '',
    checked_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, ordinal),
    FOREIGN KEY (item_id, version) REFERENCES item_specs (item_id, version) ON DELETE CASCADE
) STRICT;
INSERT INTO item_spec_results_old SELECT item_id, project_id, version, ordinal, scenario, line, row_line, outcome, message, checks, run_id, checked_at FROM item_spec_results;
DROP TABLE item_spec_results;
ALTER TABLE item_spec_results_old RENAME TO item_spec_results;
CREATE INDEX item_spec_results_project ON item_spec_results (project_id, item_id, outcome, version, checked_at);
