-- +goose Up
-- Gherkin specs attached to items: every change of the text is a new
-- numbered version, kept so the history shows what the team agreed when.
CREATE TABLE item_specs (
    item_id    TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL CHECK (version > 0),
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    author     TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (item_id, version)
);

-- The latest result of each scenario of an item's spec: one check replaces
-- them all. project_id lets a board count every card's results in one query.
CREATE TABLE item_spec_results (
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
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (item_id, ordinal),
    FOREIGN KEY (item_id, version) REFERENCES item_specs (item_id, version) ON DELETE CASCADE
);
CREATE INDEX item_spec_results_project ON item_spec_results (project_id, item_id, outcome, version, checked_at);

-- +goose Down
DROP TABLE item_spec_results;
DROP TABLE item_specs;
