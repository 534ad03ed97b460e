package tracking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// NewRun is the input to CreateRun.
type NewRun struct {
	ExperimentID string
	UserID       string
	Name         string
	StartTime    int64
	Tags         []Tag
}

// NewRunID returns a fresh 32-hex MLflow run id.
//
// The first 12 digits are the creation time in milliseconds, the other 20
// random (80 bits), as in a version 7 UUID: every table keyed by run id
// (runs, params, tags, latest metrics) then grows at its end instead of at
// random places, so a commit dirties the pages the previous one did
// rather than one more page per table, and the pages a checkpoint writes
// and the cache holds stay few as the runs grow to the hundreds of
// thousands.
func NewRunID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b[6:])
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	return hex.EncodeToString(b)
}

var nameWords = [2][]string{
	{"amber", "bold", "calm", "clever", "crisp", "dapper", "eager", "fleet", "gentle", "jolly", "keen", "lucid", "merry", "nimble", "polite", "quiet", "rare", "sunny", "swift", "tidy", "vivid", "witty"},
	{"ant", "bat", "crane", "deer", "eel", "finch", "gnu", "hare", "ibis", "jay", "koi", "lark", "mole", "newt", "owl", "puma", "quail", "rook", "seal", "toad", "vole", "wren"},
}

func randomRunName() string {
	pick := func(n int) int {
		v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
		return int(v.Int64())
	}
	return nameWords[0][pick(len(nameWords[0]))] + "-" + nameWords[1][pick(len(nameWords[1]))] + "-" + strconv.Itoa(pick(1000))
}

