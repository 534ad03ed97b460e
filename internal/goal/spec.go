package goal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// SpecStore keeps specs attached to items, their versions and the latest
// result of each scenario.
type SpecStore interface {
	// FindItemRef returns an item of a project by number. Errors: ENOTFOUND.
	FindItemRef(ctx context.Context, projectID string, number int64) (*ItemRef, error)
	// AddSpecVersion stores v as the item's next version and sets
	// v.Version, unless the latest version's text equals v.Text: then it
	// fills v from that version and reports created false.
	AddSpecVersion(ctx context.Context, v *SpecVersion) (created bool, err error)
	// FindSpecVersions lists an item's versions newest first, without
	// their text.
	FindSpecVersions(ctx context.Context, itemID string) ([]*SpecVersion, error)
	// FindSpecVersion returns one version with its text; version 0 is the
	// latest. Errors: ENOTFOUND.
	FindSpecVersion(ctx context.Context, itemID string, version int) (*SpecVersion, error)
	// SaveSpecResults replaces the item's results with rs, checked against
	// version, unless a newer version was attached meanwhile (then it
	// stores nothing and reports saved false).
	SaveSpecResults(ctx context.Context, itemID, projectID string, version int, rs []*SpecResult) (saved bool, err error)
	// FindSpecResults returns an item's latest results in spec order.
	FindSpecResults(ctx context.Context, itemID string) ([]*SpecResult, error)
	// FindSpecSummaries counts the latest results of every item of a
	// project that has any, by item id, in one query.
	FindSpecSummaries(ctx context.Context, projectID string) (map[string]*SpecSummary, error)
}

