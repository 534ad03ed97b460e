package work

import (
	"context"
	"slices"
	"strings"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// DoDStore is the persistence of Definitions of Done.
type DoDStore interface {
	// FindDoD returns the points a project set, by kind; kinds it never
	// set are absent.
	FindDoD(ctx context.Context, projectID string) (map[Kind][]string, error)
	SetDoD(ctx context.Context, projectID string, kind Kind, points []string) error
	FindDoDChecks(ctx context.Context, itemID string) ([]string, error)
}

// DefaultDoD is the Definition of Done a project starts with. Experiments
// have none by default: recording their decision is what closes them.
var DefaultDoD = map[Kind][]string{
	KindDevelopment: {"Code reviewed", "Tests pass in CI", "Deployed to staging"},
	KindMaintenance: {"Change verified in production", "Model card or runbook updated"},
	KindResearch:    {"Learning written on the item"},
	KindExperiment:  {},
}

// DoDPoint is one point of an item's Definition of Done.
type DoDPoint struct {
	Text    string `json:"text"`
	Checked bool   `json:"checked"`
}

// DoD returns the project's Definition of Done for every kind.
func (s *Service) DoD(ctx context.Context, proj *project.Project) (map[Kind][]string, error) {
	set, err := s.store.FindDoD(ctx, proj.ID)
	if err != nil {
		return nil, err
	}
	out := map[Kind][]string{}
	for _, k := range Kinds {
		if ps, ok := set[k]; ok {
			out[k] = ps
		} else {
			out[k] = slices.Clone(DefaultDoD[k])
		}
	}
	return out, nil
}

// SetDoD replaces the Definition of Done of one kind. Errors: EINVALID.
func (s *Service) SetDoD(ctx context.Context, proj *project.Project, kind Kind, points []string) ([]string, error) {
	k, err := ParseKind("kind", string(kind))
	if err != nil {
		return nil, err
	}
	clean := []string{}
	for _, p := range points {
		p = strings.TrimSpace(p)
		if p == "" || slices.Contains(clean, p) {
			continue
		}
		if len(p) > 200 {
			return nil, trellis.Invalid("points", "a point of the Definition of Done is at most 200 characters")
		}
		clean = append(clean, p)
	}
	if len(clean) > 30 {
		return nil, trellis.Invalid("points", "a Definition of Done has at most 30 points")
	}
	return clean, s.store.SetDoD(ctx, proj.ID, k, clean)
}

// dodOf lays an item's checks over its kind's Definition of Done.
func dodOf(points []string, checked []string) []DoDPoint {
	out := make([]DoDPoint, 0, len(points))
	for _, p := range points {
		out = append(out, DoDPoint{Text: p, Checked: slices.Contains(checked, p)})
	}
	return out
}

// checkDoD refuses (ECONFLICT, field "dod") to let an item reach a done
// status while a point of its Definition of Done is unchecked, naming the
// open points.
func (ic *itemCtx) checkDoD(it *Item, wasDone bool) error {
	st, _ := statusByName(ic.statuses, it.Status)
	if st.Category != CategoryDone || wasDone {
		return nil
	}
	var open []string
	for _, p := range ic.dod[it.Kind] {
		if !slices.Contains(it.DoDChecked, p) {
			open = append(open, p)
		}
	}
	if len(open) == 0 {
		return nil
	}
	return &trellis.Error{Code: trellis.ECONFLICT, Field: "dod",
		Message: "The Definition of Done has open points: " + strings.Join(open, "; ") + ". Check them before moving to " + it.Status + "."}
}

// cleanChecks keeps the checks that name a point of the kind's DoD.
func (ic *itemCtx) cleanChecks(kind Kind, checked []string) []string {
	out := []string{}
	for _, c := range checked {
		c = strings.TrimSpace(c)
		if slices.Contains(ic.dod[kind], c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
