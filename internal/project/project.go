// Package project holds projects, their members and roles, and the access
// check every project-scoped request starts with. It is the one package
// every capability may import: tracking, goals, the backlog and the MLflow
// surface all work inside a project, and none of them needs the others for
// that.
package project

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/trellis"
)

// Project is a team's workspace. Its key prefixes item keys (BAL-12) and
// names it in URLs.
type Project struct {
	ID          string    `json:"id"`
	Key         string    `json:"key"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Archived    bool      `json:"archived"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Role is the caller's role in the project; filled by the service.
	Role auth.Role `json:"role"`
}

// Member is a user's membership of a project.
type Member struct {
	UserID   string    `json:"user_id"`
	UserName string    `json:"user"`
	Role     auth.Role `json:"role"`
	AddedAt  time.Time `json:"added_at"`
}

// ProjectFilter selects projects. MemberID limits to projects the user belongs
// to; empty means all (instance admins).
type ProjectFilter struct {
	MemberID        string
	IncludeArchived bool
}

// ProjectUpdate changes the fields that are set.
type ProjectUpdate struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Archived    *bool   `json:"archived"`
}

// Store is the persistence projects need. Absent rows are ENOTFOUND; a
// taken project key is ECONFLICT.
type Store interface {
	// CreateProject inserts p and makes ownerID its admin, atomically.
	CreateProject(ctx context.Context, p *Project, ownerID string) error
	FindProjectByKey(ctx context.Context, key string) (*Project, error)
	FindProjects(ctx context.Context, f ProjectFilter) ([]*Project, error)
	UpdateProject(ctx context.Context, p *Project) error
	// FindMemberRole returns RoleNone (and no error) for a non-member.
	FindMemberRole(ctx context.Context, projectID, userID string) (auth.Role, error)
	FindMembers(ctx context.Context, projectID string) ([]*Member, error)
	// SetMember adds or changes a membership; RemoveMember deletes one. Both
	// refuse (ECONFLICT) to leave the project without an admin, checked in the
	// same transaction as the write.
	SetMember(ctx context.Context, projectID, userID string, role auth.Role, at time.Time) error
	RemoveMember(ctx context.Context, projectID, userID string) error
}

// Users is what projects need from auth to resolve member names.
type Users interface {
	UserByName(ctx context.Context, name string) (*auth.User, error)
}

// Service applies the project rules.
type Service struct {
	store Store
	users Users
	now   func() time.Time
	// access remembers Authorize's lookups for a few seconds (authcache.go).
	access accessCache
}

// NewService returns a Service.
func NewService(store Store, users Users) *Service {
	return &Service{store: store, users: users, now: time.Now, access: newAccessCache()}
}

