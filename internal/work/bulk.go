package work

import (
	"context"
	"slices"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// BulkUpdate changes several items the same way: status, assignees,
// sprint, labels.
type BulkUpdate struct {
	Items     []string  `json:"items"`
	Status    *string   `json:"status"`
	Assignees *[]string `json:"assignees"`
	Sprint    *string   `json:"sprint"`
	Labels    *[]string `json:"labels"`     // replaces the labels
	AddLabels []string  `json:"add_labels"` // adds to each item's labels
}

// BulkStore saves several prepared item updates at once.
type BulkStore interface {
	// UpdateItems saves items with their events in one transaction.
	UpdateItems(ctx context.Context, items []*Item, events [][]ItemEvent) error
}

// UpdateItems applies one change to many items, all or nothing: every item
// is checked by the rules of UpdateItem first, and the first refusal names
// the item (its code stays: 400 for a rule, 409 for the Definition of
// Done). Errors: EINVALID, ECONFLICT, ENOTFOUND.
func (s *Service) UpdateItems(ctx context.Context, proj *project.Project, in BulkUpdate) ([]*Item, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.Items) == 0 || len(in.Items) > 500 {
		return nil, trellis.Invalid("items", "give 1–500 item keys")
	}
	if in.Status == nil && in.Assignees == nil && in.Sprint == nil && in.Labels == nil && len(in.AddLabels) == 0 {
		return nil, trellis.Invalid("items", "nothing to change: give status, assignees, sprint, labels or add_labels")
	}
	ic, err := s.loadItemCtx(ctx, proj)
	if err != nil {
		return nil, err
	}
	var nexts []*Item
	var events [][]ItemEvent
	var sprints []string
	seen := map[string]bool{}
	for _, ref := range in.Items {
		upd := ItemUpdate{Status: in.Status, Assignees: in.Assignees, Sprint: in.Sprint, Labels: in.Labels}
		if len(in.AddLabels) > 0 {
			cur, err := s.Item(ctx, proj, ref)
			if err != nil {
				return nil, bulkErr(ref, err)
			}
			ls := slices.Clone(cur.Labels)
			if in.Labels != nil {
				ls = slices.Clone(*in.Labels)
			}
			ls = append(ls, in.AddLabels...)
			upd.Labels = &ls
		}
		cur, next, evs, err := s.prepareUpdate(ctx, proj, ic, p.User.Name, ref, upd)
		if err != nil {
			return nil, bulkErr(ref, err)
		}
		if seen[next.ID] {
			return nil, trellis.Invalid("items", "%s is listed twice", next.Key)
		}
		seen[next.ID] = true
		nexts, events, sprints = append(nexts, next), append(events, evs), append(sprints, cur.SprintID, next.SprintID)
	}
	if err := s.store.UpdateItems(ctx, nexts, events); err != nil {
		return nil, err
	}
	for _, it := range nexts {
		s.finish(proj, it)
	}
	return nexts, s.recordSprint(ctx, proj, sprints...)
}

// bulkErr prefixes a refusal with the item it concerns, keeping its code.
func bulkErr(ref string, err error) error {
	code := trellis.ErrorCode(err)
	if code == trellis.EINTERNAL {
		return err
	}
	field := trellis.ErrorField(err)
	if field == "" {
		field = "items"
	}
	return &trellis.Error{Code: code, Field: field, Message: ref + ": " + trellis.ErrorMessage(err)}
}
