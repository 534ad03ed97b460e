-- +goose Up
-- The decision that closes an experiment item, with its evidence and the
-- follow-up item it created.
CREATE TABLE item_decisions (
    item_id      TEXT PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    outcome      TEXT NOT NULL CHECK (outcome IN ('productionize', 'abandon', 'more_research')),
    verdict      TEXT NOT NULL CHECK (verdict IN ('supported', 'refuted', 'inconclusive')),
    reason       TEXT NOT NULL DEFAULT '',
    evidence     TEXT NOT NULL DEFAULT '[]',
    follow_up_id TEXT REFERENCES items (id) ON DELETE SET NULL,
    decided_by   TEXT NOT NULL,
    decided_at   INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE item_decisions;