var projectKeyRE = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,9}$`)

// NewProject is the input to CreateProject.
type NewProject struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

func checkName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > 200 {
		return trellis.Invalid("name", "name is required and at most 200 characters")
	}
	return nil
}

func checkDescription(d string) error {
	if len(d) > 10000 {
		return trellis.Invalid("description", "description must be at most 10000 characters")
	}
	return nil
}

// CreateProject creates a project with the caller as its admin. Any signed-in
// user with write access may create one, as in Linear or Jira Cloud.
// Errors: EUNAUTHENTICATED, EFORBIDDEN, EINVALID (a taken key names "key").
func (s *Service) CreateProject(ctx context.Context, in NewProject) (*Project, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	if !p.CanWrite() {
		return nil, trellis.Errorf(trellis.EFORBIDDEN, "A read-only token cannot create projects.")
	}
	if !projectKeyRE.MatchString(in.Key) {
		return nil, trellis.Invalid("key", "key must be 2–10 uppercase letters or digits, starting with a letter (like BAL)")
	}
	if err := checkName(in.Name); err != nil {
		return nil, err
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	proj := &Project{ID: uuid.Must(uuid.NewV7()).String(), Key: in.Key, Name: strings.TrimSpace(in.Name),
		Description: in.Description, CreatedAt: now, UpdatedAt: now, Role: auth.RoleAdmin}
	if err := s.store.CreateProject(ctx, proj, p.User.ID); err != nil {
		if trellis.ErrorCode(err) == trellis.ECONFLICT {
			return nil, trellis.Invalid("key", "project key %s is taken", in.Key)
		}
		return nil, err
	}
	return proj, nil
}

// Authorize returns the project named by key if the caller holds at least
// role need in it. Instance admins hold every role. A non-member gets
// ENOTFOUND, so that project keys do not leak; a member with too weak a role
// gets EFORBIDDEN. A read-only token is refused anything above viewer.
func (s *Service) Authorize(ctx context.Context, key string, need auth.Role) (*Project, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	proj, err := s.cachedProject(ctx, key)
	if err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return nil, trellis.Errorf(trellis.ENOTFOUND, "Project %s not found.", key)
		}
		return nil, err
	}
	role := auth.RoleAdmin
	if !p.User.Admin {
		if role, err = s.cachedRole(ctx, proj.ID, p.User.ID); err != nil {
			return nil, err
		}
	}
	switch {
	case role == auth.RoleNone:
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Project %s not found.", key)
	case !role.AtLeast(need):
		return nil, trellis.Errorf(trellis.EFORBIDDEN, "This needs the %s role in project %s; you are %s.", need, key, role)
	case need != auth.RoleViewer && !p.CanWrite():
		return nil, trellis.Errorf(trellis.EFORBIDDEN, "A read-only token cannot change project %s.", key)
	case proj.Archived && need != auth.RoleViewer && need != auth.RoleAdmin:
		return nil, trellis.Errorf(trellis.ECONFLICT, "Project %s is archived; unarchive it to make changes.", key)
	}
	proj.Role = role
	return proj, nil
}

// Projects lists the projects the caller can see: all for instance admins,
// memberships otherwise.
func (s *Service) Projects(ctx context.Context, includeArchived bool) ([]*Project, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	f := ProjectFilter{IncludeArchived: includeArchived}
	if !p.User.Admin {
		f.MemberID = p.User.ID
	}
	ps, err := s.store.FindProjects(ctx, f)
	if err != nil {
		return nil, err
	}
	if p.User.Admin {
		for _, proj := range ps {
			proj.Role = auth.RoleAdmin
		}
	}
	return ps, nil
}

// UpdateProject changes an authorized project (the caller must be its admin)
// and returns the updated copy; proj itself is left as it was, also when the
// update is refused. Errors: EINVALID.
func (s *Service) UpdateProject(ctx context.Context, proj *Project, upd ProjectUpdate) (*Project, error) {
	next := *proj
	if upd.Name != nil {
		if err := checkName(*upd.Name); err != nil {
			return nil, err
		}
		next.Name = strings.TrimSpace(*upd.Name)
	}
	if upd.Description != nil {
		if err := checkDescription(*upd.Description); err != nil {
			return nil, err
		}
		next.Description = *upd.Description
	}
	if upd.Archived != nil {
		next.Archived = *upd.Archived
	}
	next.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateProject(ctx, &next); err != nil {
		return nil, err
	}
	s.forgetProject(next.ID)
	return &next, nil
}

// Members lists an authorized project's members.
func (s *Service) Members(ctx context.Context, proj *Project) ([]*Member, error) {
	return s.store.FindMembers(ctx, proj.ID)
}

// SetMember gives user name the role in an authorized project.
// Errors: EINVALID (unknown user or role), ECONFLICT (last admin).
func (s *Service) SetMember(ctx context.Context, proj *Project, name string, role auth.Role) (*Member, error) {
	if _, err := auth.ParseRole("role", string(role)); err != nil {
		return nil, err
	}
	u, err := s.users.UserByName(ctx, name)
	if err != nil {
		if trellis.ErrorCode(err) == trellis.ENOTFOUND {
			return nil, trellis.Invalid("user", "no user named %q", name)
		}
		return nil, err
	}
	now := s.now().UTC()
	if err := s.store.SetMember(ctx, proj.ID, u.ID, role, now); err != nil {
		return nil, err
	}
	s.forgetMember(proj.ID, u.ID)
	return &Member{UserID: u.ID, UserName: u.Name, Role: role, AddedAt: now}, nil
}

// RemoveMember removes user name from an authorized project.
// Errors: ENOTFOUND, ECONFLICT (last admin).
func (s *Service) RemoveMember(ctx context.Context, proj *Project, name string) error {
	u, err := s.users.UserByName(ctx, name)
	if err != nil {
		return err
	}
	if err := s.store.RemoveMember(ctx, proj.ID, u.ID); err != nil {
		return err
	}
	s.forgetMember(proj.ID, u.ID)
	return nil
}

// ItemKey is the human key of a project's item number: BAL-12.
func ItemKey(projectKey string, number int64) string {
	return projectKey + "-" + strconv.FormatInt(number, 10)
}

// ParseItemRef accepts "BAL-12" or "12" for project key and returns 12.
func ParseItemRef(projectKey, ref string) (int64, error) {
	s := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(ref)), projectKey+"-")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, trellis.Invalid("item", "%q is not an item of project %s (like %s-12)", ref, projectKey, projectKey)
	}
	return n, nil
}