// CreateRun starts a run in an active experiment of proj. The run name comes
// from Name, else the mlflow.runName tag, else a generated one; the user
// from UserID, else the mlflow.user tag, else the caller.
// Errors: EINVALID, ENOTFOUND.
func (s *Service) CreateRun(ctx context.Context, proj *project.Project, in NewRun) (*Run, error) {
	if in.ExperimentID == "" {
		in.ExperimentID = "0"
	}
	n, err := ParseExperimentID(in.ExperimentID)
	if err != nil {
		return nil, err
	}
	// The experiment check, the run, its tags and its item links are one
	// write transaction; build runs inside it once the experiment is read.
	var r *Run
	build := func(e *Experiment) (*Run, []ItemLink, error) {
		var links []ItemLink
		var err error
		r, links, err = s.newRun(ctx, proj, e, in)
		return r, links, err
	}
	err = s.store.CreateRun(ctx, proj.ID, n, build)
	if n == 0 && trellis.ErrorCode(err) == trellis.ENOTFOUND {
		// The project's first run in the default experiment creates it.
		if _, err = s.defaultExperiment(ctx, proj); err == nil {
			err = s.store.CreateRun(ctx, proj.ID, n, build)
		}
	}
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, trellis.Errorf(trellis.ENOTFOUND, "No Experiment with id=%s exists", in.ExperimentID)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// newRun checks a run request against its experiment and makes the run:
// name (from run_name or the mlflow.runName tag, else a random one), user
// (argument, mlflow.user tag, else the caller) and the item links that the
// name, the experiment's name and the note and item tags mention.
func (s *Service) newRun(ctx context.Context, proj *project.Project, e *Experiment, in NewRun) (*Run, []ItemLink, error) {
	if e.LifecycleStage != StageActive {
		return nil, nil, trellis.Invalid("experiment_id", "Could not create run under non-active experiment with ID %d.", e.ID)
	}
	tags := dedupTags(in.Tags)
	if len(tags) > MaxParamsTagsPerBatch {
		return nil, nil, trellis.Invalid("tags", "A run is created with at most %d tags", MaxParamsTagsPerBatch)
	}
	for _, t := range tags {
		if err := checkTag(t, MaxTagValueLength); err != nil {
			return nil, nil, err
		}
	}
	name := in.Name
	if v, ok := tagValue(tags, TagRunName); ok {
		if name != "" && v != name {
			return nil, nil, trellis.Invalid("run_name", "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='%s', mlflow.runName='%s').", name, v)
		}
		name = v
	}
	if name == "" {
		name = randomRunName()
	}
	if len(name) > MaxTagValueLength {
		return nil, nil, trellis.Invalid("run_name", "run_name exceeds the maximum length of %d characters", MaxTagValueLength)
	}
	tags = setTag(tags, Tag{TagRunName, name})
	user := in.UserID
	if v, ok := tagValue(tags, TagUser); ok && user == "" {
		user = v
	}
	if user == "" {
		if p := auth.FromContext(ctx); p != nil {
			user = p.User.Name
		}
	}
	start := in.StartTime
	if start == 0 {
		start = s.nowMs()
	}
	id := NewRunID()
	r := &Run{Info: RunInfo{ID: id, ExperimentID: e.ID, Name: name, UserID: user, Status: "RUNNING", StartTime: start,
		LifecycleStage: StageActive, ArtifactURI: ExperimentArtifactLocation(e) + "/" + id + "/artifacts"}, Tags: tags}
	texts := []string{name, e.Name}
	for _, t := range tags {
		if t.Key == TagNote || t.Key == TagItem {
			texts = append(texts, t.Value)
		}
	}
	return r, s.itemLinks(proj, id, texts...), nil
}

func tagValue(tags []Tag, key string) (string, bool) {
	for _, t := range tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

func setTag(tags []Tag, t Tag) []Tag {
	for i := range tags {
		if tags[i].Key == t.Key {
			tags[i] = t
			return tags
		}
	}
	return append(tags, t)
}

// Run returns a run of proj with its dataset inputs. Errors: ENOTFOUND.
func (s *Service) Run(ctx context.Context, proj *project.Project, runID string) (*Run, error) {
	r, err := s.findRun(ctx, proj, runID)
	if err != nil {
		return nil, err
	}
	return r, s.loadInputs(ctx, []*Run{r})
}

// findRun returns a run of proj without its inputs, for the paths that only
// check the run or read its data. Errors: ENOTFOUND.
func (s *Service) findRun(ctx context.Context, proj *project.Project, runID string) (*Run, error) {
	if runID == "" {
		return nil, trellis.Invalid("run_id", "Missing value for required parameter 'run_id'.")
	}
	r, err := s.store.FindRun(ctx, proj.ID, runID)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Run '%s' not found", runID)
	}
	return r, err
}

func (s *Service) activeRun(ctx context.Context, proj *project.Project, runID string) (*Run, error) {
	r, err := s.findRun(ctx, proj, runID)
	if err != nil {
		return nil, err
	}
	if r.Info.LifecycleStage != StageActive {
		return nil, trellis.Invalid("run_id", "The run %s must be in the 'active' state. Current state is %s.", runID, r.Info.LifecycleStage)
	}
	return r, nil
}

// runInfo is Run without the run's params, tags and metrics, for calls
// that only check that the run exists in proj. Errors: ENOTFOUND.
func (s *Service) runInfo(ctx context.Context, proj *project.Project, runID string) (*RunInfo, error) {
	if runID == "" {
		return nil, trellis.Invalid("run_id", "Missing value for required parameter 'run_id'.")
	}
	info, err := s.store.FindRunInfo(ctx, proj.ID, runID)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Run '%s' not found", runID)
	}
	return info, err
}

// RunUpdate changes the fields that are set.
type RunUpdate struct {
	Status  *string
	EndTime *int64
	Name    *string
}

