-- +goose Up
-- sprint_days records a sprint's totals as they change, one row per day
-- (the last change of the day wins): the burndown and burnup charts draw
-- this history rather than recomputing it from today's items.
CREATE TABLE sprint_days (
    sprint_id TEXT NOT NULL REFERENCES sprints (id) ON DELETE CASCADE,
    day       INTEGER NOT NULL,
    committed INTEGER NOT NULL,
    done      INTEGER NOT NULL,
    PRIMARY KEY (sprint_id, day)
) STRICT;

-- Definition of Done per kind, per project, and the checks of each item.
CREATE TABLE dod_points (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    text       TEXT NOT NULL,
    PRIMARY KEY (project_id, kind, position)
) STRICT;

CREATE TABLE item_dod_checks (
    item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    text    TEXT NOT NULL,
    PRIMARY KEY (item_id, text)
) STRICT;

-- +goose Down
DROP TABLE item_dod_checks;
DROP TABLE dod_points;
DROP TABLE sprint_days;