// SpecVersion is one version of the spec attached to an item.
type SpecVersion struct {
	ItemID    string    `json:"-"`
	ProjectID string    `json:"-"`
	Item      string    `json:"item"` // the item key
	Version   int       `json:"version"`
	Name      string    `json:"name"` // the .feature file name
	Text      string    `json:"text,omitempty"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// SpecResult is the latest result of one scenario of an item's spec.
type SpecResult struct {
	Version   int               `json:"version"` // the spec version checked
	Scenario  string            `json:"scenario"`
	Line      int               `json:"line"`
	RowLine   int               `json:"row_line,omitempty"` // the Examples row, for outlines
	Outcome   speccheck.Outcome `json:"outcome"`
	Message   string            `json:"message,omitempty"` // why it failed, errored or was skipped
	Checks    []CheckValue      `json:"checks"`
	RunID     string            `json:"run_id,omitempty"` // the run the scenario read
	CheckedAt time.Time         `json:"checked_at"`
}

// CheckValue is one Then step of a checked scenario: the measured value
// next to the threshold.
type CheckValue struct {
	Step       string               `json:"step"`
	Line       int                  `json:"line"`
	Metric     string               `json:"metric"`
	Comparator speccheck.Comparator `json:"comparator"`
	Threshold  float64              `json:"threshold"`
	Measured   *float64             `json:"measured,omitempty"`  // nil when not measured or undefined
	Undefined  string               `json:"undefined,omitempty"` // why the value is undefined
	Outcome    speccheck.Outcome    `json:"outcome"`
	Message    string               `json:"message,omitempty"`
}

// SpecSummary counts the latest results of an item's spec, for a card.
type SpecSummary struct {
	Version   int       `json:"version"`
	Passed    int       `json:"passed"`
	Failed    int       `json:"failed"`
	Errors    int       `json:"errors"`
	Skipped   int       `json:"skipped"`
	NoData    int       `json:"no_data"`
	CheckedAt time.Time `json:"checked_at"`
}

// SpecNoData is the outcome of a scenario that reads the latest run of an
// item which has no run yet: there is nothing to judge, which is neither
// a failure nor an error.
const SpecNoData speccheck.Outcome = "no_data"

// Checked is how many scenarios the server checked (all but skipped).
func (s *SpecSummary) Checked() int { return s.Passed + s.Failed + s.Errors }

// Status is the spec's state at a glance: failed when any scenario failed,
// error when any could not be checked, passed when every checked one
// passed, no_data when the scenarios it could check have no run to read
// yet, skipped when the server could check none.
func (s *SpecSummary) Status() speccheck.Outcome {
	switch {
	case s.Failed > 0:
		return speccheck.Failed
	case s.Errors > 0:
		return speccheck.Errored
	case s.Passed > 0:
		return speccheck.Passed
	case s.NoData > 0:
		return SpecNoData
	}
	return speccheck.Skipped
}

// MeasuredText formats the measured value for people: the number,
// "undefined (why)", or "" when the step was not measured.
func (c CheckValue) MeasuredText() string {
	switch {
	case c.Measured != nil:
		return speccheck.FormatNumber(*c.Measured)
	case c.Undefined != "":
		return "undefined (" + c.Undefined + ")"
	}
	return ""
}

// ThresholdText formats the threshold as specs write it.
func (c CheckValue) ThresholdText() string { return speccheck.FormatNumber(c.Threshold) }

// maxSpecName bounds a spec's file name.
const maxSpecName = 200

// ItemSpec is the spec attached to an item as the item page and the API
// show it: the latest version and the latest result of each scenario.
type ItemSpec struct {
	Spec    *SpecVersion  `json:"spec"`
	Results []*SpecResult `json:"results"`
	Summary *SpecSummary  `json:"summary"`
	// Created tells, after an upload, whether the text was new (a
	// version was added) or the latest version's (nothing changed).
	Created bool `json:"created"`
}

// FileSkipReason is the message of a scenario the server does not run.
const FileSkipReason = "reads labels and predictions files, which are not on the server: check it with trellis spec check"

// specItem resolves an item key of proj to the stored item.
func (s *Service) specItem(ctx context.Context, proj *project.Project, ref string) (*ItemRef, error) {
	n, err := project.ParseItemRef(proj.Key, ref)
	if err != nil {
		return nil, trellis.Invalid("item", "%s", trellis.ErrorMessage(err))
	}
	return s.itemNumber(ctx, proj, n)
}

// ParseSpecText parses a spec before it is stored: a spec that does not
// parse or uses an unknown step is an EINVALID error on field "text" whose
// message lists every problem as name:line: message, with the closest
// known steps for an unknown one.
func ParseSpecText(name, text string) (*speccheck.Spec, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil, trellis.Invalid("name", "name is required: the spec's file name, e.g. churn.feature")
	case len(name) > maxSpecName || strings.ContainsAny(name, "/\\\n\r"):
		return nil, trellis.Invalid("name", "name must be a file name of at most %d characters without slashes", maxSpecName)
	case strings.TrimSpace(text) == "":
		return nil, trellis.Invalid("text", "text is required: the Gherkin text of %s", name)
	}
	sp, err := speccheck.ParseSpec(name, []byte(text))
	if err != nil {
		return nil, trellis.Invalid("text", "%s", err.Error())
	}
	if len(sp.Scenarios) == 0 {
		return nil, trellis.Invalid("text", "%s has no scenarios", name)
	}
	return sp, nil
}

// AttachSpec stores text as the next version of the item's spec (nothing
// changes when it equals the latest version) and checks it. A spec that
// does not parse is never stored. Errors: EINVALID, ENOTFOUND.
func (s *Service) AttachSpec(ctx context.Context, proj *project.Project, ref, name, text string) (*ItemSpec, error) {
	if _, err := ParseSpecText(name, text); err != nil {
		return nil, err
	}
	it, err := s.specItem(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	v := &SpecVersion{ItemID: it.ID, ProjectID: proj.ID, Item: it.Key, Name: strings.TrimSpace(name), Text: text, CreatedAt: s.now()}
	if p := auth.FromContext(ctx); p != nil && p.User != nil {
		v.Author = p.User.Name
	}
	created, err := s.store.AddSpecVersion(ctx, v)
	if err != nil {
		return nil, err
	}
	if !created {
		out, err := s.itemSpec(ctx, it, v)
		if out != nil {
			out.Created = false
		}
		return out, err
	}
	out, err := s.check(ctx, proj, it, v)
	if out != nil {
		out.Created = true
	}
	return out, err
}

// ItemSpecOf returns the latest version of an item's spec with its latest
// results. Errors: ENOTFOUND (no item, or no spec).
func (s *Service) ItemSpecOf(ctx context.Context, proj *project.Project, ref string) (*ItemSpec, error) {
	it, v, err := s.latestSpec(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	return s.itemSpec(ctx, it, v)
}

// latestSpec resolves an item key and the latest version of its spec.
func (s *Service) latestSpec(ctx context.Context, proj *project.Project, ref string) (*ItemRef, *SpecVersion, error) {
	it, err := s.specItem(ctx, proj, ref)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.store.FindSpecVersion(ctx, it.ID, 0)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, nil, trellis.Errorf(trellis.ENOTFOUND, "Item %s has no spec.", it.Key)
	}
	if err != nil {
		return nil, nil, err
	}
	v.Item = it.Key
	return it, v, nil
}

func (s *Service) itemSpec(ctx context.Context, it *ItemRef, v *SpecVersion) (*ItemSpec, error) {
	if v.Text == "" {
		full, err := s.store.FindSpecVersion(ctx, it.ID, v.Version)
		if err != nil {
			return nil, err
		}
		v = full
		v.Item = it.Key
	}
	rs, err := s.store.FindSpecResults(ctx, it.ID)
	if err != nil {
		return nil, err
	}
	return &ItemSpec{Spec: v, Results: rs, Summary: Summarize(rs)}, nil
}

// Summarize counts results by outcome.
func Summarize(rs []*SpecResult) *SpecSummary {
	sum := &SpecSummary{}
	for _, r := range rs {
		sum.Version = max(sum.Version, r.Version)
		if r.CheckedAt.After(sum.CheckedAt) {
			sum.CheckedAt = r.CheckedAt
		}
		switch r.Outcome {
		case speccheck.Passed:
			sum.Passed++
		case speccheck.Failed:
			sum.Failed++
		case speccheck.Errored:
			sum.Errors++
		case SpecNoData:
			sum.NoData++
		default:
			sum.Skipped++
		}
	}
	return sum
}

// SpecVersions lists the versions of an item's spec, newest first, without
// their text. Errors: ENOTFOUND.
func (s *Service) SpecVersions(ctx context.Context, proj *project.Project, ref string) ([]*SpecVersion, error) {
	it, err := s.specItem(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.FindSpecVersions(ctx, it.ID)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		v.Item = it.Key
	}
	return vs, nil
}

// SpecVersion returns version n of an item's spec with its text.
// Errors: EINVALID (n < 1), ENOTFOUND.
func (s *Service) SpecVersion(ctx context.Context, proj *project.Project, ref string, n int) (*SpecVersion, error) {
	if n < 1 {
		return nil, trellis.Invalid("version", "version must be a number from 1")
	}
	it, err := s.specItem(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	v, err := s.store.FindSpecVersion(ctx, it.ID, n)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Item %s has no spec version %d.", it.Key, n)
	}
	if err != nil {
		return nil, err
	}
	v.Item = it.Key
	return v, nil
}

// CheckItemSpec checks the latest version of an item's spec against the
// project's runs now and stores the results. Errors: ENOTFOUND.
func (s *Service) CheckItemSpec(ctx context.Context, proj *project.Project, ref string) (*ItemSpec, error) {
	it, v, err := s.latestSpec(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	return s.check(ctx, proj, it, v)
}

// SpecSummaries counts the latest spec results of every item of proj that
// has any, by item id: one query however many cards a board shows.
func (s *Service) SpecSummaries(ctx context.Context, proj *project.Project) (map[string]*SpecSummary, error) {
	return s.store.FindSpecSummaries(ctx, proj.ID)
}

// SpecRunFinished re-checks the specs of the items a finished run is
// linked to. The tracking service calls it (wired in internal/cli) after
// the run's terminal status is committed; its error is for the log only.
func (s *Service) SpecRunFinished(ctx context.Context, ev tracking.RunFinished) error {
	links, err := s.track.RunItems(ctx, ev.Project, ev.RunID)
	if err != nil {
		return fmt.Errorf("specs of the items of run %s: %w", ev.RunID, err)
	}
	var errs []string
	for _, l := range links {
		_, err := s.CheckItemSpec(ctx, ev.Project, l.ItemKey)
		switch trellis.ErrorCode(err) {
		case "", trellis.ENOTFOUND: // no spec, or a link to an item that does not exist
		default:
			errs = append(errs, fmt.Sprintf("%s: %v", l.ItemKey, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("re-checking specs after run %s finished: %s", ev.RunID, strings.Join(errs, "; "))
	}
	return nil
}

// check runs the run-based scenarios of version v against proj's runs,
// marks the file-based ones skipped, and stores the results.
func (s *Service) check(ctx context.Context, proj *project.Project, it *ItemRef, v *SpecVersion) (*ItemSpec, error) {
	sp, err := speccheck.ParseSpec(v.Name, []byte(v.Text))
	if err != nil {
		// Stored versions parsed when attached; a vocabulary change since
		// then makes every scenario an error rather than the check fail.
		rs := []*SpecResult{{Version: v.Version, Scenario: "(spec)", Outcome: speccheck.Errored, Message: err.Error(), Checks: []CheckValue{}, CheckedAt: s.now()}}
		return s.save(ctx, proj, it, v, rs)
	}
	runBased := &speccheck.Spec{Path: sp.Path, Feature: sp.Feature, Line: sp.Line}
	for _, sc := range sp.Scenarios {
		if readsRuns(sc) {
			runBased.Scenarios = append(runBased.Scenarios, sc)
		}
	}
	checked := map[*speccheck.Scenario]*speccheck.ScenarioResult{}
	runs := &noRunItems{RunSource: ServerRuns{Track: s.track, Project: proj}}
	if len(runBased.Scenarios) > 0 {
		rep := speccheck.NewChecker(speccheck.Options{Runs: runs, Now: s.now}).Check(ctx, []*speccheck.Spec{runBased})
		for _, f := range rep.Features {
			for _, r := range f.Scenarios {
				checked[r.Scenario] = r
			}
		}
	}
	now := s.now()
	rs := make([]*SpecResult, 0, len(sp.Scenarios))
	for _, sc := range sp.Scenarios {
		r := &SpecResult{Version: v.Version, Scenario: sc.Name, Line: sc.Line, RowLine: sc.RowLine, Checks: []CheckValue{}, CheckedAt: now}
		sr := checked[sc]
		if sr == nil {
			r.Outcome, r.Message = speccheck.Skipped, FileSkipReason
			for _, st := range sc.Steps {
				if st.Check != nil {
					r.Checks = append(r.Checks, CheckValue{Step: st.Keyword + " " + st.Text, Line: st.Line, Metric: st.Check.Key(),
						Comparator: st.Check.Comparator, Threshold: st.Check.Threshold, Outcome: speccheck.Skipped})
				}
			}
			rs = append(rs, r)
			continue
		}
		r.Outcome, r.RunID = sr.Outcome, sr.RunID
		noData := runs.noRun(sr)
		if noData != "" {
			r.Outcome, r.Message = SpecNoData, "no run linked to "+noData+" yet"
		}
		for _, st := range sr.Steps {
			if noData != "" {
				if st.Check != nil {
					r.Checks = append(r.Checks, CheckValue{Step: st.Keyword + " " + st.Text, Line: st.Line, Metric: st.Check.Key(),
						Comparator: st.Check.Comparator, Threshold: st.Check.Threshold, Outcome: SpecNoData})
				}
				continue
			}
			if r.Message == "" && (st.Outcome == speccheck.Failed || st.Outcome == speccheck.Errored) {
				r.Message = st.Message
				if st.Check != nil && st.Message != "" {
					r.Message = st.Check.Key() + ": " + st.Message
				}
			}
			if st.Check == nil {
				continue
			}
			cv := CheckValue{Step: st.Keyword + " " + st.Text, Line: st.Line, Metric: st.Check.Key(), Comparator: st.Check.Comparator,
				Threshold: st.Check.Threshold, Outcome: st.Outcome, Message: st.Message}
			if m := st.Measured; m != nil {
				if m.Defined {
					val := m.V
					cv.Measured = &val
				} else {
					cv.Undefined = m.Reason
				}
			}
			r.Checks = append(r.Checks, cv)
		}
		rs = append(rs, r)
	}
	return s.save(ctx, proj, it, v, rs)
}

func (s *Service) save(ctx context.Context, proj *project.Project, it *ItemRef, v *SpecVersion, rs []*SpecResult) (*ItemSpec, error) {
	if _, err := s.store.SaveSpecResults(ctx, it.ID, proj.ID, v.Version, rs); err != nil {
		return nil, err
	}
	// A newer version attached meanwhile keeps its own results: show
	// whatever is stored now.
	return s.itemSpec(ctx, it, v)
}

// readsRuns reports whether the server can check a scenario: it reads a
// run and scores no files.
func readsRuns(sc *speccheck.Scenario) bool {
	run := false
	for _, st := range sc.Steps {
		switch st.Kind {
		case speccheck.StepLabels, speccheck.StepPredictions, speccheck.StepScore:
			return false
		case speccheck.StepRun, speccheck.StepLatestRun:
			run = true
		}
	}
	return run
}

// errNoRun is LatestRunOfItem's error for an item without an active run.
var errNoRun = errors.New("no run")

// noRunItems is a RunSource that remembers the items whose latest run was
// asked for and that have none, so that the scenarios reading them are
// "no data" rather than errors.
type noRunItems struct {
	speccheck.RunSource
	none map[string]bool
}

func (n *noRunItems) LatestRunOfItem(ctx context.Context, itemKey string) (string, map[string]float64, error) {
	id, m, err := n.RunSource.LatestRunOfItem(ctx, itemKey)
	if errors.Is(err, errNoRun) {
		if n.none == nil {
			n.none = map[string]bool{}
		}
		n.none[itemKey] = true
	}
	return id, m, err
}

// noRun returns the item a scenario errored on for want of a run, or "".
func (n *noRunItems) noRun(sr *speccheck.ScenarioResult) string {
	if sr.Outcome != speccheck.Errored {
		return ""
	}
	for _, st := range sr.Steps {
		if st.Outcome == speccheck.Errored {
			if st.Kind == speccheck.StepLatestRun && n.none[st.Arg] {
				return st.Arg
			}
			return ""
		}
	}
	return ""
}

// ServerRuns is the RunSource of checks on the server: the tracking
// service's runs of one project. Only active runs count, as on the Runs
// page and in goal evaluation.
type ServerRuns struct {
	Track   *tracking.Service
	Project *project.Project
}

// RunMetrics returns the latest metrics of an active run of the project.
func (sr ServerRuns) RunMetrics(ctx context.Context, runID string) (map[string]float64, error) {
	r, err := sr.Track.Run(ctx, sr.Project, runID)
	if err != nil {
		return nil, fmt.Errorf("run %q: %s", runID, trellis.ErrorMessage(err))
	}
	if r.Info.LifecycleStage != tracking.StageActive {
		return nil, fmt.Errorf("run %q is deleted", runID)
	}
	return metricMap(r), nil
}

// runIDChunk is how many run ids one run_id IN (...) filter names: 500
// quoted ids keep it under the search language's 20,000 characters.
const runIDChunk = 500

// LatestRunOfItem returns the most recently started active run of an
// active tracking experiment linked to an item of the project.
func (sr ServerRuns) LatestRunOfItem(ctx context.Context, itemKey string) (string, map[string]float64, error) {
	links, err := sr.Track.ItemRuns(ctx, sr.Project, itemKey)
	if err != nil {
		return "", nil, fmt.Errorf("runs of item %q: %s", itemKey, trellis.ErrorMessage(err))
	}
	if len(links) == 0 {
		return "", nil, fmt.Errorf("%w linked to item %q", errNoRun, itemKey)
	}
	exps, _, err := sr.Track.SearchExperiments(ctx, sr.Project, tracking.SearchInput{MaxResults: tracking.MaxResults})
	if err != nil {
		return "", nil, err
	}
	ids := make([]string, len(exps))
	for i, e := range exps {
		ids[i] = fmt.Sprint(e.ID)
	}
	var latest *tracking.Run
	for rest := links; len(rest) > 0 && len(ids) > 0; {
		n := min(len(rest), runIDChunk)
		quoted := make([]string, n)
		for i, l := range rest[:n] {
			quoted[i] = "'" + l.RunID + "'" // 32 hex digits: nothing to escape
		}
		rest = rest[n:]
		runs, _, err := sr.Track.SearchRuns(ctx, sr.Project, tracking.SearchRunsInput{ExperimentIDs: ids, SearchInput: tracking.SearchInput{
			Filter: "attributes.run_id IN (" + strings.Join(quoted, ",") + ")", OrderBy: []string{"attributes.start_time DESC"}, MaxResults: 1}})
		if err != nil {
			return "", nil, err
		}
		if len(runs) > 0 && (latest == nil || LaterRun(runs[0].Info.StartTime, runs[0].Info.ID, latest.Info.StartTime, latest.Info.ID)) {
			latest = runs[0]
		}
	}
	if latest == nil {
		return "", nil, fmt.Errorf("%w: no active runs linked to item %q", errNoRun, itemKey)
	}
	return latest.Info.ID, metricMap(latest), nil
}

func metricMap(r *tracking.Run) map[string]float64 {
	m := make(map[string]float64, len(r.Metrics))
	for _, x := range r.Metrics {
		m[x.Key] = x.Value
	}
	return m
}
