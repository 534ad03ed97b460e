package tracking

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/ttlcache"
)

// Service applies MLflow's rules to tracking data of authorized projects.
// Callers (the HTTP surfaces) authorize the project first; the service
// checks that every experiment and run it touches belongs to that project.
type Service struct {
	store       Store
	now         func() time.Time
	runFinished []func(context.Context, RunFinished)
	// artifactPrefixes are the URI prefixes the operator lets clients
	// choose as an experiment's artifact_location; none by default.
	artifactPrefixes []string
	// defaults remembers users' default project ids, which the unprefixed
	// MLflow URI asks for on every request. SetDefaultProject drops the
	// user's entry before it returns; a change made by another process
	// applies within defaultProjectTTL.
	defaults *ttlcache.Cache[string, string]
}

const defaultProjectTTL = 5 * time.Second

// NewService returns a Service.
func NewService(store Store) *Service {
	return &Service{store: store, now: time.Now, defaults: ttlcache.New[string, string](defaultProjectTTL, 10000)}
}

// AllowArtifactLocations sets the URI prefixes (checked with
// CheckArtifactLocationPrefix by the caller's config) under which clients
// may put a tracking experiment's artifact_location. With none, every
// experiment keeps its artifacts in this server's store.
func (s *Service) AllowArtifactLocations(prefixes []string) {
	s.artifactPrefixes = append([]string(nil), prefixes...)
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) nowMs() int64 { return trellis.Millis(s.now()) }

// DefaultExperimentName names the experiment MLflow's experiment id "0"
// stands for in each project.
const DefaultExperimentName = "Default"

var validName = regexp.MustCompile(`^[/\w.\- :]*$`)

func checkKey(field, key string) error {
	switch {
	case key == "":
		return trellis.Invalid(field, "Missing value for required parameter '%s'. A key name must be provided.", field)
	case len(key) > MaxKeyLength:
		return trellis.Invalid(field, "'%s' exceeds the maximum length of %d characters", field, MaxKeyLength)
	case !validName.MatchString(key):
		return trellis.Invalid(field, "Invalid name '%s'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/).", key)
	}
	norm := path.Clean(key)
	if norm != key || norm == "." || strings.HasPrefix(norm, "..") || strings.HasPrefix(norm, "/") {
		return trellis.Invalid(field, "Invalid name '%s'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '%s'", key, norm)
	}
	return nil
}

func checkTag(t Tag, maxValue int) error {
	if err := checkKey("key", t.Key); err != nil {
		return err
	}
	if len(t.Value) > maxValue {
		return trellis.Invalid("value", "Tag value of '%s' exceeds the maximum length of %d characters (got %d)", t.Key, maxValue, len(t.Value))
	}
	return nil
}

// ParseExperimentID parses MLflow's string experiment id.
func ParseExperimentID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return 0, trellis.Invalid("experiment_id", "Invalid experiment ID: '%s'", s)
	}
	return id, nil
}

// ExperimentArtifactLocation returns where an experiment's artifacts live.
func ExperimentArtifactLocation(e *Experiment) string {
	if e.ArtifactLocation != "" {
		return e.ArtifactLocation
	}
	return "mlflow-artifacts:/" + strconv.FormatInt(e.ID, 10)
}

// MaxArtifactLocation bounds a client-chosen artifact_location.
const MaxArtifactLocation = 2048

// serverSchemes are the artifact URI schemes the server itself manages or
// resolves; a client may never choose them, nor may an operator allow them,
// because they would reach into other experiments' artifacts.
var serverSchemes = map[string]bool{"mlflow-artifacts": true, "runs": true, "models": true}

