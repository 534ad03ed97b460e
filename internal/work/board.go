package work

import (
	"context"
	"fmt"

	"github.com/trellisml/trellis/internal/project"
)

// Experiment stages, the columns of the experiment board.
const (
	StageIdeation = "ideation"
	StageActive   = "active"
	StageAnalysis = "analysis"
	StageDecision = "decision"
)

// Stages lists the experiment board's columns in order.
var Stages = []string{StageIdeation, StageActive, StageAnalysis, StageDecision}

// Column is one column of a board.
type Column struct {
	Name     string  `json:"name"`
	Category string  `json:"category,omitempty"`
	WIPLimit int     `json:"wip_limit,omitempty"`
	Items    []*Item `json:"items"`
	// Total counts the column's items, also those beyond a render limit.
	Total int `json:"total"`
	// OverLimit warns that the column holds more items than its WIP limit.
	OverLimit bool `json:"over_limit"`
}

// Board is a board's columns with their items in rank order.
type Board struct {
	Columns  []*Column `json:"columns"`
	Warnings []string  `json:"warnings"`
}

// Board groups the items f selects by status, in workflow order, and warns
// about every column over its WIP limit. perColumn > 0 loads at most that
// many items per column (the first by rank); Total still counts them all.
func (s *Service) Board(ctx context.Context, proj *project.Project, f ItemFilter, perColumn int) (*Board, error) {
	ss, err := s.Statuses(ctx, proj)
	if err != nil {
		return nil, err
	}
	f.ProjectID = proj.ID
	if f.Kind != "" {
		if _, err := ParseKind("kind", string(f.Kind)); err != nil {
			return nil, err
		}
	}
	counts, err := s.store.CountItems(ctx, f)
	if err != nil {
		return nil, err
	}
	b := &Board{Warnings: []string{}}
	for _, st := range ss {
		c := &Column{Name: st.Name, Category: st.Category, WIPLimit: st.WIPLimit, Items: []*Item{}, Total: counts[st.Name]}
		b.Columns = append(b.Columns, c)
		if c.Total > 0 {
			cf := f
			cf.Status, cf.Limit = st.Name, perColumn
			if c.Items, err = s.Items(ctx, proj, cf); err != nil {
				return nil, err
			}
		}
		if c.WIPLimit > 0 && c.Total > c.WIPLimit {
			c.OverLimit = true
			b.Warnings = append(b.Warnings, fmt.Sprintf("%s holds %d items; its WIP limit is %d.", c.Name, c.Total, c.WIPLimit))
		}
	}
	return b, nil
}

// ExperimentBoard groups the project's experiment items by stage.
func (s *Service) ExperimentBoard(ctx context.Context, proj *project.Project, f ItemFilter) (*Board, error) {
	f.Kind = KindExperiment
	items, err := s.Items(ctx, proj, f)
	if err != nil {
		return nil, err
	}
	b := &Board{Warnings: []string{}}
	idx := map[string]*Column{}
	for _, st := range Stages {
		c := &Column{Name: st, Items: []*Item{}}
		b.Columns = append(b.Columns, c)
		idx[st] = c
	}
	for _, it := range items {
		if c := idx[it.Stage]; c != nil {
			c.Items = append(c.Items, it)
			c.Total++ // every experiment is loaded: none is hidden
		}
		if it.TimeBoxExpired {
			b.Warnings = append(b.Warnings, it.Key+" is past its time box and needs a decision.")
		}
	}
	return b, nil
}
