-- +goose Up
-- A project's own item templates; Trellis's shipped ones live in code.
CREATE TABLE item_templates (
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    subtasks    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (project_id, name)
);

-- +goose Down
DROP TABLE item_templates;
