-- +goose Up
-- MLflow's dataset inputs (runs/log-inputs). A dataset is kept once per
-- tracking experiment, identified by name and digest, as MLflow does; a run
-- input links a run to a dataset once, with the input's tags (such as
-- mlflow.data.context = train) fixed when it is first logged. The id orders
-- a run's inputs as they were logged.
CREATE TABLE tracking_datasets (
    id              INTEGER PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES tracking_experiments (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    digest          TEXT NOT NULL,
    source_type     TEXT NOT NULL,
    source          TEXT NOT NULL,
    dataset_schema  TEXT,
    dataset_profile TEXT,
    UNIQUE (experiment_id, name, digest)
) STRICT;

CREATE TABLE tracking_run_inputs (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES tracking_runs (id) ON DELETE CASCADE,
    dataset_id INTEGER NOT NULL REFERENCES tracking_datasets (id) ON DELETE CASCADE,
    UNIQUE (run_id, dataset_id)
) STRICT;
CREATE INDEX tracking_run_inputs_dataset ON tracking_run_inputs (dataset_id);

CREATE TABLE tracking_input_tags (
    input_id INTEGER NOT NULL REFERENCES tracking_run_inputs (id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (input_id, key)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE tracking_input_tags;
DROP TABLE tracking_run_inputs;
DROP TABLE tracking_datasets;
