package work

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// Kind is what sort of work an item is; each kind is estimated differently.
type Kind string

// The four kinds of item.
const (
	KindResearch    Kind = "research"    // time-boxed; success is a written learning
	KindExperiment  Kind = "experiment"  // hypothesis, success metrics, time box
	KindDevelopment Kind = "development" // story points
	KindMaintenance Kind = "maintenance" // retraining, pipelines, operations; points or time box
)

// Kinds lists the kinds in the order the UI offers them.
var Kinds = []Kind{KindDevelopment, KindExperiment, KindResearch, KindMaintenance}

// Priorities, lowest first.
var Priorities = []string{"none", "low", "medium", "high", "urgent"}

// Phases of ML work an item can belong to.
var Phases = []string{"explore", "prototype", "productionize"}

// TimeBoxPresets are the time boxes the UI offers; any N h/d/w is accepted.
var TimeBoxPresets = []string{"4h", "2d", "3d", "1w"}

// ItemRef names another item briefly.
type ItemRef struct {
	Key    string `json:"key"`
	Title  string `json:"title"`
	Kind   Kind   `json:"kind"`
	Status string `json:"status"`
}

// Item is a backlog work item.
type Item struct {
	ID             string    `json:"id"`
	ProjectID      string    `json:"-"`
	Key            string    `json:"key"`
	Number         int64     `json:"number"`
	Kind           Kind      `json:"kind"`
	Title          string    `json:"title"`
	Description    string    `json:"description"`
	Status         string    `json:"status"`
	Stage          string    `json:"stage,omitempty"`
	Rank           float64   `json:"rank"`
	Priority       string    `json:"priority"`
	Assignees      []string  `json:"assignees"`
	AssigneeIDs    []string  `json:"-"`
	Labels         []string  `json:"labels"`
	ParentID       string    `json:"-"`
	Parent         string    `json:"parent,omitempty"`
	Phase          string    `json:"phase,omitempty"`
	Deliverable    string    `json:"deliverable,omitempty"`
	TimeBox        string    `json:"time_box,omitempty"`
	Hypothesis     string    `json:"hypothesis,omitempty"`
	SuccessMetrics string    `json:"success_metrics,omitempty"`
	Points         int       `json:"points,omitempty"`
	Size           string    `json:"size,omitempty"`
	Learning       string    `json:"learning,omitempty"`
	SprintID       string    `json:"sprint_id,omitempty"`
	StartedAt      time.Time `json:"started_at,omitzero"`
	DoneAt         time.Time `json:"done_at,omitzero"`
	CreatedBy      string    `json:"created_by"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// DoDChecked are the points of the kind's Definition of Done that are
	// checked on this item.
	DoDChecked []string `json:"dod_checked,omitempty"`
	// Filled by Item (the single-item read) only.
	DoD      []DoDPoint `json:"dod,omitempty"`
	SubTasks []ItemRef  `json:"sub_tasks,omitempty"`
	Links    []Link     `json:"links,omitempty"`
	// TimeBoxExpired flags an active research or experiment item past its
	// time box; it asks the team for a decision.
	TimeBoxExpired bool `json:"time_box_expired,omitempty"`
}

// ItemFilter selects items of one project. Empty fields do not filter.
type ItemFilter struct {
	ProjectID string
	Kind      Kind
	Status    string
	Assignee  string // a user name
	Label     string
	Text      string // in key, title or description, case-insensitive
	SprintID  string // "none" for items in no sprint
	ParentID  string
	Limit     int // 0 means MaxItems
}

// MaxItems bounds one listing.
const MaxItems = 20000

// ItemEvent is one change in an item's history.
type ItemEvent struct {
	ItemKey string    `json:"item,omitempty"`
	User    string    `json:"user"`
	Field   string    `json:"field"`
	Old     string    `json:"old"`
	New     string    `json:"new"`
	At      time.Time `json:"at"`
}

// ItemStore is the persistence of items and their change history.
// Absent rows are ENOTFOUND.
type ItemStore interface {
	// CreateItem allocates the project's next item number atomically, ranks
	// the item last and inserts it with its assignees, labels and a
	// "created" event, in one transaction. It sets it.Number and it.Rank.
	CreateItem(ctx context.Context, it *Item) error
	FindItem(ctx context.Context, projectID string, number int64) (*Item, error)
	FindItemByID(ctx context.Context, id string) (*Item, error)
	FindItems(ctx context.Context, f ItemFilter) ([]*Item, error)
	// CountItems counts the items f selects, by status.
	CountItems(ctx context.Context, f ItemFilter) (map[string]int, error)
	// UpdateItem saves every mutable field, assignees and labels, and the
	// events, in one transaction.
	UpdateItem(ctx context.Context, it *Item, events []ItemEvent) error
	FindItemEvents(ctx context.Context, itemID string) ([]*ItemEvent, error)
}

// NewItem is the input to CreateItem.
type NewItem struct {
	Kind           Kind     `json:"kind"`
	Title          string   `json:"title"`
	Description    string   `json:"description"`
	Status         string   `json:"status"`
	Priority       string   `json:"priority"`
	Assignees      []string `json:"assignees"`
	Labels         []string `json:"labels"`
	Parent         string   `json:"parent"`
	Phase          string   `json:"phase"`
	Deliverable    string   `json:"deliverable"`
	TimeBox        string   `json:"time_box"`
	Hypothesis     string   `json:"hypothesis"`
	SuccessMetrics string   `json:"success_metrics"`
	Points         int      `json:"points"`
	Size           string   `json:"size"`
	Sprint         string   `json:"sprint"`
	// Learning is what a research item taught; needed to close one.
	Learning string `json:"learning"`
	// DoDChecked are Definition of Done points already met.
	DoDChecked []string `json:"dod_checked"`
}

// ItemUpdate changes the fields that are set.
type ItemUpdate struct {
	Title          *string   `json:"title"`
	Description    *string   `json:"description"`
	Status         *string   `json:"status"`
	Stage          *string   `json:"stage"`
	Priority       *string   `json:"priority"`
	Assignees      *[]string `json:"assignees"`
	Labels         *[]string `json:"labels"`
	Parent         *string   `json:"parent"`
	Phase          *string   `json:"phase"`
	Deliverable    *string   `json:"deliverable"`
	TimeBox        *string   `json:"time_box"`
	Hypothesis     *string   `json:"hypothesis"`
	SuccessMetrics *string   `json:"success_metrics"`
	Points         *int      `json:"points"`
	Size           *string   `json:"size"`
	Learning       *string   `json:"learning"`
	Sprint         *string   `json:"sprint"`
	// DoDChecked replaces the checked Definition of Done points.
	DoDChecked *[]string `json:"dod_checked"`
	// Before and After place the item between two others (by key) in the
	// backlog and board order; one is enough.
	Before *string `json:"before"`
	After  *string `json:"after"`
}

// ParseKind checks a kind; field names the input for the error.
func ParseKind(field, s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Kinds, k) {
		return "", trellis.Invalid(field, "%s must be one of research, experiment, development, maintenance; not %q", field, s)
	}
	return k, nil
}

var timeBoxRE = regexp.MustCompile(`^([1-9][0-9]{0,2})([hdw])$`)

// TimeBoxDuration parses a time box like 4h, 2d, 1w (any 1–999 of hours,
// days or weeks). Days and weeks are calendar time: a time box is a promise
// about when to decide, not an effort estimate.
func TimeBoxDuration(tb string) (time.Duration, error) {
	m := timeBoxRE.FindStringSubmatch(tb)
	if m == nil {
		return 0, trellis.Invalid("time_box", "time_box must be a number of hours, days or weeks like 4h, 2d, 3d or 1w; not %q", tb)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

var labelRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

func cleanLabels(ls []string) ([]string, error) {
	out := []string{}
	for _, l := range ls {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "" {
			continue
		}
		if !labelRE.MatchString(l) {
			return nil, trellis.Invalid("labels", "label %q must be 1–40 lowercase letters, digits, '.', '_' or '-'", l)
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if len(out) > 20 {
		return nil, trellis.Invalid("labels", "an item has at most 20 labels")
	}
	slices.Sort(out)
	return out, nil
}

func checkText(field, v string, max int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return trellis.Invalid(field, "%s is required", field)
	}
	if len(v) > max {
		return trellis.Invalid(field, "%s must be at most %d characters", field, max)
	}
	// PostgreSQL refuses such text outright; SQLite would keep it. Refuse
	// it here so that both stores behave alike and the caller learns why.
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return trellis.Invalid(field, "%s must be UTF-8 text without NUL characters", field)
	}
	return nil
}

func oneOf(field, v string, allowed []string) error {
	if v != "" && !slices.Contains(allowed, v) {
		return trellis.Invalid(field, "%s must be one of %s; not %q", field, strings.Join(allowed, ", "), v)
	}
	return nil
}

// itemCtx is what validating an item needs to know about its project.
type itemCtx struct {
	proj     *project.Project
	statuses []Status
	planning Planning
	members  []*project.Member
	dod      map[Kind][]string
}

func (s *Service) loadItemCtx(ctx context.Context, proj *project.Project) (*itemCtx, error) {
	ic := &itemCtx{proj: proj}
	var err error
	if ic.statuses, err = s.Statuses(ctx, proj); err != nil {
		return nil, err
	}
	if ic.planning, err = s.store.FindPlanning(ctx, proj.ID); err != nil {
		return nil, err
	}
	if ic.members, err = s.store.FindMembers(ctx, proj.ID); err != nil {
		return nil, err
	}
	if ic.dod, err = s.DoD(ctx, proj); err != nil {
		return nil, err
	}
	return ic, nil
}

// resolveAssignees maps user names to the ids of project members.
func (ic *itemCtx) resolveAssignees(names []string) ([]string, []string, error) {
	var outNames, ids []string
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(n, "@")))
		if n == "" || slices.Contains(outNames, n) {
			continue
		}
		i := slices.IndexFunc(ic.members, func(m *project.Member) bool { return m.UserName == n })
		if i < 0 {
			return nil, nil, trellis.Invalid("assignees", "%q is not a member of project %s", n, ic.proj.Key)
		}
		outNames, ids = append(outNames, n), append(ids, ic.members[i].UserID)
	}
	if len(outNames) > 10 {
		return nil, nil, trellis.Invalid("assignees", "an item has at most 10 assignees")
	}
	return outNames, ids, nil
}

// checkEstimate validates points and size against the project's scale and
// fills Points from a T-shirt size.
func (ic *itemCtx) checkEstimate(it *Item) error {
	switch ic.planning.PointScale {
	case ScaleTShirt:
		if it.Size != "" {
			it.Size = strings.ToUpper(it.Size)
			p, ok := TShirtPoints[it.Size]
			if !ok {
				return trellis.Invalid("size", "size must be one of XS, S, M, L, XL; not %q", it.Size)
			}
			it.Points = p
		} else if it.Points != 0 {
			return trellis.Invalid("size", "project %s estimates in T-shirt sizes: give size (XS–XL) instead of points", ic.proj.Key)
		}
	default:
		if it.Size != "" {
			return trellis.Invalid("size", "project %s estimates in Fibonacci points, not T-shirt sizes", ic.proj.Key)
		}
		if it.Points != 0 && !slices.Contains(FibonacciPoints, it.Points) {
			return trellis.Invalid("points", "points must be one of 1, 2, 3, 5, 8, 13, 21 (Fibonacci); not %d", it.Points)
		}
	}
	if it.Points < 0 {
		return trellis.Invalid("points", "points cannot be negative")
	}
	return nil
}

// checkItem applies every field rule and the readiness rules to it.
func (ic *itemCtx) checkItem(it *Item) error {
	if err := checkText("title", it.Title, 300, true); err != nil {
		return err
	}
	if err := checkText("description", it.Description, 100000, false); err != nil {
		return err
	}
	if err := oneOf("priority", it.Priority, Priorities); err != nil {
		return err
	}
	if err := oneOf("phase", it.Phase, Phases); err != nil {
		return err
	}
	if err := checkText("deliverable", it.Deliverable, 300, false); err != nil {
		return err
	}
	for field, v := range map[string]string{"hypothesis": it.Hypothesis, "success_metrics": it.SuccessMetrics, "learning": it.Learning} {
		if err := checkText(field, v, 10000, false); err != nil {
			return err
		}
	}
	if it.TimeBox != "" {
		if _, err := TimeBoxDuration(it.TimeBox); err != nil {
			return err
		}
	}
	if err := ic.checkEstimate(it); err != nil {
		return err
	}
	st, ok := statusByName(ic.statuses, it.Status)
	if !ok {
		names := make([]string, len(ic.statuses))
		for i, s := range ic.statuses {
			names[i] = s.Name
		}
		return trellis.Invalid("status", "status must be one of %s; not %q", strings.Join(names, ", "), it.Status)
	}
	it.Status = st.Name
	if it.Kind == KindExperiment {
		if strings.TrimSpace(it.Hypothesis) == "" {
			return trellis.Invalid("hypothesis", "an experiment needs its hypothesis from the start (We believe X will Y, measured by Z)")
		}
		if err := oneOf("stage", it.Stage, Stages); err != nil {
			return err
		}
		if it.Stage == "" {
			it.Stage = StageIdeation
		}
	} else if it.Stage != "" {
		return trellis.Invalid("stage", "only experiment items have a stage")
	}
	if err := ic.checkReady(it, st); err != nil {
		return err
	}
	if it.Kind == KindResearch && st.Category == CategoryDone && strings.TrimSpace(it.Learning) == "" {
		return trellis.Invalid("learning", "a research item records what it learned when it closes; write the learning first")
	}
	return nil
}

// checkReady is the readiness rule: a development item needs points, and a
// research or experiment item a time box, before it enters a sprint or
// leaves the todo statuses (or Ideation, for experiments).
func (ic *itemCtx) checkReady(it *Item, st Status) error {
	committed := it.SprintID != "" || st.Category != CategoryTodo || (it.Stage != "" && it.Stage != StageIdeation)
	if !committed {
		return nil
	}
	where := "move to " + st.Name
	switch {
	case it.SprintID != "":
		where = "enter a sprint"
	case st.Category == CategoryTodo:
		where = "leave Ideation"
	}
	switch it.Kind {
	case KindDevelopment:
		if it.Points == 0 {
			field, what := "points", "story points"
			if ic.planning.PointScale == ScaleTShirt {
				field, what = "size", "a T-shirt size"
			}
			return trellis.Invalid(field, "a development item needs %s before it can %s", what, where)
		}
	case KindResearch, KindExperiment:
		if it.TimeBox == "" {
			return trellis.Invalid("time_box", "a %s item needs a time box before it can %s", it.Kind, where)
		}
	}
	return nil
}

func principal(ctx context.Context) (*auth.Principal, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	return p, nil
}

// CreateItem adds an item to an authorized project (the caller is an editor).
// Errors: EINVALID naming the field.
func (s *Service) CreateItem(ctx context.Context, proj *project.Project, in NewItem) (*Item, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if in.Kind == "" {
		return nil, trellis.Invalid("kind", "kind is required: research, experiment, development or maintenance")
	}
	if _, err := ParseKind("kind", string(in.Kind)); err != nil {
		return nil, err
	}
	ic, err := s.loadItemCtx(ctx, proj)
	if err != nil {
		return nil, err
	}
	it, err := s.buildItem(ctx, proj, ic, p.User.Name, in)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateItem(ctx, it); err != nil {
		return nil, err
	}
	it.Key = project.ItemKey(proj.Key, it.Number)
	return it, s.recordSprint(ctx, proj, it.SprintID)
}

// markProgress records when an item first left todo and when it reached done.
func (s *Service) markProgress(ic *itemCtx, it *Item, now time.Time) {
	st, _ := statusByName(ic.statuses, it.Status)
	if st.Category != CategoryTodo && it.StartedAt.IsZero() {
		it.StartedAt = now
	}
	if st.Category == CategoryDone {
		if it.DoneAt.IsZero() {
			it.DoneAt = now
		}
	} else {
		it.DoneAt = time.Time{}
	}
}

// itemIn finds an item of proj by key or number, naming field when absent.
func (s *Service) itemIn(ctx context.Context, proj *project.Project, field, ref string) (*Item, error) {
	n, err := project.ParseItemRef(proj.Key, ref)
	if err != nil {
		return nil, trellis.Invalid(field, "%s: %s", field, trellis.ErrorMessage(err))
	}
	it, err := s.store.FindItem(ctx, proj.ID, n)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, trellis.Invalid(field, "%s: no item %s in project %s", field, project.ItemKey(proj.Key, n), proj.Key)
	}
	if err != nil {
		return nil, err
	}
	it.Key = project.ItemKey(proj.Key, it.Number)
	return it, nil
}

// Item returns one item of an authorized project with its sub-tasks and
// links. Errors: ENOTFOUND, EINVALID (a malformed key).
func (s *Service) Item(ctx context.Context, proj *project.Project, ref string) (*Item, error) {
	n, err := project.ParseItemRef(proj.Key, ref)
	if err != nil {
		return nil, err
	}
	it, err := s.store.FindItem(ctx, proj.ID, n)
	if err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return nil, trellis.Errorf(trellis.ENOTFOUND, "Item %s not found.", project.ItemKey(proj.Key, n))
		}
		return nil, err
	}
	s.finish(proj, it)
	dod, err := s.DoD(ctx, proj)
	if err != nil {
		return nil, err
	}
	it.DoD = dodOf(dod[it.Kind], it.DoDChecked)
	subs, err := s.store.FindItems(ctx, ItemFilter{ProjectID: proj.ID, ParentID: it.ID})
	if err != nil {
		return nil, err
	}
	it.SubTasks = []ItemRef{}
	for _, sub := range subs {
		it.SubTasks = append(it.SubTasks, ItemRef{Key: project.ItemKey(proj.Key, sub.Number), Title: sub.Title, Kind: sub.Kind, Status: sub.Status})
	}
	if it.Links, err = s.store.FindLinks(ctx, it.ID); err != nil {
		return nil, err
	}
	for i := range it.Links {
		it.Links[i].Key = proj.Key + "-" + it.Links[i].Key
	}
	return it, nil
}

// finish fills the derived fields of an item read from the store.
func (s *Service) finish(proj *project.Project, it *Item) {
	it.Key = project.ItemKey(proj.Key, it.Number)
	// The store names the parent by number; the service by key.
	if it.Parent != "" && !strings.Contains(it.Parent, "-") {
		it.Parent = proj.Key + "-" + it.Parent
	}
	if it.Assignees == nil {
		it.Assignees = []string{}
	}
	if it.Labels == nil {
		it.Labels = []string{}
	}
	it.TimeBoxExpired = timeBoxExpired(it, s.now())
}

func timeBoxExpired(it *Item, now time.Time) bool {
	if (it.Kind != KindResearch && it.Kind != KindExperiment) || it.TimeBox == "" || it.StartedAt.IsZero() || !it.DoneAt.IsZero() {
		return false
	}
	if it.Kind == KindExperiment && it.Stage == StageDecision {
		return false
	}
	d, err := TimeBoxDuration(it.TimeBox)
	return err == nil && now.After(it.StartedAt.Add(d))
}

// Items lists the items of an authorized project in backlog order.
func (s *Service) Items(ctx context.Context, proj *project.Project, f ItemFilter) ([]*Item, error) {
	f.ProjectID = proj.ID
	if f.Kind != "" {
		if _, err := ParseKind("kind", string(f.Kind)); err != nil {
			return nil, err
		}
	}
	if f.Limit <= 0 || f.Limit > MaxItems {
		f.Limit = MaxItems
	}
	if len(f.Text) > 200 {
		return nil, trellis.Invalid("q", "search text must be at most 200 characters")
	}
	items, err := s.store.FindItems(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		s.finish(proj, it)
	}
	return items, nil
}

// UpdateItem changes an item of an authorized project, applies every rule to
// the result and records each changed field in the item's history.
// Errors: ENOTFOUND, EINVALID naming the field.
func (s *Service) UpdateItem(ctx context.Context, proj *project.Project, ref string, upd ItemUpdate) (*Item, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ic, err := s.loadItemCtx(ctx, proj)
	if err != nil {
		return nil, err
	}
	cur, next, events, err := s.prepareUpdate(ctx, proj, ic, p.User.Name, ref, upd)
	if err != nil {
		return nil, err
	}
	if err := s.store.UpdateItem(ctx, next, events); err != nil {
		return nil, err
	}
	s.finish(proj, next)
	next.DoD = dodOf(ic.dod[next.Kind], next.DoDChecked)
	return next, s.recordSprint(ctx, proj, cur.SprintID, next.SprintID)
}

// prepareUpdate applies upd to the current item and every rule to the
// result, without storing it; it returns the current and next item and
// the history events of the change.
func (s *Service) prepareUpdate(ctx context.Context, proj *project.Project, ic *itemCtx, user, ref string, upd ItemUpdate) (*Item, *Item, []ItemEvent, error) {
	cur, err := s.Item(ctx, proj, ref)
	if err != nil {
		return nil, nil, nil, err
	}
	next := *cur
	set := func(dst *string, v *string, trim bool) {
		if v != nil {
			*dst = *v
			if trim {
				*dst = strings.TrimSpace(*dst)
			}
		}
	}
	set(&next.Title, upd.Title, true)
	set(&next.Description, upd.Description, false)
	set(&next.Status, upd.Status, true)
	set(&next.Stage, upd.Stage, true)
	set(&next.Priority, upd.Priority, true)
	set(&next.Phase, upd.Phase, true)
	set(&next.Deliverable, upd.Deliverable, true)
	set(&next.TimeBox, upd.TimeBox, true)
	set(&next.Hypothesis, upd.Hypothesis, true)
	set(&next.SuccessMetrics, upd.SuccessMetrics, false)
	set(&next.Size, upd.Size, true)
	set(&next.Learning, upd.Learning, false)
	if upd.Points != nil {
		next.Points = *upd.Points
		if ic.planning.PointScale == ScaleTShirt && upd.Size == nil {
			next.Size = ""
		}
	}
	if upd.Size != nil && *upd.Size == "" && ic.planning.PointScale == ScaleTShirt {
		next.Points = 0
	}
	if upd.Labels != nil {
		if next.Labels, err = cleanLabels(*upd.Labels); err != nil {
			return nil, nil, nil, err
		}
	}
	if upd.Assignees != nil {
		if next.Assignees, next.AssigneeIDs, err = ic.resolveAssignees(*upd.Assignees); err != nil {
			return nil, nil, nil, err
		}
	} else {
		_, next.AssigneeIDs, _ = ic.resolveAssigneesLoose(cur.Assignees)
	}
	if upd.Parent != nil {
		if *upd.Parent == "" {
			next.ParentID, next.Parent = "", ""
		} else {
			parent, err := s.itemIn(ctx, proj, "parent", *upd.Parent)
			if err != nil {
				return nil, nil, nil, err
			}
			if parent.ID == cur.ID {
				return nil, nil, nil, trellis.Invalid("parent", "an item cannot be its own parent")
			}
			for anc := parent; anc.ParentID != ""; {
				if anc.ParentID == cur.ID {
					return nil, nil, nil, trellis.Invalid("parent", "%s is a sub-task of %s; that would make a loop", parent.Key, cur.Key)
				}
				if anc, err = s.store.FindItemByID(ctx, anc.ParentID); err != nil {
					return nil, nil, nil, err
				}
			}
			next.ParentID, next.Parent = parent.ID, parent.Key
		}
	}
	if upd.Sprint != nil {
		if *upd.Sprint == "" {
			next.SprintID = ""
		} else {
			sp, err := s.sprintIn(ctx, proj, "sprint", *upd.Sprint)
			if err != nil {
				return nil, nil, nil, err
			}
			if sp.State == SprintClosed {
				return nil, nil, nil, trellis.Invalid("sprint", "sprint %q is closed", sp.Name)
			}
			next.SprintID = sp.ID
		}
	}
	if err := ic.checkItem(&next); err != nil {
		return nil, nil, nil, err
	}
	if upd.DoDChecked != nil {
		next.DoDChecked = ic.cleanChecks(next.Kind, *upd.DoDChecked)
	}
	curSt, _ := statusByName(ic.statuses, cur.Status)
	if err := ic.checkDoD(&next, curSt.Category == CategoryDone); err != nil {
		return nil, nil, nil, err
	}
	if upd.Before != nil || upd.After != nil {
		if next.Rank, err = s.rankBetween(ctx, proj, upd.After, upd.Before); err != nil {
			return nil, nil, nil, err
		}
	}
	now := s.now().UTC()
	s.markProgress(ic, &next, now)
	next.UpdatedAt = now
	return cur, &next, diffItems(cur, &next, user, now), nil
}

// resolveAssigneesLoose maps names to ids, skipping former members so that
// an unrelated edit does not fail because an assignee left the project.
func (ic *itemCtx) resolveAssigneesLoose(names []string) ([]string, []string, error) {
	var outNames, ids []string
	for _, n := range names {
		if i := slices.IndexFunc(ic.members, func(m *project.Member) bool { return m.UserName == n }); i >= 0 {
			outNames, ids = append(outNames, n), append(ids, ic.members[i].UserID)
		}
	}
	return outNames, ids, nil
}

// rankBetween computes a rank that places an item after one key and before
// another; either may be absent.
func (s *Service) rankBetween(ctx context.Context, proj *project.Project, after, before *string) (float64, error) {
	var lo, hi *Item
	var err error
	if after != nil && *after != "" {
		if lo, err = s.itemIn(ctx, proj, "after", *after); err != nil {
			return 0, err
		}
	}
	if before != nil && *before != "" {
		if hi, err = s.itemIn(ctx, proj, "before", *before); err != nil {
			return 0, err
		}
	}
	switch {
	case lo != nil && hi != nil:
		return (lo.Rank + hi.Rank) / 2, nil
	case lo != nil:
		return lo.Rank + 1, nil
	case hi != nil:
		return hi.Rank - 1, nil
	}
	return 0, trellis.Invalid("before", "give before or after (an item key) to place the item")
}

func diffItems(a, b *Item, user string, at time.Time) []ItemEvent {
	var evs []ItemEvent
	add := func(field, o, n string) {
		if o != n {
			evs = append(evs, ItemEvent{User: user, Field: field, Old: o, New: n, At: at})
		}
	}
	add("title", a.Title, b.Title)
	add("description", a.Description, b.Description)
	add("status", a.Status, b.Status)
	add("stage", a.Stage, b.Stage)
	add("priority", a.Priority, b.Priority)
	add("assignees", strings.Join(a.Assignees, ", "), strings.Join(b.Assignees, ", "))
	add("labels", strings.Join(a.Labels, ", "), strings.Join(b.Labels, ", "))
	add("parent", a.Parent, b.Parent)
	add("phase", a.Phase, b.Phase)
	add("deliverable", a.Deliverable, b.Deliverable)
	add("time_box", a.TimeBox, b.TimeBox)
	add("hypothesis", a.Hypothesis, b.Hypothesis)
	add("success_metrics", a.SuccessMetrics, b.SuccessMetrics)
	add("points", strconv.Itoa(a.Points), strconv.Itoa(b.Points))
	add("size", a.Size, b.Size)
	add("learning", a.Learning, b.Learning)
	add("sprint", a.SprintID, b.SprintID)
	add("definition of done", strings.Join(a.DoDChecked, "; "), strings.Join(b.DoDChecked, "; "))
	return evs
}

// History returns an item's change history, oldest first.
func (s *Service) History(ctx context.Context, proj *project.Project, ref string) ([]*ItemEvent, error) {
	it, err := s.Item(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	return s.store.FindItemEvents(ctx, it.ID)
}
