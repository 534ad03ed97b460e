package project

import (
	"context"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/ttlcache"
)

// Every project-scoped request (all of MLflow's calls under /p/KEY) starts
// with Authorize, which read the project and the caller's membership from the
// store: two queries, about a tenth of the server's CPU for a small MLflow
// request. Both are remembered for a few seconds.
//
// Within this process, changing a project or a membership drops the entries
// it touches before the change returns, so a removed member or a lowered role
// applies to the very next request. Another process sharing the database (a
// second server on one PostgreSQL database) cannot reach these caches, so
// entries are re-read after accessCacheTTL there.
const (
	accessCacheTTL = 5 * time.Second
	accessCacheMax = 10000
)

type memberKey struct{ projectID, userID string }

// accessCache holds Authorize's lookups.
type accessCache struct {
	projects *ttlcache.Cache[string, Project] // by key
	roles    *ttlcache.Cache[memberKey, auth.Role]
}

func newAccessCache() accessCache {
	return accessCache{
		projects: ttlcache.New[string, Project](accessCacheTTL, accessCacheMax),
		roles:    ttlcache.New[memberKey, auth.Role](accessCacheTTL, accessCacheMax),
	}
}

// cachedProject returns the project with key, read from the store at most
// once per accessCacheTTL. The result is a copy the caller may change.
func (s *Service) cachedProject(ctx context.Context, key string) (*Project, error) {
	p, err := s.access.projects.Get(ctx, key, s.now(), func(ctx context.Context) (Project, error) {
		p, err := s.store.FindProjectByKey(ctx, key)
		if err != nil {
			return Project{}, err
		}
		return *p, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// cachedRole returns the user's role in the project, read from the store at
// most once per accessCacheTTL. Non-members are not remembered: their
// requests are rare and a new membership must not wait.
func (s *Service) cachedRole(ctx context.Context, projectID, userID string) (auth.Role, error) {
	return s.access.roles.Get(ctx, memberKey{projectID, userID}, s.now(), func(ctx context.Context) (auth.Role, error) {
		return s.store.FindMemberRole(ctx, projectID, userID)
	}, func(r auth.Role) bool { return r != auth.RoleNone })
}

// forgetProject drops a changed project (renamed, archived) by id.
func (s *Service) forgetProject(id string) {
	s.access.projects.DeleteFunc(func(_ string, p Project) bool { return p.ID == id })
}

// forgetMember drops a changed membership.
func (s *Service) forgetMember(projectID, userID string) {
	k := memberKey{projectID, userID}
	s.access.roles.DeleteFunc(func(m memberKey, _ auth.Role) bool { return m == k })
}
