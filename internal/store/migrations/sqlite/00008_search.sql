-- +goose Up
-- Full-text search over item titles, descriptions and comments (FTS5). The
-- index shares the items' rowids; triggers keep it in step.
CREATE VIRTUAL TABLE items_fts USING fts5(title, description, comments, tokenize = 'unicode61 remove_diacritics 2');

INSERT INTO items_fts (rowid, title, description, comments)
SELECT i.rowid, i.title, i.description, COALESCE((SELECT group_concat(c.body, ' ') FROM item_comments c WHERE c.item_id = i.id), '')
FROM items i;

-- +goose StatementBegin
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, description, comments) VALUES (new.rowid, new.title, new.description, '');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, description ON items BEGIN
    UPDATE items_fts SET title = new.title, description = new.description WHERE rowid = new.rowid;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    DELETE FROM items_fts WHERE rowid = old.rowid;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER items_fts_comment AFTER INSERT ON item_comments BEGIN
    UPDATE items_fts SET comments = comments || ' ' || new.body WHERE rowid = (SELECT rowid FROM items WHERE id = new.item_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER items_fts_comment;
DROP TRIGGER items_fts_delete;
DROP TRIGGER items_fts_update;
DROP TRIGGER items_fts_insert;
DROP TABLE items_fts;
