package tracking

import (
	"context"
	"regexp"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

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

// maxRunsItems bounds the runs one RunsItems call names (one SQL
// placeholder each).
const maxRunsItems = 1000

// RunsItems maps each of the given runs of proj that links to items to
// their keys, in item number order: one query for a page of the runs
// table. Ids of runs outside proj map to nothing.
func (s *Service) RunsItems(ctx context.Context, proj *project.Project, runIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(runIDs) == 0 {
		return out, nil
	}
	if len(runIDs) > maxRunsItems {
		return nil, trellis.Invalid("run", "at most %d runs at once", maxRunsItems)
	}
	ls, err := s.store.FindRunsItems(ctx, proj.ID, runIDs)
	for _, l := range ls {
		out[l.RunID] = append(out[l.RunID], l.ItemKey)
	}
	return out, err
}

// ItemRuns lists the runs linked to an item key of proj. Errors: EINVALID.
func (s *Service) ItemRuns(ctx context.Context, proj *project.Project, itemKey string) ([]ItemLink, error) {
	if err := checkItemKey(proj, itemKey); err != nil {
		return nil, err
	}
	return s.store.FindItemRuns(ctx, proj.ID, itemKey)
}
