// Package tracking is experiment tracking as MLflow defines it — tracking
// experiments, runs, params, tags and metric series — scoped to a project,
// with MLflow's validation rules and limits, the search language and the
// links from runs to backlog items. Times are int64 milliseconds UTC, exactly
// as MLflow clients send and expect them.
package tracking

import (
	"context"
)

// Lifecycle stages of experiments and runs.
const (
	StageActive  = "active"
	StageDeleted = "deleted"
)

// Run statuses, MLflow's RunStatus enum.
var runStatuses = map[string]bool{"RUNNING": true, "SCHEDULED": true, "FINISHED": true, "FAILED": true, "KILLED": true}

// View types select by lifecycle stage.
const (
	ViewActive  = "ACTIVE_ONLY"
	ViewDeleted = "DELETED_ONLY"
	ViewAll     = "ALL"
)

// MLflow's limits (mlflow/utils/validation.py).
const (
	MaxMetricsPerBatch    = 1000
	MaxParamsTagsPerBatch = 100
	MaxEntitiesPerBatch   = 1000
	MaxKeyLength          = 250
	MaxParamValueLength   = 6000
	MaxTagValueLength     = 8000
	MaxExpTagValueLength  = 5000
	MaxExperimentName     = 500
	DefaultMaxResults     = 1000
	MaxResults            = 50000
	MaxDatasetsPerBatch   = 1000
	MaxDatasetName        = 500
	MaxDatasetDigest      = 36
	MaxDatasetSchema      = 1048575
	MaxDatasetSource      = 65535
	MaxDatasetProfile     = 16777215
	MaxInputTagKey        = 255
	MaxInputTagValue      = 500
)

// Well-known MLflow tag keys.
const (
	TagRunName   = "mlflow.runName"
	TagNote      = "mlflow.note.content"
	TagUser      = "mlflow.user"
	TagParentRun = "mlflow.parentRunId"
	TagLogModel  = "mlflow.log-model.history"
	TagItem      = "trellis.item"
	// TagDataContext is the input tag saying what a run used a dataset
	// for: "train", "eval", ...
	TagDataContext = "mlflow.data.context"
)

// Experiment is an MLflow experiment inside a project.
type Experiment struct {
	ID               int64
	ProjectID        string
	Name             string
	ArtifactLocation string // "" means the default, derived from project and id
	LifecycleStage   string
	CreatedAt        int64
	UpdatedAt        int64
	Tags             []Tag
}

// Tag is a key/value pair on an experiment or run; Param has the same shape.
type Tag struct {
	Key   string
	Value string
}

// Param is a run parameter: written once, never changed.
type Param struct {
	Key   string
	Value string
}

// Metric is one point of a metric series. Value may be NaN or ±Inf.
type Metric struct {
	Key       string
	Value     float64
	Timestamp int64
	Step      int64
}

// RunInfo is a run's own fields.
type RunInfo struct {
	ID             string // 32 lowercase hex digits
	ExperimentID   int64
	Name           string
	UserID         string
	Status         string
	StartTime      int64
	EndTime        *int64
	LifecycleStage string
	ArtifactURI    string
}

// Run is a run with its data; Metrics holds the latest point of each series.
// Inputs is filled by Service.Run and Service.SearchRuns, which answer
// clients, not by the lookups the write paths make.
type Run struct {
	Info    RunInfo
	Params  []Param
	Tags    []Tag
	Metrics []Metric
	Inputs  []DatasetInput
}

// Dataset is MLflow's reference to data a run used. It is kept once per
// tracking experiment, identified by name and digest; the first logging
// fixes its other fields. Schema and Profile are nil when not sent.
type Dataset struct {
	Name       string
	Digest     string
	SourceType string
	Source     string
	Schema     *string
	Profile    *string
}

// DatasetInput is a dataset a run used, with the input's tags (such as
// mlflow.data.context = train).
type DatasetInput struct {
	Dataset Dataset
	Tags    []Tag
}

// Batch is what one log-batch writes, all or nothing.
type Batch struct {
	Metrics []Metric
	Params  []Param
	Tags    []Tag
}

// ItemLink links a run to a backlog item by key.
type ItemLink struct {
	RunID     string
	ProjectID string
	ItemKey   string
	Source    string // "auto" or "manual"
	CreatedAt int64
}

// ExperimentQuery selects experiments of a project.
type ExperimentQuery struct {
	ProjectID string
	View      string
	Filter    Expr
	OrderBy   []OrderKey
	Offset    int
	Limit     int
}

// RunQuery selects runs of some experiments of a project.
type RunQuery struct {
	ProjectID     string
	ExperimentIDs []int64
	View          string
	Filter        Expr
	OrderBy       []OrderKey
	Offset        int
	Limit         int
}

// HistoryQuery pages through one metric series in (step, timestamp) order.
type HistoryQuery struct {
	RunID string
	Key   string
	// After is the position of the last point already returned; nil starts
	// at the beginning.
	After *HistoryCursor
	Limit int
	// StartStep and EndStep, when set, bound the steps (inclusive).
	StartStep, EndStep *int64
}

