-- +goose Up
-- The runs a goal is judged on can be chosen: the runs of one tracking
-- experiment (by name, as MLflow scripts name it with set_experiment), the
-- runs carrying one tag, or both. A project goal needs a choice; without
-- one it judges no runs, rather than every run of the project.
ALTER TABLE goals ADD COLUMN runs_experiment TEXT NOT NULL DEFAULT '';
ALTER TABLE goals ADD COLUMN runs_tag_key TEXT NOT NULL DEFAULT '';
ALTER TABLE goals ADD COLUMN runs_tag_value TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE goals DROP COLUMN runs_tag_value;
ALTER TABLE goals DROP COLUMN runs_tag_key;
ALTER TABLE goals DROP COLUMN runs_experiment;
