package work

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// Decision outcomes.
const (
	OutcomeProductionize = "productionize" // creates a development story with the experiment as origin
	OutcomeAbandon       = "abandon"       // needs a reason
	OutcomeMoreResearch  = "more_research" // creates a follow-up research item with a new time box
)

// Hypothesis verdicts.
var Verdicts = []string{"supported", "refuted", "inconclusive"}

// Outcomes lists the decision outcomes.
var Outcomes = []string{OutcomeProductionize, OutcomeAbandon, OutcomeMoreResearch}

// Decision is the recorded outcome of an experiment item.
type Decision struct {
	ItemID     string    `json:"-"`
	Item       string    `json:"item"`
	Title      string    `json:"title"`
	Hypothesis string    `json:"hypothesis"`
	Outcome    string    `json:"outcome"`
	Verdict    string    `json:"verdict"`
	Reason     string    `json:"reason"`
	Evidence   []string  `json:"evidence"`
	FollowUpID string    `json:"-"`
	FollowUp   string    `json:"follow_up,omitempty"`
	DecidedBy  string    `json:"decided_by"`
	DecidedAt  time.Time `json:"decided_at"`
	// GoalResults are the item's goal results when it was decided, one
	// sentence each ("accuracy at least 0.9: not met, latest 0.88 …"),
	// filled in by the goal capability for the hypothesis log.
	GoalResults []string `json:"goal_results,omitempty"`
}

// DecisionStore is the persistence of decisions.
type DecisionStore interface {
	// Decide records dec, saves the decided experiment it with its events
	// and, when followUp is not nil, creates the follow-up item (allocating
	// its number) linked as a follow-up of it, all in one transaction. A
	// second decision on the same item is ECONFLICT.
	Decide(ctx context.Context, it *Item, events []ItemEvent, dec *Decision, followUp *Item) error
	FindDecision(ctx context.Context, itemID string) (*Decision, error)
	// FindDecisions lists a project's decisions, newest first; Item,
	// Title, Hypothesis and FollowUp hold item numbers the service keys.
	FindDecisions(ctx context.Context, projectID string) ([]*Decision, error)
}

// DecisionInput is the input to Decide.
type DecisionInput struct {
	Outcome  string   `json:"outcome"`
	Verdict  string   `json:"verdict"`
	Reason   string   `json:"reason"`
	Evidence []string `json:"evidence"`
	// TimeBox is the follow-up research item's time box (more_research).
	TimeBox string `json:"time_box"`
	// Title names the follow-up item; a default is derived from the experiment.
	Title string `json:"title"`
}

