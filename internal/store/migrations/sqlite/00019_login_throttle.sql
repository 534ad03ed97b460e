-- +goose Up
-- Failed sign-ins are counted per (name, client address), per address and
-- per name, instead of listed per name: the per-name lockout let anyone
-- lock any account, its owner included (issue 11). One row per counter,
-- written by one upsert per failure; rows quiet for a day are pruned.
CREATE TABLE login_throttle (
    kind     TEXT NOT NULL CHECK (kind IN ('pair', 'addr', 'name')),
    name     TEXT NOT NULL, -- '' for an address counter
    addr     TEXT NOT NULL, -- '' for a name counter
    failures INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, name, addr)
) STRICT, WITHOUT ROWID;
CREATE INDEX login_throttle_last ON login_throttle (last_at);
DROP TABLE login_failures;

-- The inbox also holds notices about no item: an alert for the instance
-- admins that one user name is being guessed from many addresses. SQLite
-- cannot drop NOT NULL in place, so the table is rebuilt.
CREATE TABLE inbox_new (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id    TEXT REFERENCES items (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL DEFAULT 'mention' CHECK (kind IN ('mention', 'security')),
    actor      TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at    INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO inbox_new (id, user_id, item_id, actor, text, created_at, read_at)
    SELECT id, user_id, item_id, actor, text, created_at, read_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_new RENAME TO inbox;
CREATE INDEX inbox_user ON inbox (user_id, created_at);

-- +goose Down
-- The notices about no item go; the rebuilt inbox stays (its nullable
-- item_id and defaulted kind are what the older code writes and reads).
DELETE FROM inbox WHERE item_id IS NULL;

CREATE TABLE login_failures (
    name      TEXT NOT NULL,
    failed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_name ON login_failures (name, failed_at);
DROP TABLE login_throttle;
