package tracking

import (
	"context"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/ttlcache"
)

// Service applies MLflow's rules to tracking data of authorized projects.
// Callers (the HTTP surfaces) authorize the project first; the service
// checks that every experiment and run it touches belongs to that project.
type Service struct {
	store       Store
	now         func() time.Time
	runFinished []func(context.Context, RunFinished)
	// artifactPrefixes are the URI prefixes the operator lets clients
	// choose as an experiment's artifact_location; none by default.
	artifactPrefixes []string
	// defaults remembers users' default project ids, which the unprefixed
	// MLflow URI asks for on every request. SetDefaultProject drops the
	// user's entry before it returns; a change made by another process
	// applies within defaultProjectTTL.
	defaults *ttlcache.Cache[string, string]
}

const defaultProjectTTL = 5 * time.Second

// NewService returns a Service.
func NewService(store Store) *Service {
	return &Service{store: store, now: time.Now, defaults: ttlcache.New[string, string](defaultProjectTTL, 10000)}
}

// AllowArtifactLocations sets the URI prefixes (checked with
// CheckArtifactLocationPrefix by the caller's config) under which clients
// may put a tracking experiment's artifact_location. With none, every
// experiment keeps its artifacts in this server's store.
func (s *Service) AllowArtifactLocations(prefixes []string) {
	s.artifactPrefixes = append([]string(nil), prefixes...)
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) nowMs() int64 { return trellis.Millis(s.now()) }

var validName = regexp.MustCompile(`^[/\w.\- :]*$`)

func checkKey(field, key string) error {
	switch {
	case key == "":
		return trellis.Invalid(field, "Missing value for required parameter '%s'. A key name must be provided.", field)
	case len(key) > MaxKeyLength:
		return trellis.Invalid(field, "'%s' exceeds the maximum length of %d characters", field, MaxKeyLength)
	case !validName.MatchString(key):
		return trellis.Invalid(field, "Invalid name '%s'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/).", key)
	}
	norm := path.Clean(key)
	if norm != key || norm == "." || strings.HasPrefix(norm, "..") || strings.HasPrefix(norm, "/") {
		return trellis.Invalid(field, "Invalid name '%s'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '%s'", key, norm)
	}
	return nil
}

func checkTag(t Tag, maxValue int) error {
	if err := checkKey("key", t.Key); err != nil {
		return err
	}
	if len(t.Value) > maxValue {
		return trellis.Invalid("value", "Tag value of '%s' exceeds the maximum length of %d characters (got %d)", t.Key, maxValue, len(t.Value))
	}
	return nil
}

func dedupTags(tags []Tag) []Tag {
	seen := map[string]int{}
	var out []Tag
	for _, t := range tags {
		if i, ok := seen[t.Key]; ok {
			out[i] = t
			continue
		}
		seen[t.Key] = len(out)
		out = append(out, t)
	}
	return out
}

// SetDefaultProject makes proj the caller's default tracking project, the
// one /api/2.0/mlflow serves.
func (s *Service) SetDefaultProject(ctx context.Context, proj *project.Project) error {
	p := auth.FromContext(ctx)
	if p == nil {
		return trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	if err := s.store.SetDefaultProject(ctx, p.User.ID, proj.ID); err != nil {
		return err
	}
	s.defaults.DeleteFunc(func(user, _ string) bool { return user == p.User.ID })
	return nil
}

// DefaultProjectID returns the caller's chosen default project id, or "".
func (s *Service) DefaultProjectID(ctx context.Context) (string, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return "", trellis.Errorf(trellis.EUNAUTHENTICATED, "Sign in first.")
	}
	return s.defaults.Get(ctx, p.User.ID, s.now(), func(ctx context.Context) (string, error) {
		return s.store.FindDefaultProject(ctx, p.User.ID)
	}, nil)
}
