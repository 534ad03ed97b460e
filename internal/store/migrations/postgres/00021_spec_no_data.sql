-- +goose Up
-- A spec scenario that reads the latest run of an item with no run yet has
-- the outcome no_data: nothing to judge, which is not an error.
ALTER TABLE item_spec_results DROP CONSTRAINT item_spec_results_outcome_check;
ALTER TABLE item_spec_results ADD CONSTRAINT item_spec_results_outcome_check CHECK (outcome IN ('passed', 'failed', 'error', 'skipped', 'no_data'));

-- +goose Down
DELETE FROM item_spec_results WHERE outcome = 'no_data';
ALTER TABLE item_spec_results DROP CONSTRAINT item_spec_results_outcome_check;
ALTER TABLE item_spec_results ADD CONSTRAINT item_spec_results_outcome_check CHECK (outcome IN ('passed', 'failed', 'error', 'skipped'));
