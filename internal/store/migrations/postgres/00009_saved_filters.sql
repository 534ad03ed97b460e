-- +goose Up
-- A user's named backlog filters in a project, kept as a query string.
CREATE TABLE saved_filters (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id, name)
);

-- +goose Down
DROP TABLE saved_filters;