// HistoryCursor is a position in a series: a point's step, timestamp and
// storage sequence, which together order the series totally.
type HistoryCursor struct {
	Step, Timestamp, Seq int64
}

// BuildRun makes the run to insert, with its item links, once the store has
// read the experiment it goes into (Store.CreateRun).
type BuildRun func(e *Experiment) (*Run, []ItemLink, error)

// Store is the persistence tracking needs. Absent rows are ENOTFOUND; a taken
// experiment name is ECONFLICT.
type Store interface {
	CreateExperiment(ctx context.Context, e *Experiment) error
	FindExperiment(ctx context.Context, projectID string, id int64) (*Experiment, error)
	FindExperimentByName(ctx context.Context, projectID, name string) (*Experiment, error)
	FindExperiments(ctx context.Context, q ExperimentQuery) ([]*Experiment, error)
	// UpdateExperiment saves name, lifecycle stage and update time.
	UpdateExperiment(ctx context.Context, e *Experiment) error
	SetExperimentTag(ctx context.Context, experimentID int64, t Tag, at int64) error
	DeleteExperimentTag(ctx context.Context, experimentID int64, key string) error

	// CreateRun creates a run in one write transaction: it reads the
	// project's experiment expID (0: the one named DefaultExperimentName),
	// without its tags; build checks the request against it and returns
	// the run with its tags and item links, which are inserted. Errors:
	// ENOTFOUND (no such experiment) and build's errors, with nothing written.
	CreateRun(ctx context.Context, projectID string, expID int64, build BuildRun) error
	// FindRun returns a run of the project with its params, tags and latest
	// metrics.
	FindRun(ctx context.Context, projectID, runID string) (*Run, error)
	// FindRunInfo returns a run of the project without its data, for
	// writes that only check the run (log-batch).
	FindRunInfo(ctx context.Context, projectID, runID string) (*RunInfo, error)
	// UpdateRun saves name, status, end time and lifecycle stage.
	UpdateRun(ctx context.Context, info *RunInfo) error
	// LogBatch writes params, tags and metric points to a run of the
	// project in one transaction. It first hands write the run's info as
	// that transaction reads it: write may change the info's name, status
	// and end time, which are saved in the same transaction, and returns
	// the item links to add with the batch (existing ones are kept); its
	// error aborts the batch. A param already logged with a different
	// value is EINVALID. On any error nothing is written. Errors:
	// ENOTFOUND for no such run.
	LogBatch(ctx context.Context, projectID, runID string, write func(*RunInfo) ([]ItemLink, error), b Batch) error
	// DeleteRunTag removes a tag of a run. Errors: ENOTFOUND.
	DeleteRunTag(ctx context.Context, runID, key string) error
	// LogRunInputs records datasets of an experiment (a dataset already
	// known by name and digest is reused as it is) and links them to the
	// run with their tags, in one transaction; an input the run already
	// has is left as it is.
	LogRunInputs(ctx context.Context, experimentID int64, runID string, inputs []DatasetInput) error
	// FindRunInputs returns the dataset inputs of runs by run id, each in
	// the order they were first logged.
	FindRunInputs(ctx context.Context, runIDs []string) (map[string][]DatasetInput, error)
	FindRuns(ctx context.Context, q RunQuery) ([]*Run, error)
	// FindRunIDsByTag returns the ids of at most limit active runs of
	// the experiment tagged key=value, newest first, from the tag index.
	FindRunIDsByTag(ctx context.Context, experimentID int64, key, value string, limit int) ([]string, error)
	FindMetricHistory(ctx context.Context, q HistoryQuery) ([]Metric, error)
	// FindMetricBuckets aggregates a series into step buckets in the
	// database, so a million-point series never leaves it.
	FindMetricBuckets(ctx context.Context, q BucketQuery) ([]Bucket, error)

	// LinkRunItems adds links (existing ones are kept as they are).
	LinkRunItems(ctx context.Context, links []ItemLink) error
	UnlinkRunItem(ctx context.Context, runID, itemKey string) error
	FindRunItems(ctx context.Context, runID string) ([]ItemLink, error)
	// FindRunsItems lists the links of the runs of a project, by run id
	// and then by item number.
	FindRunsItems(ctx context.Context, projectID string, runIDs []string) ([]ItemLink, error)
	FindItemRuns(ctx context.Context, projectID, itemKey string) ([]ItemLink, error)

	SetDefaultProject(ctx context.Context, userID, projectID string) error
	// FindDefaultProject returns "" when the user has none.
	FindDefaultProject(ctx context.Context, userID string) (string, error)
}

// Bucket is one bucket of a downsampled series: the steps it spans and the
// smallest, largest and mean value in it (NaN points are left out).
type Bucket struct {
	FirstStep, LastStep int64
	Min, Max, Mean      float64
	Count               int64
}

// BucketQuery asks for a series cut into at most Buckets equal step ranges
// between StartStep and EndStep (inclusive; nil means the series' ends).
// The store may widen the ranges (to whole rollup blocks), giving fewer.
type BucketQuery struct {
	RunID              string
	Key                string
	StartStep, EndStep *int64
	Buckets            int
}