var schemeRE = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.\-]*):`)

// checkLocationURI applies the rules shared by allowed prefixes and chosen
// locations: an absolute URI with a scheme and something after it, no
// server-managed scheme, no '.' or '..' segment (escaped or not), no
// escaped slash, no backslash or control character.
func checkLocationURI(field, loc string) error {
	m := schemeRE.FindStringSubmatch(loc)
	switch {
	case len(loc) > MaxArtifactLocation:
		return trellis.Invalid(field, "%s is longer than %d characters", field, MaxArtifactLocation)
	case m == nil:
		return trellis.Invalid(field, "%s %q must be an absolute URI with a scheme, such as s3://bucket/prefix/", field, loc)
	case serverSchemes[strings.ToLower(m[1])]:
		return trellis.Invalid(field, "%s %q uses the %s: scheme, which this server manages itself", field, loc, m[1])
	case strings.Trim(loc[len(m[0]):], "/") == "":
		return trellis.Invalid(field, "%s %q names only a scheme; give a bucket, host or directory", field, loc)
	case strings.ContainsAny(loc, "\\\x00\r\n\t"):
		return trellis.Invalid(field, "%s %q contains a backslash or a control character", field, loc)
	}
	// Segments are checked decoded too: MLflow's client unescapes file:
	// URIs, so %2e%2e would climb out as surely as "..".
	for _, seg := range strings.Split(loc[len(m[0]):], "/") {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return trellis.Invalid(field, "%s %q has a malformed %%-escape", field, loc)
		}
		if seg == ".." || seg == "." || dec == ".." || dec == "." || strings.ContainsAny(dec, "/\\\x00") {
			return trellis.Invalid(field, "%s %q contains a '.' or '..' segment, or an escaped slash", field, loc)
		}
	}
	return nil
}

// CheckArtifactLocationPrefix validates an operator's allowed
// artifact_location prefix. Errors: EINVALID.
func CheckArtifactLocationPrefix(prefix string) error {
	return checkLocationURI("allow-artifact-location", prefix)
}

// underPrefix reports whether loc is prefix itself or below it: the
// prefix "s3://team" allows "s3://team/x" but not "s3://team-other".
func underPrefix(loc, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(loc, prefix) || loc == strings.TrimSuffix(prefix, "/")
	}
	return loc == prefix || strings.HasPrefix(loc, prefix+"/")
}

// checkArtifactLocation applies the operator's rule to a client-chosen
// artifact_location ("" is always fine: the server's own store).
func (s *Service) checkArtifactLocation(loc string) error {
	if loc == "" {
		return nil
	}
	if len(s.artifactPrefixes) == 0 {
		return trellis.Invalid("artifact_location", "artifact_location %q is not allowed: this server keeps artifacts itself and its operator allows no client-chosen location (trellis serve --allow-artifact-location PREFIX). Leave artifact_location empty.", loc)
	}
	if err := checkLocationURI("artifact_location", loc); err != nil {
		return err
	}
	for _, p := range s.artifactPrefixes {
		if underPrefix(loc, p) {
			return nil
		}
	}
	return trellis.Invalid("artifact_location", "artifact_location %q is not under a prefix the operator allows (%s); leave it empty to keep artifacts on this server.", loc, strings.Join(s.artifactPrefixes, ", "))
}

// ArtifactBlobPrefix is where the artifact proxy keeps what an
// mlflow-artifacts:/ URI names: "mlflow-artifacts:/1/<run>/artifacts/x"
// is the blob key "mlflow/1/<run>/artifacts/x".
const ArtifactBlobPrefix = "mlflow/"

// RunArtifactRoot returns the blob key under which a run's artifacts live,
// and false when the run keeps them outside this server's store. The key
// comes from the run record, never from a request, so a caller joining a
// cleaned relative path to it stays inside that run's artifacts.
func RunArtifactRoot(r *Run) (string, bool) {
	rest, ok := strings.CutPrefix(r.Info.ArtifactURI, "mlflow-artifacts:/")
	if !ok || rest == "" || strings.Contains(rest, "..") {
		return "", false
	}
	return ArtifactBlobPrefix + strings.Trim(rest, "/"), true
}

func checkExperimentName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return trellis.Invalid("name", "Invalid experiment name: '%s'. An experiment name must be a non-empty string.", name)
	case len(name) > MaxExperimentName:
		return trellis.Invalid("name", "Experiment name exceeds the maximum length of %d characters", MaxExperimentName)
	}
	return nil
}

// CreateExperiment creates a tracking experiment in proj. Clients may
// choose an artifact location only under a prefix the operator allowed
// (AllowArtifactLocations); otherwise artifacts go through the server's
// proxy and blob store. Errors: EINVALID, ECONFLICT (name taken, also by a
// deleted experiment).
func (s *Service) CreateExperiment(ctx context.Context, proj *project.Project, name, artifactLocation string, tags []Tag) (*Experiment, error) {
	if err := checkExperimentName(name); err != nil {
		return nil, err
	}
	if err := s.checkArtifactLocation(artifactLocation); err != nil {
		return nil, err
	}
	for _, t := range tags {
		if err := checkTag(t, MaxExpTagValueLength); err != nil {
			return nil, err
		}
	}
	now := s.nowMs()
	e := &Experiment{ProjectID: proj.ID, Name: name, ArtifactLocation: artifactLocation, LifecycleStage: StageActive, CreatedAt: now, UpdatedAt: now, Tags: dedupTags(tags)}
	if err := s.store.CreateExperiment(ctx, e); err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			return nil, trellis.Errorf(trellis.ECONFLICT, "Experiment '%s' already exists.", name)
		}
		return nil, err
	}
	return e, nil
}

func dedupTags(tags []Tag) []Tag {
	seen := map[string]int{}
	var out []Tag
	for _, t := range tags {
		if i, ok := seen[t.Key]; ok {
			out[i] = t
			continue
		}
		seen[t.Key] = len(out)
		out = append(out, t)
	}
	return out
}

// Experiment returns an experiment of proj by MLflow id. Id "0" is the
// project's Default experiment, created on first use, because MLflow clients
// log to experiment 0 when none is set. Errors: EINVALID, ENOTFOUND.
func (s *Service) Experiment(ctx context.Context, proj *project.Project, id string) (*Experiment, error) {
	n, err := ParseExperimentID(id)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return s.defaultExperiment(ctx, proj)
	}
	e, err := s.store.FindExperiment(ctx, proj.ID, n)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, trellis.Errorf(trellis.ENOTFOUND, "No Experiment with id=%s exists", id)
	}
	return e, err
}

func (s *Service) defaultExperiment(ctx context.Context, proj *project.Project) (*Experiment, error) {
	e, err := s.store.FindExperimentByName(ctx, proj.ID, DefaultExperimentName)
	if trellis.ErrorCode(err) != trellis.ENOTFOUND {
		return e, err
	}
	now := s.nowMs()
	e = &Experiment{ProjectID: proj.ID, Name: DefaultExperimentName, LifecycleStage: StageActive, CreatedAt: now, UpdatedAt: now}
	err = s.store.CreateExperiment(ctx, e)
	if trellis.ErrorCode(err) == trellis.ECONFLICT { // created concurrently
		return s.store.FindExperimentByName(ctx, proj.ID, DefaultExperimentName)
	}
	return e, err
}

// ExperimentByName returns an experiment of proj. Errors: ENOTFOUND.
func (s *Service) ExperimentByName(ctx context.Context, proj *project.Project, name string) (*Experiment, error) {
	if name == "" {
		return nil, trellis.Invalid("experiment_name", "Missing value for required parameter 'experiment_name'.")
	}
	e, err := s.store.FindExperimentByName(ctx, proj.ID, name)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		if name == DefaultExperimentName {
			return s.defaultExperiment(ctx, proj)
		}
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Could not find experiment with name '%s'", name)
	}
	return e, err
}

// SearchInput is the common part of experiment and run searches.
type SearchInput struct {
	View       string
	Filter     string
	OrderBy    []string
	MaxResults int64
	PageToken  string
}

type pageToken struct {
	Offset int `json:"o"`
}

func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return trellis.Invalid("page_token", "Invalid page token: it must be a next_page_token returned by this server.")
	}
	return nil
}

func (in SearchInput) page(defaultMax int) (offset, limit int, err error) {
	limit = defaultMax
	if in.MaxResults < 0 || in.MaxResults > MaxResults {
		return 0, 0, trellis.Invalid("max_results", "Invalid value %d for parameter 'max_results' supplied. It must be a positive integer at most %d.", in.MaxResults, MaxResults)
	}
	if in.MaxResults > 0 {
		limit = int(in.MaxResults)
	}
	if in.PageToken != "" {
		var t pageToken
		if err := decodeToken(in.PageToken, &t); err != nil {
			return 0, 0, err
		}
		if t.Offset < 0 {
			return 0, 0, trellis.Invalid("page_token", "Invalid page token.")
		}
		offset = t.Offset
	}
	return offset, limit, nil
}

func checkView(v string) (string, error) {
	switch v {
	case "", ViewActive:
		return ViewActive, nil
	case ViewDeleted, ViewAll:
		return v, nil
	}
	return "", trellis.Invalid("view_type", "Invalid view type '%s'; use ACTIVE_ONLY, DELETED_ONLY or ALL.", v)
}

// parsedSearch is a search request checked and parsed, common to
// experiments and runs.
type parsedSearch struct {
	view          string
	offset, limit int
	filter        Expr
	order         []OrderKey
}

// parse checks the view and page, and parses the filter (whose attributes
// must be in attrs) and the order.
func (in SearchInput) parse(attrs map[string]bool) (parsedSearch, error) {
	var q parsedSearch
	var err error
	if q.view, err = checkView(in.View); err != nil {
		return q, err
	}
	if q.offset, q.limit, err = in.page(DefaultMaxResults); err != nil {
		return q, err
	}
	if q.filter, err = ParseFilter(in.Filter); err != nil {
		return q, err
	}
	if err = checkAttributes("filter", q.filter, attrs); err != nil {
		return q, err
	}
	q.order, err = ParseOrderBy(in.OrderBy)
	return q, err
}

// trimPage cuts a result fetched with limit+1 rows to limit and returns the
// token of the next page, "" when this was the last.
func trimPage[T any](xs []T, offset, limit int) ([]T, string) {
	if len(xs) <= limit {
		return xs, ""
	}
	return xs[:limit], encodeToken(pageToken{Offset: offset + limit})
}

// SearchExperiments lists experiments of proj. Errors: EINVALID (filter and
// order syntax, with the column).
func (s *Service) SearchExperiments(ctx context.Context, proj *project.Project, in SearchInput) ([]*Experiment, string, error) {
	q, err := in.parse(experimentAttributes)
	if err != nil {
		return nil, "", err
	}
	view, offset, limit, filter, order := q.view, q.offset, q.limit, q.filter, q.order
	for _, k := range order {
		if _, ok := experimentAttributes[k.Key]; k.Entity != EntityAttribute || !ok {
			return nil, "", trellis.Invalid("order_by", "Invalid order_by entity for experiments: %s.%s; use name, experiment_id, creation_time or last_update_time", k.Entity, k.Key)
		}
	}
	// MLflow always has a Default experiment; make sure the project's
	// exists before the first listing shows it.
	if _, err := s.defaultExperiment(ctx, proj); err != nil {
		return nil, "", err
	}
	es, err := s.store.FindExperiments(ctx, ExperimentQuery{ProjectID: proj.ID, View: view, Filter: filter, OrderBy: order, Offset: offset, Limit: limit + 1})
	if err != nil {
		return nil, "", err
	}
	es, next := trimPage(es, offset, limit)
	return es, next, nil
}

// RenameExperiment renames an experiment. Errors: EINVALID, ENOTFOUND, ECONFLICT.
func (s *Service) RenameExperiment(ctx context.Context, proj *project.Project, id, name string) error {
	if err := checkExperimentName(name); err != nil {
		return err
	}
	e, err := s.Experiment(ctx, proj, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageActive {
		return trellis.Invalid("experiment_id", "Cannot rename a non-active experiment.")
	}
	e.Name, e.UpdatedAt = name, s.nowMs()
	if err := s.store.UpdateExperiment(ctx, e); err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			return trellis.Errorf(trellis.ECONFLICT, "Experiment '%s' already exists.", name)
		}
		return err
	}
	return nil
}

// SetExperimentStage deletes (StageDeleted) or restores (StageActive) an
// experiment and its runs. Errors: ENOTFOUND, EINVALID.
func (s *Service) SetExperimentStage(ctx context.Context, proj *project.Project, id, stage string) error {
	e, err := s.Experiment(ctx, proj, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage == stage {
		if stage == StageActive {
			return trellis.Invalid("experiment_id", "Cannot restore an active experiment.")
		}
		return trellis.Invalid("experiment_id", "Cannot delete an already deleted experiment.")
	}
	e.LifecycleStage, e.UpdatedAt = stage, s.nowMs()
	return s.store.UpdateExperiment(ctx, e)
}

// SetExperimentTag sets a tag on an active experiment. Errors: EINVALID, ENOTFOUND.
func (s *Service) SetExperimentTag(ctx context.Context, proj *project.Project, id string, t Tag) error {
	if err := checkTag(t, MaxExpTagValueLength); err != nil {
		return err
	}
	e, err := s.Experiment(ctx, proj, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageActive {
		return trellis.Invalid("experiment_id", "The experiment %d must be in the 'active' state. Current state is %s.", e.ID, e.LifecycleStage)
	}
	return s.store.SetExperimentTag(ctx, e.ID, t, s.nowMs())
}

// DeleteExperimentTag removes a tag. Errors: ENOTFOUND (experiment or tag).
func (s *Service) DeleteExperimentTag(ctx context.Context, proj *project.Project, id, key string) error {
	e, err := s.Experiment(ctx, proj, id)
	if err != nil {
		return err
	}
	if e.LifecycleStage != StageActive {
		return trellis.Invalid("experiment_id", "The experiment %d must be in the 'active' state. Current state is %s.", e.ID, e.LifecycleStage)
	}
	if err := s.store.DeleteExperimentTag(ctx, e.ID, key); err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return trellis.Errorf(trellis.ENOTFOUND, "No tag with name: %s in experiment %d.", key, e.ID)
		}
		return err
	}
	return nil
}

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

// loadInputs fills the dataset inputs of runs that answer a client.
func (s *Service) loadInputs(ctx context.Context, runs []*Run) error {
	if len(runs) == 0 {
		return nil
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.Info.ID
	}
	in, err := s.store.FindRunInputs(ctx, ids)
	if err != nil {
		return err
	}
	for _, r := range runs {
		r.Inputs = in[r.Info.ID]
	}
	return nil
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

// UpdateRun changes a run's status, end time or name. Errors: EINVALID, ENOTFOUND.
func (s *Service) UpdateRun(ctx context.Context, proj *project.Project, runID string, upd RunUpdate) (*RunInfo, error) {
	r, err := s.activeRun(ctx, proj, runID)
	if err != nil {
		return nil, err
	}
	wasTerminal := terminal[r.Info.Status]
	if upd.Status != nil {
		if !runStatuses[*upd.Status] {
			return nil, trellis.Invalid("status", "Invalid run status '%s'; use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.", *upd.Status)
		}
		r.Info.Status = *upd.Status
	}
	if upd.EndTime != nil {
		r.Info.EndTime = upd.EndTime
	}
	if upd.Name != nil && *upd.Name != "" && *upd.Name != r.Info.Name {
		if err := s.LogBatch(ctx, proj, runID, Batch{Tags: []Tag{{TagRunName, *upd.Name}}}); err != nil {
			return nil, err
		}
		r.Info.Name = *upd.Name
	}
	if err := s.store.UpdateRun(ctx, &r.Info); err != nil {
		return nil, err
	}
	if terminal[r.Info.Status] && !wasTerminal {
		s.finished(ctx, RunFinished{Project: proj, RunID: runID, Status: r.Info.Status})
	}
	return &r.Info, nil
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

// CheckBatch applies MLflow's log-batch limits and key rules.
func CheckBatch(b Batch) error {
	if len(b.Metrics) > MaxMetricsPerBatch {
		return trellis.Invalid("metrics", "A batch logging request can contain at most %d metrics. Got %d metrics.", MaxMetricsPerBatch, len(b.Metrics))
	}
	if n := len(b.Params) + len(b.Tags); n > MaxParamsTagsPerBatch {
		return trellis.Invalid("params", "A batch logging request can contain at most %d params and tags combined. Got %d.", MaxParamsTagsPerBatch, n)
	}
	if n := len(b.Metrics) + len(b.Params) + len(b.Tags); n > MaxEntitiesPerBatch {
		return trellis.Invalid("metrics", "A batch logging request can contain at most %d metrics, params and tags in total. Got %d.", MaxEntitiesPerBatch, n)
	}
	for i, m := range b.Metrics {
		// A batch is mostly runs of points of one key: check each run once
		// (the name pattern took 6 % of a 1,000-point log-batch's CPU).
		if i > 0 && m.Key == b.Metrics[i-1].Key {
			continue
		}
		if err := checkKey("key", m.Key); err != nil {
			return err
		}
	}
	seen := map[string]string{}
	for _, p := range b.Params {
		if err := checkKey("key", p.Key); err != nil {
			return err
		}
		if len(p.Value) > MaxParamValueLength {
			return trellis.Invalid("value", "Param value of '%s' exceeds the maximum length of %d characters (got %d)", p.Key, MaxParamValueLength, len(p.Value))
		}
		if v, ok := seen[p.Key]; ok && v != p.Value {
			return trellis.Invalid("params", "Duplicate parameter keys have been submitted: %s with different values.", p.Key)
		}
		seen[p.Key] = p.Value
	}
	for _, t := range b.Tags {
		if err := checkTag(t, MaxTagValueLength); err != nil {
			return err
		}
	}
	return nil
}

// LogBatch writes params, tags and metric points to an active run of proj,
// all or nothing; it returns after the commit. Errors: EINVALID (limits,
// names, a param re-logged with a different value), ENOTFOUND.
func (s *Service) LogBatch(ctx context.Context, proj *project.Project, runID string, b Batch) error {
	if err := CheckBatch(b); err != nil {
		return err
	}
	if runID == "" {
		return trellis.Invalid("run_id", "Missing value for required parameter 'run_id'.")
	}
	b.Params = dedupParams(b.Params)
	b.Tags = dedupTags(b.Tags)
	// The run is checked in the batch's write transaction, so a run
	// deleted meanwhile is not written to, and log-batch sends no read
	// of its own.
	var info RunInfo
	err := s.store.LogBatch(ctx, proj.ID, runID, func(i *RunInfo) error {
		if i.LifecycleStage != StageActive {
			return trellis.Invalid("run_id", "The run %s must be in the 'active' state. Current state is %s.", runID, i.LifecycleStage)
		}
		info = *i
		return nil
	}, b)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return trellis.Errorf(trellis.ENOTFOUND, "Run '%s' not found", runID)
	}
	if err != nil {
		return err
	}
	var texts []string
	for _, t := range b.Tags {
		switch t.Key {
		case TagRunName:
			if t.Value != info.Name {
				info.Name = t.Value
				if err := s.store.UpdateRun(ctx, &info); err != nil {
					return err
				}
			}
			texts = append(texts, t.Value)
		case TagNote, TagItem:
			texts = append(texts, t.Value)
		}
	}
	return s.autoLink(ctx, proj, runID, texts...)
}

// CheckInputs applies MLflow's dataset input rules: every input names a
// dataset with a name, digest, source type and source, within MLflow's
// length limits, and input tags within theirs. Errors name the field with
// its index, such as datasets[0].dataset.digest.
func CheckInputs(inputs []DatasetInput) error {
	if len(inputs) > MaxDatasetsPerBatch {
		return trellis.Invalid("datasets", "A log-inputs request can contain at most %d datasets. Got %d.", MaxDatasetsPerBatch, len(inputs))
	}
	long := func(field string, v string, max int) error {
		if len(v) > max {
			return trellis.Invalid(field, "'%s' exceeds the maximum length of %d characters (got %d)", field, max, len(v))
		}
		return nil
	}
	for i, in := range inputs {
		f := "datasets[" + strconv.Itoa(i) + "].dataset."
		d := in.Dataset
		for _, c := range []struct {
			field string
			v     string
			max   int
		}{{"name", d.Name, MaxDatasetName}, {"digest", d.Digest, MaxDatasetDigest}, {"source", d.Source, MaxDatasetSource}} {
			if err := long(f+c.field, c.v, c.max); err != nil {
				return err
			}
		}
		if d.Name == "" || d.Digest == "" {
			return trellis.Invalid(f+"name", "A dataset input needs a dataset with a name and a digest.")
		}
		if d.Schema != nil {
			if err := long(f+"schema", *d.Schema, MaxDatasetSchema); err != nil {
				return err
			}
		}
		if d.Profile != nil {
			if err := long(f+"profile", *d.Profile, MaxDatasetProfile); err != nil {
				return err
			}
		}
		for j, t := range in.Tags {
			tf := "datasets[" + strconv.Itoa(i) + "].tags[" + strconv.Itoa(j) + "]."
			if t.Key == "" {
				return trellis.Invalid(tf+"key", "An input tag needs a key.")
			}
			if err := long(tf+"key", t.Key, MaxInputTagKey); err != nil {
				return err
			}
			if err := long(tf+"value", t.Value, MaxInputTagValue); err != nil {
				return err
			}
		}
	}
	return nil
}

// LogInputs records the datasets an active run of proj used, with their
// input tags. Inputs naming the same dataset (name and digest) twice keep
// the first, and a dataset the run already has is left as it is, as in
// MLflow. Errors: EINVALID (limits, a missing name or digest), ENOTFOUND.
func (s *Service) LogInputs(ctx context.Context, proj *project.Project, runID string, inputs []DatasetInput) error {
	if err := CheckInputs(inputs); err != nil {
		return err
	}
	r, err := s.activeRun(ctx, proj, runID)
	if err != nil {
		return err
	}
	type key struct{ name, digest string }
	seen := map[key]bool{}
	var keep []DatasetInput
	for _, in := range inputs {
		k := key{in.Dataset.Name, in.Dataset.Digest}
		if !seen[k] {
			seen[k] = true
			in.Tags = dedupTags(in.Tags)
			keep = append(keep, in)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return s.store.LogRunInputs(ctx, r.Info.ExperimentID, runID, keep)
}

func dedupParams(ps []Param) []Param {
	seen := map[string]bool{}
	var out []Param
	for _, p := range ps {
		if !seen[p.Key] {
			seen[p.Key] = true
			out = append(out, p)
		}
	}
	return out
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

// MaxHistoryPage bounds one get-history page when the client sets no
// max_results.
const MaxHistoryPage = 1_000_000

type historyToken struct {
	Step int64 `json:"s"`
	TS   int64 `json:"t"`
	Seq  int64 `json:"q"`
}

// MetricHistory returns a page of a metric series in (step, timestamp)
// order and the token of the next page. Errors: EINVALID, ENOTFOUND.
func (s *Service) MetricHistory(ctx context.Context, proj *project.Project, runID, key string, maxResults int64, token string) ([]Metric, string, error) {
	if key == "" {
		return nil, "", trellis.Invalid("metric_key", "Missing value for required parameter 'metric_key'.")
	}
	if _, err := s.runInfo(ctx, proj, runID); err != nil {
		return nil, "", err
	}
	limit := MaxHistoryPage
	if maxResults < 0 {
		return nil, "", trellis.Invalid("max_results", "max_results must be positive")
	}
	if maxResults > 0 && maxResults < MaxHistoryPage {
		limit = int(maxResults)
	}
	q := HistoryQuery{RunID: runID, Key: key, Limit: limit + 1}
	if token != "" {
		var t historyToken
		if err := decodeToken(token, &t); err != nil {
			return nil, "", err
		}
		q.After = &HistoryCursor{Step: t.Step, Timestamp: t.TS, Seq: t.Seq}
	}
	ms, err := s.store.FindMetricHistory(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ms) > limit {
		ms = ms[:limit]
		last := ms[limit-1]
		c := historyToken{Step: last.Step, TS: last.Timestamp}
		i := limit - 1
		for ; i >= 0 && ms[i].Step == c.Step && ms[i].Timestamp == c.TS; i-- {
			c.Seq++
		}
		if i < 0 && q.After != nil && q.After.Step == c.Step && q.After.Timestamp == c.TS {
			c.Seq += q.After.Seq
		}
		next = encodeToken(c)
	}
	return ms, next, nil
}

// itemKeyRE finds item keys (BAL-12) in free text.
var itemKeyRE = regexp.MustCompile(`\b([A-Z][A-Z0-9]{1,9})-([1-9][0-9]{0,9})\b`)

// ItemKeys returns the distinct keys of proj's items that text mentions.
func ItemKeys(projectKey string, texts ...string) []string {
	seen := map[string]bool{}
	var keys []string
	for _, t := range texts {
		for _, m := range itemKeyRE.FindAllStringSubmatch(t, -1) {
			if m[1] == projectKey && !seen[m[0]] {
				seen[m[0]] = true
				keys = append(keys, m[0])
			}
		}
	}
	return keys
}

// autoLink links a run to the item keys of proj that texts mention.
func (s *Service) autoLink(ctx context.Context, proj *project.Project, runID string, texts ...string) error {
	return s.store.LinkRunItems(ctx, s.itemLinks(proj, runID, texts...))
}

// itemLinks are the automatic links of a run to the item keys of proj that
// texts mention.
func (s *Service) itemLinks(proj *project.Project, runID string, texts ...string) []ItemLink {
	keys := ItemKeys(proj.Key, texts...)
	if len(keys) == 0 {
		return nil
	}
	now := s.nowMs()
	links := make([]ItemLink, len(keys))
	for i, k := range keys {
		links[i] = ItemLink{RunID: runID, ProjectID: proj.ID, ItemKey: k, Source: "auto", CreatedAt: now}
	}
	return links
}

var exactItemKeyRE = regexp.MustCompile(`^([A-Z][A-Z0-9]{1,9})-[1-9][0-9]{0,9}$`)

func checkItemKey(proj *project.Project, key string) error {
	m := exactItemKeyRE.FindStringSubmatch(key)
	if m == nil {
		return trellis.Invalid("item", "item key %q must look like %s-12", key, proj.Key)
	}
	if m[1] != proj.Key {
		return trellis.Invalid("item", "item %s is not in project %s", key, proj.Key)
	}
	return nil
}

// LinkItem links a run of proj to an item key by hand. Errors: EINVALID, ENOTFOUND.
func (s *Service) LinkItem(ctx context.Context, proj *project.Project, runID, itemKey string) (*ItemLink, error) {
	if err := checkItemKey(proj, itemKey); err != nil {
		return nil, err
	}
	if _, err := s.findRun(ctx, proj, runID); err != nil {
		return nil, err
	}
	l := ItemLink{RunID: runID, ProjectID: proj.ID, ItemKey: itemKey, Source: "manual", CreatedAt: s.nowMs()}
	if err := s.store.LinkRunItems(ctx, []ItemLink{l}); err != nil {
		return nil, err
	}
	return &l, nil
}

// UnlinkItem removes a link. Errors: ENOTFOUND.
func (s *Service) UnlinkItem(ctx context.Context, proj *project.Project, runID, itemKey string) error {
	if _, err := s.findRun(ctx, proj, runID); err != nil {
		return err
	}
	return s.store.UnlinkRunItem(ctx, runID, itemKey)
}

// RunItems lists the items a run of proj links to. Errors: ENOTFOUND.
func (s *Service) RunItems(ctx context.Context, proj *project.Project, runID string) ([]ItemLink, error) {
	if _, err := s.findRun(ctx, proj, runID); err != nil {
		return nil, err
	}
	return s.store.FindRunItems(ctx, runID)
}

// ItemRuns lists the runs linked to an item key of proj. Errors: EINVALID.
func (s *Service) ItemRuns(ctx context.Context, proj *project.Project, itemKey string) ([]ItemLink, error) {
	if err := checkItemKey(proj, itemKey); err != nil {
		return nil, err
	}
	return s.store.FindItemRuns(ctx, proj.ID, itemKey)
}

// SetDefaultProject makes proj the caller's default tracking project, the
// one /api/2.0/mlflow serves.
func (s *Service) SetDefaultProject(ctx context.Context, proj *project.Project) error {
	p := auth.FromContext(ctx)
	if p == nil {
		return trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	if err := s.store.SetDefaultProject(ctx, p.User.ID, proj.ID); err != nil {
		return err
	}
	s.defaults.DeleteFunc(func(user, _ string) bool { return user == p.User.ID })
	return nil
}

// DefaultProjectID returns the caller's chosen default project id, or "".
func (s *Service) DefaultProjectID(ctx context.Context) (string, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return "", trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	return s.defaults.Get(ctx, p.User.ID, s.now(), func(ctx context.Context) (string, error) {
		return s.store.FindDefaultProject(ctx, p.User.ID)
	}, nil)
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

// IntervalQuery asks for a metric of several runs, sampled over steps.
type IntervalQuery struct {
	RunIDs             []string
	Key                string
	StartStep, EndStep *int64
	MaxResults         int64
}

// RunMetric is a metric point with its run.
type RunMetric struct {
	Metric
	RunID string
}

// MaxIntervalPoints bounds the points one run's series is read with for
// get-history-bulk-interval.
const MaxIntervalPoints = 5_000_000

// MetricIntervals answers MLflow's get-history-bulk-interval: for each run,
// the points at up to MaxResults steps spread evenly over the run's steps
// in the range, always including the first and last step. Errors: EINVALID,
// ENOTFOUND.
func (s *Service) MetricIntervals(ctx context.Context, proj *project.Project, q IntervalQuery) ([]RunMetric, error) {
	if len(q.RunIDs) == 0 || len(q.RunIDs) > 100 {
		return nil, trellis.Invalid("run_ids", "run_ids must name between 1 and 100 runs")
	}
	if q.Key == "" {
		return nil, trellis.Invalid("metric_key", "Missing value for required parameter 'metric_key'.")
	}
	max := q.MaxResults
	if max == 0 {
		max = 1000
	}
	if max < 0 || max > 10000 {
		return nil, trellis.Invalid("max_results", "max_results must be between 1 and 10000")
	}
	var out []RunMetric
	for _, id := range q.RunIDs {
		if _, err := s.findRun(ctx, proj, id); err != nil {
			return nil, err
		}
		ms, err := s.store.FindMetricHistory(ctx, HistoryQuery{RunID: id, Key: q.Key, Limit: MaxIntervalPoints, StartStep: q.StartStep, EndStep: q.EndStep})
		if err != nil {
			return nil, err
		}
		var steps []int64
		for i, m := range ms {
			if i == 0 || m.Step != ms[i-1].Step {
				steps = append(steps, m.Step)
			}
		}
		keep := map[int64]bool{}
		if int64(len(steps)) <= max {
			for _, st := range steps {
				keep[st] = true
			}
		} else if max == 1 {
			keep[steps[0]] = true
		} else {
			for i := int64(0); i < max; i++ {
				keep[steps[i*int64(len(steps)-1)/(max-1)]] = true
			}
		}
		for _, m := range ms {
			if keep[m.Step] {
				out = append(out, RunMetric{Metric: m, RunID: id})
			}
		}
	}
	return out, nil
}

// MaxChartBuckets bounds a chart request: about one bucket per pixel of a
// wide screen.
const MaxChartBuckets = 4000

// ChartSeries returns a metric of a run downsampled to at most buckets
// min/max buckets over the steps [start, end] (nil: the whole series).
// Zooming in narrows the range until each bucket is one point: full
// resolution. Errors: EINVALID, ENOTFOUND.
func (s *Service) ChartSeries(ctx context.Context, proj *project.Project, runID, key string, start, end *int64, buckets int) ([]Bucket, error) {
	if key == "" {
		return nil, trellis.Invalid("key", "a metric key is required")
	}
	if buckets <= 0 || buckets > MaxChartBuckets {
		return nil, trellis.Invalid("buckets", "buckets must be between 1 and %d", MaxChartBuckets)
	}
	if _, err := s.findRun(ctx, proj, runID); err != nil {
		return nil, err
	}
	return s.store.FindMetricBuckets(ctx, BucketQuery{RunID: runID, Key: key, StartStep: start, EndStep: end, Buckets: buckets})
}
