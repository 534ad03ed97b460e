package work

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// Sprint states.
const (
	SprintPlanned = "planned"
	SprintActive  = "active"
	SprintClosed  = "closed"
)

// Allocation categories of sprint load.
const (
	CatCommitted   = "committed"   // development + maintenance
	CatExperiments = "experiments" // experiment + research
	CatLearning    = "learning"    // items labelled learning
)

// Categories lists the allocation categories in display order.
var Categories = []string{CatCommitted, CatExperiments, CatLearning}

// Sprint is a time-boxed iteration of a project.
type Sprint struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"-"`
	Name      string    `json:"name"`
	Goal      string    `json:"goal"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	State     string    `json:"state"`
	// Capacity is each member's capacity in points for this sprint.
	Capacity map[string]int `json:"capacity"`
	// Snapshot is what a closed sprint committed and finished, by category.
	Snapshot  *SprintSnapshot `json:"snapshot,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// SprintSnapshot is kept when a sprint closes: points committed and done per
// allocation category.
type SprintSnapshot struct {
	ClosedAt  time.Time      `json:"closed_at"`
	Committed map[string]int `json:"committed"`
	Done      map[string]int `json:"done"`
	MovedTo   string         `json:"moved_to"`
}

// SprintStore is the persistence of sprints.
type SprintStore interface {
	// CreateSprint inserts a sprint; a taken name is ECONFLICT.
	CreateSprint(ctx context.Context, sp *Sprint) error
	FindSprint(ctx context.Context, projectID, id string) (*Sprint, error)
	FindSprints(ctx context.Context, projectID string) ([]*Sprint, error)
	UpdateSprint(ctx context.Context, sp *Sprint) error
	// CloseSprint saves the closed sprint and moves the unfinished items to
	// sprint nextID ("" = the backlog), in one transaction.
	CloseSprint(ctx context.Context, sp *Sprint, unfinished []string, nextID string) error
	// RecordSprintDay upserts the sprint's totals for day (midnight UTC).
	RecordSprintDay(ctx context.Context, sprintID string, day time.Time, committed, done int) error
	FindSprintDays(ctx context.Context, sprintID string) ([]SprintDay, error)
}

// SprintDay is a sprint's committed and done points as recorded on a day.
type SprintDay struct {
	Day       time.Time `json:"day"`
	Committed int       `json:"committed"`
	Done      int       `json:"done"`
}

// NewSprint is the input to CreateSprint.
type NewSprint struct {
	Name     string         `json:"name"`
	Goal     string         `json:"goal"`
	StartsOn string         `json:"starts_on"` // YYYY-MM-DD
	EndsOn   string         `json:"ends_on"`   // YYYY-MM-DD, inclusive
	Capacity map[string]int `json:"capacity"`
}

func parseDay(field, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, trellis.Invalid(field, "%s must be a date like 2026-03-02; not %q", field, s)
	}
	return t, nil
}

func (s *Service) checkCapacity(ctx context.Context, proj *project.Project, c map[string]int) (map[string]int, error) {
	out := map[string]int{}
	if len(c) == 0 {
		return out, nil
	}
	ms, err := s.store.FindMembers(ctx, proj.ID)
	if err != nil {
		return nil, err
	}
	for given, pts := range c {
		name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(given), "@"))
		if !slices.ContainsFunc(ms, func(m *project.Member) bool { return m.UserName == name }) {
			return nil, trellis.Invalid("capacity", "%q is not a member of project %s", name, proj.Key)
		}
		if _, twice := out[name]; twice {
			return nil, trellis.Invalid("capacity", "capacity names %s twice (as %q and another spelling)", name, given)
		}
		if pts < 0 || pts > 1000 {
			return nil, trellis.Invalid("capacity", "capacity of %s must be 0–1000 points", name)
		}
		out[name] = pts
	}
	return out, nil
}

// CreateSprint plans a sprint in an authorized project.
// Errors: EINVALID naming the field (a taken name names "name").
func (s *Service) CreateSprint(ctx context.Context, proj *project.Project, in NewSprint) (*Sprint, error) {
	in.Name = strings.TrimSpace(in.Name)
	if err := checkText("name", in.Name, 100, true); err != nil {
		return nil, err
	}
	if err := checkText("goal", in.Goal, 2000, false); err != nil {
		return nil, err
	}
	start, err := parseDay("starts_on", in.StartsOn)
	if err != nil {
		return nil, err
	}
	end, err := parseDay("ends_on", in.EndsOn)
	if err != nil {
		return nil, err
	}
	if end.Before(start) {
		return nil, trellis.Invalid("ends_on", "ends_on must not be before starts_on")
	}
	capacity, err := s.checkCapacity(ctx, proj, in.Capacity)
	if err != nil {
		return nil, err
	}
	if err := s.checkSprintName(ctx, proj, in.Name, ""); err != nil {
		return nil, err
	}
	sp := &Sprint{ID: uuid.Must(uuid.NewV7()).String(), ProjectID: proj.ID, Name: in.Name, Goal: in.Goal, StartsAt: start,
		EndsAt: end.Add(24*time.Hour - time.Millisecond), State: SprintPlanned, Capacity: capacity, CreatedAt: s.now().UTC()}
	if err := s.store.CreateSprint(ctx, sp); err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			return nil, trellis.Invalid("name", "project %s already has a sprint named %q", proj.Key, in.Name)
		}
		return nil, err
	}
	return sp, nil
}

// checkSprintName refuses a name another sprint of proj (not sprint
// except) has in any case: sprints are found by name case-insensitively,
// so "SPRINT 1" beside "Sprint 1" could never be reached. The store's
// unique index catches exact names that two requests race to create.
func (s *Service) checkSprintName(ctx context.Context, proj *project.Project, name, except string) error {
	sps, err := s.store.FindSprints(ctx, proj.ID)
	if err != nil {
		return err
	}
	for _, sp := range sps {
		if sp.ID != except && strings.EqualFold(sp.Name, name) {
			return trellis.Invalid("name", "project %s already has a sprint named %q", proj.Key, sp.Name)
		}
	}
	return nil
}

// Sprints lists a project's sprints by start date.
func (s *Service) Sprints(ctx context.Context, proj *project.Project) ([]*Sprint, error) {
	return s.store.FindSprints(ctx, proj.ID)
}

// sprintIn finds a sprint of proj by id or name.
func (s *Service) sprintIn(ctx context.Context, proj *project.Project, field, ref string) (*Sprint, error) {
	sps, err := s.store.FindSprints(ctx, proj.ID)
	if err != nil {
		return nil, err
	}
	for _, sp := range sps {
		if sp.ID == ref || strings.EqualFold(sp.Name, strings.TrimSpace(ref)) {
			return sp, nil
		}
	}
	return nil, trellis.Invalid(field, "%s: no sprint %q in project %s", field, ref, proj.Key)
}

// Sprint returns one sprint by id or name. Errors: ENOTFOUND.
func (s *Service) Sprint(ctx context.Context, proj *project.Project, ref string) (*Sprint, error) {
	sp, err := s.sprintIn(ctx, proj, "sprint", ref)
	if trellis.ErrorCode(err) == trellis.EINVALID {
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Sprint %q not found in project %s.", ref, proj.Key)
	}
	return sp, err
}

// ActiveSprint returns the project's active sprint, or nil.
func (s *Service) ActiveSprint(ctx context.Context, proj *project.Project) (*Sprint, error) {
	sps, err := s.store.FindSprints(ctx, proj.ID)
	if err != nil {
		return nil, err
	}
	for _, sp := range sps {
		if sp.State == SprintActive {
			return sp, nil
		}
	}
	return nil, nil
}

// CategoryOf is the allocation category an item's load counts toward.
func CategoryOf(it *Item) string {
	if slices.Contains(it.Labels, "learning") {
		return CatLearning
	}
	if it.Kind == KindExperiment || it.Kind == KindResearch {
		return CatExperiments
	}
	return CatCommitted
}

// LoadOf is an item's planned load in points. Points count as they are; an
// item estimated by time box alone counts one point per started day of it
// (4h is one point, 1w is seven), so that time-boxed and estimated work add up.
func LoadOf(it *Item) int {
	if it.Points > 0 {
		return it.Points
	}
	if d, err := TimeBoxDuration(it.TimeBox); err == nil && it.TimeBox != "" {
		return int(math.Ceil(d.Hours() / 24))
	}
	return 0
}

// CategoryLoad is the planned load of one allocation category.
type CategoryLoad struct {
	Category  string  `json:"category"`
	Points    int     `json:"points"`
	Percent   float64 `json:"percent"`   // of the sprint's total load
	Guideline int     `json:"guideline"` // percent
	// Off is set when the share is more than 10 percentage points away
	// from the guideline.
	Off bool `json:"off"`
}

// SprintPlan is the planning view of a sprint: load against capacity and
// against the allocation guideline.
type SprintPlan struct {
	Sprint       *Sprint        `json:"sprint"`
	Items        []*Item        `json:"items"`
	Capacity     int            `json:"capacity"`
	Load         int            `json:"load"`
	Categories   []CategoryLoad `json:"categories"`
	OverCapacity bool           `json:"over_capacity"`
	Warnings     []string       `json:"warnings"`
	Expired      []string       `json:"expired"` // keys of items past their time box
}

// OffGuideline is how far (in percentage points) a category may stray from
// the guideline before the plan warns.
const OffGuideline = 10

// PlanSprint computes the planning view of a sprint.
func (s *Service) PlanSprint(ctx context.Context, proj *project.Project, ref string) (*SprintPlan, error) {
	sp, err := s.Sprint(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	items, err := s.Items(ctx, proj, ItemFilter{SprintID: sp.ID})
	if err != nil {
		return nil, err
	}
	pl, err := s.store.FindPlanning(ctx, proj.ID)
	if err != nil {
		return nil, err
	}
	return ComputePlan(sp, items, pl.Allocation), nil
}

// ComputePlan adds up a sprint's items by category and compares the shares
// with the guideline and the total with the capacity.
func ComputePlan(sp *Sprint, items []*Item, a Allocation) *SprintPlan {
	plan := &SprintPlan{Sprint: sp, Items: items, Warnings: []string{}, Expired: []string{}}
	for _, c := range sp.Capacity {
		plan.Capacity += c
	}
	by := map[string]int{}
	for _, it := range items {
		l := LoadOf(it)
		by[CategoryOf(it)] += l
		plan.Load += l
		if it.TimeBoxExpired {
			plan.Expired = append(plan.Expired, it.Key)
		}
	}
	guide := map[string]int{CatCommitted: a.Committed, CatExperiments: a.Experiments, CatLearning: a.Learning}
	for _, c := range Categories {
		cl := CategoryLoad{Category: c, Points: by[c], Guideline: guide[c]}
		if plan.Load > 0 {
			cl.Percent = math.Round(1000*float64(by[c])/float64(plan.Load)) / 10
			cl.Off = math.Abs(cl.Percent-float64(cl.Guideline)) > OffGuideline
		}
		if cl.Off {
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("%s is %.0f%% of the load; the guideline is %d%%.", c, cl.Percent, cl.Guideline))
		}
		plan.Categories = append(plan.Categories, cl)
	}
	if plan.Capacity > 0 && plan.Load > plan.Capacity {
		plan.OverCapacity = true
		plan.Warnings = append([]string{fmt.Sprintf("Over capacity: %d points planned, %d available.", plan.Load, plan.Capacity)}, plan.Warnings...)
	}
	for _, k := range plan.Expired {
		plan.Warnings = append(plan.Warnings, k+" is past its time box and needs a decision.")
	}
	return plan
}

// SprintUpdate changes a sprint's fields that are set.
type SprintUpdate struct {
	Name     *string         `json:"name"`
	Goal     *string         `json:"goal"`
	Capacity *map[string]int `json:"capacity"`
}

// UpdateSprint changes a sprint's name, goal or capacity.
func (s *Service) UpdateSprint(ctx context.Context, proj *project.Project, ref string, upd SprintUpdate) (*Sprint, error) {
	sp, err := s.Sprint(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	if upd.Name != nil {
		if err := checkText("name", strings.TrimSpace(*upd.Name), 100, true); err != nil {
			return nil, err
		}
		if err := s.checkSprintName(ctx, proj, strings.TrimSpace(*upd.Name), sp.ID); err != nil {
			return nil, err
		}
		sp.Name = strings.TrimSpace(*upd.Name)
	}
	if upd.Goal != nil {
		if err := checkText("goal", *upd.Goal, 2000, false); err != nil {
			return nil, err
		}
		sp.Goal = *upd.Goal
	}
	if upd.Capacity != nil {
		if sp.Capacity, err = s.checkCapacity(ctx, proj, *upd.Capacity); err != nil {
			return nil, err
		}
	}
	if err := s.store.UpdateSprint(ctx, sp); err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			return nil, trellis.Invalid("name", "project %s already has a sprint named %q", proj.Key, sp.Name)
		}
		return nil, err
	}
	return sp, nil
}

// StartSprint makes a planned sprint active. A project has at most one
// active sprint. Errors: ECONFLICT.
func (s *Service) StartSprint(ctx context.Context, proj *project.Project, ref string) (*Sprint, error) {
	sp, err := s.Sprint(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	if sp.State != SprintPlanned {
		return nil, trellis.Errorf(trellis.ECONFLICT, "Sprint %q is %s; only a planned sprint can start.", sp.Name, sp.State)
	}
	if act, err := s.ActiveSprint(ctx, proj); err != nil {
		return nil, err
	} else if act != nil {
		return nil, trellis.Errorf(trellis.ECONFLICT, "Sprint %q is still active; close it first.", act.Name)
	}
	sp.State = SprintActive
	if err := s.store.UpdateSprint(ctx, sp); err != nil {
		return nil, err
	}
	return sp, s.recordDay(ctx, proj, sp)
}

// CloseSprint closes the active sprint. Unfinished items go to the next
// planned sprint (moveTo "next") or back to the backlog ("backlog"); the
// sprint keeps a snapshot of committed vs done points by category.
// Errors: ECONFLICT (not active), EINVALID (move_to).
func (s *Service) CloseSprint(ctx context.Context, proj *project.Project, ref, moveTo string) (*Sprint, error) {
	sp, err := s.Sprint(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	if sp.State != SprintActive {
		return nil, trellis.Errorf(trellis.ECONFLICT, "Sprint %q is %s; only the active sprint can close.", sp.Name, sp.State)
	}
	nextID := ""
	switch moveTo {
	case "backlog", "":
		moveTo = "backlog"
	case "next":
		sps, err := s.store.FindSprints(ctx, proj.ID)
		if err != nil {
			return nil, err
		}
		for _, o := range sps {
			if o.State == SprintPlanned {
				nextID, moveTo = o.ID, o.Name
				break
			}
		}
		if nextID == "" {
			return nil, trellis.Invalid("move_to", "there is no planned sprint to move unfinished items to; create one or choose backlog")
		}
	default:
		return nil, trellis.Invalid("move_to", "move_to must be next or backlog; not %q", moveTo)
	}
	items, err := s.Items(ctx, proj, ItemFilter{SprintID: sp.ID})
	if err != nil {
		return nil, err
	}
	snap := &SprintSnapshot{ClosedAt: s.now().UTC(), Committed: map[string]int{}, Done: map[string]int{}, MovedTo: moveTo}
	var unfinished []string
	for _, it := range items {
		c := CategoryOf(it)
		snap.Committed[c] += LoadOf(it)
		if !it.DoneAt.IsZero() {
			snap.Done[c] += LoadOf(it)
		} else {
			unfinished = append(unfinished, it.ID)
		}
	}
	// The last day's totals, before the unfinished items leave.
	if err := s.recordDay(ctx, proj, sp); err != nil {
		return nil, err
	}
	sp.State, sp.Snapshot = SprintClosed, snap
	if err := s.store.CloseSprint(ctx, sp, unfinished, nextID); err != nil {
		return nil, err
	}
	return sp, nil
}

// recordSprint records today's totals of the sprint when it is active, so
// that burndown and burnup draw what happened. Called after every write
// that can change a sprint's load or progress.
func (s *Service) recordSprint(ctx context.Context, proj *project.Project, sprintIDs ...string) error {
	seen := map[string]bool{}
	for _, id := range sprintIDs {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		sp, err := s.store.FindSprint(ctx, proj.ID, id)
		if err != nil {
			return err
		}
		if sp.State != SprintActive {
			continue
		}
		if err := s.recordDay(ctx, proj, sp); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) recordDay(ctx context.Context, proj *project.Project, sp *Sprint) error {
	committed, done, err := s.sprintTotals(ctx, proj, sp)
	if err != nil {
		return err
	}
	day := s.now().UTC().Truncate(24 * time.Hour)
	return s.store.RecordSprintDay(ctx, sp.ID, day, committed, done)
}

// sprintTotals sums the load of the sprint's items and of those done.
func (s *Service) sprintTotals(ctx context.Context, proj *project.Project, sp *Sprint) (committed, done int, err error) {
	items, err := s.store.FindItems(ctx, ItemFilter{ProjectID: proj.ID, SprintID: sp.ID, Limit: MaxItems})
	if err != nil {
		return 0, 0, err
	}
	for _, it := range items {
		committed += LoadOf(it)
		if !it.DoneAt.IsZero() {
			done += LoadOf(it)
		}
	}
	return committed, done, nil
}

// Burn is the burndown and burnup series of a sprint, one point per day
// from its start to its end (or today, if earlier). A day without a
// recorded change carries the last recorded totals forward.
type Burn struct {
	Days []int64 `json:"days"` // Unix seconds of each day, for uPlot
	// The actuals run to today; a day before the first recorded change is
	// null: nothing was recorded, so nothing is claimed.
	Committed []*int    `json:"committed"`
	Done      []*int    `json:"done"`
	Remaining []*int    `json:"remaining"`
	Ideal     []float64 `json:"ideal"` // the straight line from the first committed total to zero
}

// SprintBurn returns the sprint's burn series from its recorded history.
func (s *Service) SprintBurn(ctx context.Context, proj *project.Project, ref string) (*Burn, error) {
	sp, err := s.Sprint(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	days, err := s.store.FindSprintDays(ctx, sp.ID)
	if err != nil {
		return nil, err
	}
	return BurnOf(sp, days, s.now()), nil
}

// BurnOf lays recorded days onto the sprint's calendar.
func BurnOf(sp *Sprint, days []SprintDay, now time.Time) *Burn {
	b := &Burn{Days: []int64{}, Committed: []*int{}, Done: []*int{}, Remaining: []*int{}, Ideal: []float64{}}
	start := sp.StartsAt.UTC().Truncate(24 * time.Hour)
	end := sp.EndsAt.UTC().Truncate(24 * time.Hour)
	last := end
	if today := now.UTC().Truncate(24 * time.Hour); today.Before(last) {
		last = today
	}
	total := end.Sub(start).Hours() / 24
	// The ideal line runs from the first commitment recorded, on the
	// sprint's first day, to zero on its last, also when the first record
	// came a day or two late.
	first := 0.0
	for _, day := range days {
		if day.Committed > 0 {
			first = float64(day.Committed)
			break
		}
	}
	var cur SprintDay
	seen := false
	i := 0
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		for i < len(days) && !days[i].Day.After(d) {
			cur, seen = days[i], true
			i++
		}
		b.Days = append(b.Days, d.Unix())
		ideal := 0.0
		if first > 0 && total > 0 {
			ideal = first * (1 - d.Sub(start).Hours()/24/total)
		}
		b.Ideal = append(b.Ideal, ideal)
		if d.After(last) {
			continue // the future has no actuals yet
		}
		if !seen {
			b.Committed, b.Done, b.Remaining = append(b.Committed, nil), append(b.Done, nil), append(b.Remaining, nil)
			continue
		}
		c, dn, r := cur.Committed, cur.Done, cur.Committed-cur.Done
		b.Committed, b.Done, b.Remaining = append(b.Committed, &c), append(b.Done, &dn), append(b.Remaining, &r)
	}
	return b
}
