package work

import (
	"context"
	"net/url"
	"strings"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// SavedFilter is a user's named backlog filter.
type SavedFilter struct {
	Name  string `json:"name"`
	Query string `json:"query"` // kind=…&assignee=…&label=…&q=…&status=…
}

// FilterStore is the persistence of saved filters.
type FilterStore interface {
	FindFilters(ctx context.Context, projectID, userID string) ([]SavedFilter, error)
	// SaveFilter inserts or replaces a filter by name.
	SaveFilter(ctx context.Context, projectID, userID string, f SavedFilter) error
	DeleteFilter(ctx context.Context, projectID, userID, name string) error
}

// filterKeys are the query parameters a saved filter keeps.
var filterKeys = []string{"kind", "assignee", "label", "q", "status", "sprint"}

// Filters lists the caller's saved filters in a project.
func (s *Service) Filters(ctx context.Context, proj *project.Project) ([]SavedFilter, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.FindFilters(ctx, proj.ID, p.User.ID)
}

// SaveFilter saves (or replaces) one of the caller's filters. Only the
// filter parameters are kept. Errors: EINVALID ("name", "query").
func (s *Service) SaveFilter(ctx context.Context, proj *project.Project, f SavedFilter) (SavedFilter, error) {
	p, err := principal(ctx)
	if err != nil {
		return f, err
	}
	f.Name = strings.TrimSpace(f.Name)
	if err := checkText("name", f.Name, 60, true); err != nil {
		return f, err
	}
	q, err := url.ParseQuery(strings.TrimPrefix(f.Query, "?"))
	if err != nil || len(f.Query) > 1000 {
		return f, trellis.Invalid("query", "query must be a URL query string like kind=experiment&label=data")
	}
	keep := url.Values{}
	for _, k := range filterKeys {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			keep.Set(k, v)
		}
	}
	if len(keep) == 0 {
		return f, trellis.Invalid("query", "the filter is empty: set at least one of %s", strings.Join(filterKeys, ", "))
	}
	if k := keep.Get("kind"); k != "" {
		if _, err := ParseKind("query", k); err != nil {
			return f, err
		}
	}
	f.Query = keep.Encode()
	return f, s.store.SaveFilter(ctx, proj.ID, p.User.ID, f)
}

// DeleteFilter deletes one of the caller's filters. Errors: ENOTFOUND.
func (s *Service) DeleteFilter(ctx context.Context, proj *project.Project, name string) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.store.DeleteFilter(ctx, proj.ID, p.User.ID, name)
}
