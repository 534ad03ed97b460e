package work

import (
	"context"
	"strings"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// SearchStore is the persistence of the item text search.
type SearchStore interface {
	// SearchItems full-text searches titles, descriptions and comments.
	SearchItems(ctx context.Context, projectID, text string, limit int) ([]*Item, error)
}

// Search finds items by key or by the words of their title, description
// and comments (full-text, every word as a prefix), best match first.
// Errors: EINVALID ("q").
func (s *Service) Search(ctx context.Context, proj *project.Project, q string) ([]*Item, error) {
	q = strings.TrimSpace(q)
	if q == "" || len(q) > 200 {
		return nil, trellis.Invalid("q", "search text must be 1–200 characters")
	}
	var out []*Item
	if n, err := project.ParseItemRef(proj.Key, q); err == nil && strings.ContainsAny(q, "0123456789") && len(strings.Fields(q)) == 1 {
		if it, err := s.store.FindItem(ctx, proj.ID, n); err == nil {
			out = append(out, it)
		}
	}
	found, err := s.store.SearchItems(ctx, proj.ID, q, 100)
	if err != nil {
		return nil, err
	}
	for _, it := range found {
		if len(out) == 0 || out[0].ID != it.ID {
			out = append(out, it)
		}
	}
	for _, it := range out {
		s.finish(proj, it)
	}
	return out, nil
}
