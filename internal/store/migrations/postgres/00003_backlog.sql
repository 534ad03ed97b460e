-- +goose Up
-- Planning settings per project: the story-point scale and the sprint
-- allocation guideline (percent per category).
CREATE TABLE planning_settings (
    project_id       TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    point_scale      TEXT NOT NULL DEFAULT 'fibonacci' CHECK (point_scale IN ('fibonacci', 'tshirt')),
    alloc_committed  INTEGER NOT NULL DEFAULT 60,
    alloc_experiments INTEGER NOT NULL DEFAULT 30,
    alloc_learning   INTEGER NOT NULL DEFAULT 10
);

-- The per-project status workflow, in board order.
CREATE TABLE item_statuses (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    category   TEXT NOT NULL CHECK (category IN ('todo', 'doing', 'done')),
    wip_limit  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, name)
);

-- item_counters hands out item numbers; one UPSERT ... RETURNING allocates
-- the next number atomically on both databases.
CREATE TABLE item_counters (
    project_id TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    next BIGINT NOT NULL
);

CREATE TABLE sprints (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    goal       TEXT NOT NULL DEFAULT '',
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('planned', 'active', 'closed')),
    capacity   TEXT NOT NULL DEFAULT '{}',
    snapshot   TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX sprints_project ON sprints (project_id, starts_at);

CREATE TABLE items (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('research', 'experiment', 'development', 'maintenance')),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    stage           TEXT NOT NULL DEFAULT '',
    rank            DOUBLE PRECISION NOT NULL,
    priority        TEXT NOT NULL DEFAULT 'none',
    parent_id       TEXT REFERENCES items (id) ON DELETE SET NULL,
    phase           TEXT NOT NULL DEFAULT '',
    deliverable     TEXT NOT NULL DEFAULT '',
    time_box        TEXT NOT NULL DEFAULT '',
    hypothesis      TEXT NOT NULL DEFAULT '',
    success_metrics TEXT NOT NULL DEFAULT '',
    points          INTEGER NOT NULL DEFAULT 0,
    size            TEXT NOT NULL DEFAULT '',
    learning        TEXT NOT NULL DEFAULT '',
    sprint_id       TEXT REFERENCES sprints (id) ON DELETE SET NULL,
    started_at BIGINT NOT NULL DEFAULT 0,
    done_at BIGINT NOT NULL DEFAULT 0,
    created_by      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (project_id, number)
);
CREATE INDEX items_project_rank ON items (project_id, rank);
CREATE INDEX items_parent ON items (parent_id);
CREATE INDEX items_sprint ON items (sprint_id);

CREATE TABLE item_assignees (
    item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, user_id)
);

CREATE TABLE item_labels (
    item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    label   TEXT NOT NULL,
    PRIMARY KEY (item_id, label)
);

CREATE TABLE item_links (
    from_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    to_id   TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    type    TEXT NOT NULL CHECK (type IN ('blocks', 'relates_to', 'follow_up_of')),
    PRIMARY KEY (from_id, to_id, type)
);
CREATE INDEX item_links_to ON item_links (to_id);

-- item_events is the item history: who changed which field, when.
CREATE TABLE item_events (
    id         BIGSERIAL PRIMARY KEY,
    item_id    TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    user_name  TEXT NOT NULL,
    field      TEXT NOT NULL,
    old_value  TEXT NOT NULL DEFAULT '',
    new_value  TEXT NOT NULL DEFAULT '',
    at BIGINT NOT NULL
);
CREATE INDEX item_events_item ON item_events (item_id, at);

-- +goose Down
DROP TABLE item_events;
DROP TABLE item_links;
DROP TABLE item_labels;
DROP TABLE item_assignees;
DROP TABLE items;
DROP TABLE sprints;
DROP TABLE item_counters;
DROP TABLE item_statuses;
DROP TABLE planning_settings;
