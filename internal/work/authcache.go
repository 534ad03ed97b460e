package work

import (
	"context"
	"sync"
	"time"

	"github.com/trellisml/trellis/internal/auth"
)

// Every project-scoped request (all of MLflow's calls under /p/KEY) starts
// with Authorize, which read the project and the caller's membership from the
// store: two queries, about a tenth of the server's CPU for a small MLflow
// request. accessCache remembers both for a few seconds.
//
// Within this process, changing a project or a membership drops the entries
// it touches before the change returns, so a removed member or a lowered role
// applies to the very next request. Another process sharing the database (a
// second server on one PostgreSQL database) cannot reach this cache, so
// entries are re-read after accessCacheTTL there.
const (
	accessCacheTTL = 5 * time.Second
	accessCacheMax = 10000
)

type accessCache struct {
	mu       sync.Mutex
	gen      uint64                  // counts invalidations; a lookup racing one is not kept
	projects map[string]projectEntry // by key
	roles    map[memberKey]roleEntry
}

type projectEntry struct {
	project Project
	fetched time.Time
}

type memberKey struct{ projectID, userID string }

type roleEntry struct {
	role    auth.Role
	fetched time.Time
}

func newAccessCache() *accessCache {
	return &accessCache{projects: map[string]projectEntry{}, roles: map[memberKey]roleEntry{}}
}

// cachedProject returns the project with key, read from the store at most once per
// accessCacheTTL. The result is a copy the caller may change.
func (s *Service) cachedProject(ctx context.Context, key string) (*Project, error) {
	c, now := s.access, s.now()
	c.mu.Lock()
	e, ok := c.projects[key]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < accessCacheTTL {
		p := e.project
		return &p, nil
	}
	p, err := s.store.FindProjectByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.projects) >= accessCacheMax {
			clear(c.projects)
		}
		c.projects[key] = projectEntry{project: *p, fetched: now}
	}
	c.mu.Unlock()
	return p, nil
}

// cachedRole returns the user's role in the project, read from the store at
// most once per accessCacheTTL. Non-members are not remembered: their
// requests are rare and a new membership must not wait.
func (s *Service) cachedRole(ctx context.Context, projectID, userID string) (auth.Role, error) {
	c, now, k := s.access, s.now(), memberKey{projectID, userID}
	c.mu.Lock()
	e, ok := c.roles[k]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < accessCacheTTL {
		return e.role, nil
	}
	role, err := s.store.FindMemberRole(ctx, projectID, userID)
	if err != nil || role == auth.RoleNone {
		return role, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.roles) >= accessCacheMax {
			clear(c.roles)
		}
		c.roles[k] = roleEntry{role: role, fetched: now}
	}
	c.mu.Unlock()
	return role, nil
}

// forgetProject drops a changed project (renamed, archived) by id.
func (s *Service) forgetProject(id string) {
	c := s.access
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.projects {
		if e.project.ID == id {
			delete(c.projects, k)
		}
	}
}

// forgetMember drops a changed membership.
func (s *Service) forgetMember(projectID, userID string) {
	c := s.access
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.roles, memberKey{projectID, userID})
}
