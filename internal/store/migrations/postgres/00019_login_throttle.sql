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
    first_at BIGINT NOT NULL,
    last_at  BIGINT NOT NULL,
    PRIMARY KEY (kind, name, addr)
);
CREATE INDEX login_throttle_last ON login_throttle (last_at);
DROP TABLE login_failures;

-- The inbox also holds notices about no item: an alert for the instance
-- admins that one user name is being guessed from many addresses.
ALTER TABLE inbox ALTER COLUMN item_id DROP NOT NULL;
ALTER TABLE inbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'mention' CHECK (kind IN ('mention', 'security'));

-- +goose Down
DELETE FROM inbox WHERE item_id IS NULL;
ALTER TABLE inbox DROP COLUMN kind;
ALTER TABLE inbox ALTER COLUMN item_id SET NOT NULL;

CREATE TABLE login_failures (
    name      TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX login_failures_name ON login_failures (name, failed_at);
DROP TABLE login_throttle;
