-- +goose Up
CREATE TABLE item_comments (
    id         TEXT PRIMARY KEY,
    item_id    TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    author     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX item_comments_item ON item_comments (item_id, created_at);

-- inbox holds in-app notifications, such as an @mention in a comment.
CREATE TABLE inbox (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id    TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    actor      TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX inbox_user ON inbox (user_id, created_at);

-- +goose Down
DROP TABLE inbox;
DROP TABLE item_comments;