// Decide records the decision on an experiment item, moves it to the
// Decision stage and its first done status, and creates the follow-up work.
// Errors: EINVALID naming the field, ECONFLICT (not an experiment, or
// already decided).
func (s *Service) Decide(ctx context.Context, proj *project.Project, ref string, in DecisionInput) (*Decision, *Item, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := oneOf("outcome", in.Outcome, Outcomes); err != nil || in.Outcome == "" {
		return nil, nil, trellis.Invalid("outcome", "outcome must be productionize, abandon or more_research; not %q", in.Outcome)
	}
	if err := oneOf("verdict", in.Verdict, Verdicts); err != nil || in.Verdict == "" {
		return nil, nil, trellis.Invalid("verdict", "verdict must be supported, refuted or inconclusive; not %q", in.Verdict)
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Outcome == OutcomeAbandon && in.Reason == "" {
		return nil, nil, trellis.Invalid("reason", "abandoning an experiment needs a reason")
	}
	if err := checkText("reason", in.Reason, 10000, false); err != nil {
		return nil, nil, err
	}
	evidence := []string{}
	for _, e := range in.Evidence {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || len(e) > 2000 {
			return nil, nil, trellis.Invalid("evidence", "evidence must be http(s) links; not %q", e)
		}
		evidence = append(evidence, e)
	}
	if len(evidence) > 50 {
		return nil, nil, trellis.Invalid("evidence", "at most 50 evidence links")
	}
	cur, err := s.Item(ctx, proj, ref)
	if err != nil {
		return nil, nil, err
	}
	if cur.Kind != KindExperiment {
		return nil, nil, trellis.Errorf(trellis.ECONFLICT, "%s is a %s item; only experiments are decided.", cur.Key, cur.Kind)
	}
	ic, err := s.loadItemCtx(ctx, proj)
	if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC()
	var follow *Item
	switch in.Outcome {
	case OutcomeProductionize, OutcomeMoreResearch:
		follow = &Item{ID: uuid.Must(uuid.NewV7()).String(), ProjectID: proj.ID, Status: ic.statuses[0].Name, Priority: cur.Priority,
			Labels: cur.Labels, ParentID: cur.ParentID, CreatedBy: p.User.Name, CreatedAt: now, UpdatedAt: now}
		if in.Outcome == OutcomeProductionize {
			follow.Kind, follow.Title, follow.Phase = KindDevelopment, "Productionize: "+cur.Title, "productionize"
			follow.Description = "Origin: experiment " + cur.Key + ", hypothesis " + in.Verdict + ".\n\n> " + cur.Hypothesis
		} else {
			in.TimeBox = strings.TrimSpace(in.TimeBox)
			if in.TimeBox == "" {
				return nil, nil, trellis.Invalid("time_box", "more research needs a time box for the follow-up research item")
			}
			follow.Kind, follow.Title, follow.TimeBox, follow.Phase = KindResearch, "More research: "+cur.Title, in.TimeBox, "explore"
			follow.Description = "Follow-up of experiment " + cur.Key + " (hypothesis " + in.Verdict + ").\n\n" + in.Reason
		}
		if t := strings.TrimSpace(in.Title); t != "" {
			follow.Title = t
		}
		follow.Title = truncateUTF8(follow.Title, 300)
		_, follow.AssigneeIDs, _ = ic.resolveAssigneesLoose(cur.Assignees)
		follow.Assignees = cur.Assignees
		if err := ic.checkItem(follow); err != nil {
			return nil, nil, err
		}
	}
	next := *cur
	next.Stage = StageDecision
	for _, st := range ic.statuses {
		if st.Category == CategoryDone {
			next.Status = st.Name
			break
		}
	}
	curSt, _ := statusByName(ic.statuses, cur.Status)
	if err := ic.checkDoD(&next, curSt.Category == CategoryDone); err != nil {
		return nil, nil, err
	}
	if in.Outcome == OutcomeAbandon && next.Learning == "" {
		next.Learning = in.Reason
	}
	_, next.AssigneeIDs, _ = ic.resolveAssigneesLoose(cur.Assignees)
	s.markProgress(ic, &next, now)
	next.UpdatedAt = now
	events := diffItems(cur, &next, p.User.Name, now)
	events = append(events, ItemEvent{User: p.User.Name, Field: "decision", New: in.Outcome + " (" + in.Verdict + ")", At: now})
	dec := &Decision{ItemID: cur.ID, Item: cur.Key, Title: cur.Title, Hypothesis: cur.Hypothesis, Outcome: in.Outcome, Verdict: in.Verdict,
		Reason: in.Reason, Evidence: evidence, DecidedBy: p.User.Name, DecidedAt: now}
	if follow != nil {
		dec.FollowUpID = follow.ID
	}
	if err := s.store.Decide(ctx, &next, events, dec, follow); err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			return nil, nil, trellis.Errorf(trellis.ECONFLICT, "%s is already decided.", cur.Key)
		}
		return nil, nil, err
	}
	if follow != nil {
		follow.Key = project.ItemKey(proj.Key, follow.Number)
		dec.FollowUp = follow.Key
	}
	for _, fn := range s.decided {
		fn(ctx, Decided{Project: proj, Decision: dec})
	}
	return dec, follow, s.recordSprint(ctx, proj, cur.SprintID)
}

// DecisionOf returns the decision on an item, or nil when undecided.
func (s *Service) DecisionOf(ctx context.Context, proj *project.Project, it *Item) (*Decision, error) {
	d, err := s.store.FindDecision(ctx, it.ID)
	if trellis.ErrorCode(err) == trellis.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	keyDecision(proj, d)
	return d, nil
}

func keyDecision(proj *project.Project, d *Decision) {
	d.Item = proj.Key + "-" + d.Item
	if d.FollowUp != "" {
		d.FollowUp = proj.Key + "-" + d.FollowUp
	}
}

// HypothesisFilter narrows the hypothesis log.
type HypothesisFilter struct {
	Verdict string
	Outcome string
	Text    string
}

// HypothesisLog lists every decided experiment of a project, newest first.
func (s *Service) HypothesisLog(ctx context.Context, proj *project.Project, f HypothesisFilter) ([]*Decision, error) {
	if err := oneOf("verdict", f.Verdict, Verdicts); err != nil {
		return nil, err
	}
	if err := oneOf("outcome", f.Outcome, Outcomes); err != nil {
		return nil, err
	}
	ds, err := s.store.FindDecisions(ctx, proj.ID)
	if err != nil {
		return nil, err
	}
	out := []*Decision{}
	q := strings.ToLower(strings.TrimSpace(f.Text))
	for _, d := range ds {
		keyDecision(proj, d)
		if (f.Verdict != "" && d.Verdict != f.Verdict) || (f.Outcome != "" && d.Outcome != f.Outcome) {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(d.Title+" "+d.Hypothesis+" "+d.Reason+" "+d.Item), q) {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
