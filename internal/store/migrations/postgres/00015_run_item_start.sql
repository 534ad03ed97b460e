-- +goose Up
-- A board's goal badges need, per item goal, the latest active linked run
-- (by start time, then id) that logged the goal's metric. With the links
-- indexed by (project, item key) only, every linked run had to be read
-- and sorted for every goal (30,000 probes for 1,000 items of 3 goals and
-- 10 runs). The run's start time, copied onto its links and indexed after
-- the item key, lets the goal read the links newest first and stop at the
-- first run that logged the metric. A run's start time is set when it is
-- created and never changes, so the copy cannot go stale; the trigger
-- fills it on every insert, whichever statement adds the link.
ALTER TABLE tracking_run_items ADD COLUMN run_start BIGINT NOT NULL DEFAULT 0;
UPDATE tracking_run_items l SET run_start = r.start_time FROM tracking_runs r WHERE r.id = l.run_id;
CREATE INDEX tracking_run_items_latest ON tracking_run_items (project_id, item_key, run_start DESC, run_id DESC);
DROP INDEX tracking_run_items_item;
-- +goose StatementBegin
CREATE FUNCTION tracking_run_items_start() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    NEW.run_start := (SELECT r.start_time FROM tracking_runs r WHERE r.id = NEW.run_id);
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER tracking_run_items_start BEFORE INSERT ON tracking_run_items
    FOR EACH ROW EXECUTE FUNCTION tracking_run_items_start();

-- +goose Down
DROP TRIGGER tracking_run_items_start ON tracking_run_items;
DROP FUNCTION tracking_run_items_start();
CREATE INDEX tracking_run_items_item ON tracking_run_items (project_id, item_key);
DROP INDEX tracking_run_items_latest;
ALTER TABLE tracking_run_items DROP COLUMN run_start;
