package apptest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/auth"
)

// TestFixture checks the fixture other packages' tests assert on: who
// exists, with which token scope, in which projects and roles.
func TestFixture(t *testing.T) { apptest.Backends(t, testFixture) }

func testFixture(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	ctx := context.Background()
	me, err := a.Admin.Me(ctx)
	if err != nil || me.User.Name != "root" || !me.User.Admin || me.Scope != auth.ScopeWrite {
		t.Fatalf("admin client: %+v %v", me, err)
	}
	for user, want := range map[string]string{"root": "BAL,CAT", "owner": "BAL", "owner-read": "BAL", "editor": "BAL", "viewer": "BAL", "other": "CAT"} {
		ps, err := a.Client(user).Projects(ctx, false)
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		var keys []string
		for _, p := range ps {
			keys = append(keys, p.Key)
		}
		if got := strings.Join(keys, ","); got != want {
			t.Errorf("%s sees %q, want %q", user, got, want)
		}
	}
	if me, err := a.Client("owner-read").Me(ctx); err != nil || me.User.Name != "owner" || me.Scope != auth.ScopeRead {
		t.Errorf("owner-read: %+v %v", me, err)
	}
	members, err := a.Admin.Members(ctx, "BAL")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]auth.Role{}
	for _, m := range members {
		roles[m.UserName] = m.Role
	}
	if len(roles) != 3 || roles["owner"] != auth.RoleAdmin || roles["editor"] != auth.RoleEditor || roles["viewer"] != auth.RoleViewer {
		t.Errorf("BAL members %v", roles)
	}
	if p := a.Project("CAT"); p == nil || p.Name != "Cats" {
		t.Errorf("project CAT %+v", p)
	}
	if got := apptest.Concrete("/api/v1/projects/{key}/items/{id}/"); got != "/api/v1/projects/BAL/items/0000/x" {
		t.Errorf("Concrete = %q", got)
	}
}

// TestCheck runs a scenario table and checks that the error body's field
// is compared.
func TestCheck(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	bodies := a.Check(t, []apptest.Case{
		{Name: "me", User: "viewer", Method: "GET", Path: "/api/v1/me", Status: 200, Contains: []string{`"viewer"`}, Lacks: []string{`"admin":true`}},
		{Name: "bad key", User: "owner", Method: "POST", Path: "/api/v1/projects", Body: `{"key":5,"name":"x"}`, Status: 400, Field: "key"},
		{Name: "health", Method: "GET", Path: "/healthz", Status: 200},
	})
	if len(bodies) != 3 || !strings.Contains(string(bodies[0]), `"viewer"`) {
		t.Errorf("bodies %q", bodies)
	}
}
