-- +goose Up
-- Full-text search over item titles and descriptions (with a GIN index)
-- and comments; the 'simple' configuration keeps technical words as they are.
CREATE INDEX items_fts ON items USING GIN (to_tsvector('simple', title || ' ' || description));
CREATE INDEX item_comments_fts ON item_comments USING GIN (to_tsvector('simple', body));

-- +goose Down
DROP INDEX item_comments_fts;
DROP INDEX items_fts;