// UpdateRun changes a run's status, end time or name (with its
// mlflow.runName tag and the item links the name mentions), in one
// transaction. Errors: EINVALID, ENOTFOUND.
func (s *Service) UpdateRun(ctx context.Context, proj *project.Project, runID string, upd RunUpdate) (*RunInfo, error) {
	var b Batch
	if upd.Name != nil && *upd.Name != "" {
		b.Tags = []Tag{{TagRunName, *upd.Name}}
	}
	var wasTerminal bool
	info, err := s.logBatch(ctx, proj, runID, b, func(i *RunInfo) error {
		wasTerminal = terminal[i.Status]
		if upd.Status != nil {
			if !runStatuses[*upd.Status] {
				return trellis.Invalid("status", "Invalid run status '%s'; use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.", *upd.Status)
			}
			i.Status = *upd.Status
		}
		if upd.EndTime != nil {
			i.EndTime = upd.EndTime
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if terminal[info.Status] && !wasTerminal {
		s.finished(ctx, RunFinished{Project: proj, RunID: runID, Status: info.Status})
	}
	return info, nil
}

// SetRunStage deletes or restores a run. Errors: ENOTFOUND.
func (s *Service) SetRunStage(ctx context.Context, proj *project.Project, runID, stage string) error {
	r, err := s.findRun(ctx, proj, runID)
	if err != nil {
		return err
	}
	r.Info.LifecycleStage = stage
	return s.store.UpdateRun(ctx, &r.Info)
}

// DeleteRunTag removes a tag from an active run. Errors: ENOTFOUND.
func (s *Service) DeleteRunTag(ctx context.Context, proj *project.Project, runID, key string) error {
	if _, err := s.activeRun(ctx, proj, runID); err != nil {
		return err
	}
	if err := s.store.DeleteRunTag(ctx, runID, key); err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return trellis.Errorf(trellis.ENOTFOUND, "No tag with name: %s in run with id %s", key, runID)
		}
		return err
	}
	return nil
}

// ChildRuns returns the active nested runs of a run (those whose
// mlflow.parentRunId tag names it), newest first, at most max. It looks
// the children up in the tag index instead of searching, which would visit
// every run of the experiment when there are none.
func (s *Service) ChildRuns(ctx context.Context, proj *project.Project, parent *Run, max int) ([]*Run, error) {
	ids, err := s.store.FindRunIDsByTag(ctx, parent.Info.ExperimentID, TagParentRun, parent.Info.ID, max)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	quoted := make([]string, len(ids))
	for i, id := range ids {
		if strings.ContainsAny(id, "'\\") {
			return nil, fmt.Errorf("tracking: run id %q cannot be quoted in a filter", id)
		}
		quoted[i] = "'" + id + "'"
	}
	runs, _, err := s.SearchRuns(ctx, proj, SearchRunsInput{ExperimentIDs: []string{strconv.FormatInt(parent.Info.ExperimentID, 10)},
		SearchInput: SearchInput{Filter: "attributes.run_id IN (" + strings.Join(quoted, ", ") + ")", MaxResults: int64(max)}})
	return runs, err
}

// SearchRunsInput is the input to SearchRuns.
type SearchRunsInput struct {
	SearchInput
	ExperimentIDs []string
}

// SearchRuns finds runs of proj's experiments. Errors: EINVALID (with the
// column of a syntax error), ENOTFOUND (an experiment).
func (s *Service) SearchRuns(ctx context.Context, proj *project.Project, in SearchRunsInput) ([]*Run, string, error) {
	q, err := in.parse(runAttributes)
	if err != nil {
		return nil, "", err
	}
	view, offset, limit, filter, order := q.view, q.offset, q.limit, q.filter, q.order
	for _, k := range order {
		if _, ok := runAttributes[k.Key]; k.Entity == EntityAttribute && !ok {
			return nil, "", trellis.Invalid("order_by", "Invalid order_by attribute %q", k.Key)
		}
		if k.Entity == EntityDataset {
			// A run has any number of dataset inputs, so no one value to sort by.
			return nil, "", trellis.Invalid("order_by", "Invalid order_by entity datasets.%s; order runs by attributes., metrics., params. or tags.", k.Key)
		}
	}
	if len(in.ExperimentIDs) == 0 {
		return nil, "", trellis.Invalid("experiment_ids", "experiment_ids must name at least one experiment")
	}
	var ids []int64
	for _, id := range in.ExperimentIDs {
		e, err := s.Experiment(ctx, proj, id)
		if err != nil {
			return nil, "", err
		}
		ids = append(ids, e.ID)
	}
	runs, err := s.store.FindRuns(ctx, RunQuery{ProjectID: proj.ID, ExperimentIDs: ids, View: view, Filter: filter, OrderBy: order, Offset: offset, Limit: limit + 1})
	if err != nil {
		return nil, "", err
	}
	runs, next := trimPage(runs, offset, limit)
	if err := s.loadInputs(ctx, runs); err != nil {
		return nil, "", err
	}
	return runs, next, nil
}

// LogModel appends a model description to the run's
// mlflow.log-model.history tag, a JSON list, as MLflow's server does.
// Errors: EINVALID, ENOTFOUND.
func (s *Service) LogModel(ctx context.Context, proj *project.Project, runID string, model map[string]any) error {
	r, err := s.activeRun(ctx, proj, runID)
	if err != nil {
		return err
	}
	var history []any
	if v, ok := tagValue(r.Tags, TagLogModel); ok {
		_ = json.Unmarshal([]byte(v), &history)
	}
	history = append(history, model)
	b, err := json.Marshal(history)
	if err != nil {
		return trellis.Invalid("model_json", "model_json cannot be stored: %v", err)
	}
	return s.LogBatch(ctx, proj, runID, Batch{Tags: []Tag{{Key: TagLogModel, Value: string(b)}}})
}
