package storetest

import (
	"context"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
)

func testProjects(t *testing.T, db *store.DB) {
	ctx := context.Background()
	as := auth.NewService(db, FastHash)
	ps := project.NewService(db, as)
	root := must[*auth.User](t)(as.CreateUser(ctx, auth.NewUser{Name: "root", Password: pw, Admin: true}))
	ada := must[*auth.User](t)(as.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw}))
	bob := must[*auth.User](t)(as.CreateUser(ctx, auth.NewUser{Name: "bob", Password: pw}))
	p := must[*project.Project](t)(ps.CreateProject(As(ctx, ada), project.NewProject{Key: "BAL", Name: "Balloons"}))
	_, err := ps.CreateProject(As(ctx, bob), project.NewProject{Key: "BAL", Name: "Other"})
	wantCode(t, err, trellis.EINVALID)
	for _, bad := range []project.NewProject{{Key: "bal", Name: "x"}, {Key: "B", Name: "x"}, {Key: "BAL-1", Name: "x"}, {Key: "TOOLONGKEY1", Name: "x"}, {Key: "OK", Name: " "}} {
		_, err := ps.CreateProject(As(ctx, bob), bad)
		wantCode(t, err, trellis.EINVALID)
	}
	must[*project.Project](t)(ps.CreateProject(As(ctx, bob), project.NewProject{Key: "CAT", Name: "Cats"}))

	// Visibility: members see their own, admins see all.
	keys := func(u *auth.User) (ks []string) {
		for _, p := range must[[]*project.Project](t)(ps.Projects(As(ctx, u), false)) {
			ks = append(ks, p.Key+":"+string(p.Role))
		}
		return ks
	}
	if got := keys(ada); len(got) != 1 || got[0] != "BAL:admin" {
		t.Fatalf("ada sees %v", got)
	}
	if got := keys(root); len(got) != 2 || got[0] != "BAL:admin" || got[1] != "CAT:admin" {
		t.Fatalf("root sees %v", got)
	}
	_, err = ps.Authorize(As(ctx, bob), "BAL", auth.RoleViewer)
	wantCode(t, err, trellis.ENOTFOUND)
	_, err = ps.Authorize(As(ctx, bob), "NOPE", auth.RoleViewer)
	wantCode(t, err, trellis.ENOTFOUND)

	// Update and archive.
	name, archived := "Balloons v2", true
	p = must[*project.Project](t)(ps.UpdateProject(ctx, p, project.ProjectUpdate{Name: &name, Archived: &archived}))
	got := must[*project.Project](t)(db.FindProjectByKey(ctx, "BAL"))
	if got.Name != name || !got.Archived {
		t.Fatalf("after update: %+v", got)
	}
	if ks := keys(ada); len(ks) != 0 {
		t.Fatalf("archived project listed by default: %v", ks)
	}
	if all := must[[]*project.Project](t)(ps.Projects(As(ctx, ada), true)); len(all) != 1 {
		t.Fatalf("archived project missing with includeArchived: %v", all)
	}
	_, err = ps.Authorize(As(ctx, ada), "BAL", auth.RoleEditor)
	wantCode(t, err, trellis.ECONFLICT)
}

func testMembers(t *testing.T, db *store.DB) {
	ctx := context.Background()
	as := auth.NewService(db, FastHash)
	ps := project.NewService(db, as)
	ada := must[*auth.User](t)(as.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw}))
	bob := must[*auth.User](t)(as.CreateUser(ctx, auth.NewUser{Name: "bob", Password: pw}))
	p := must[*project.Project](t)(ps.CreateProject(As(ctx, ada), project.NewProject{Key: "BAL", Name: "Balloons"}))
	must[*project.Member](t)(ps.SetMember(ctx, p, "bob", auth.RoleViewer))
	if _, err := ps.Authorize(As(ctx, bob), "BAL", auth.RoleViewer); err != nil {
		t.Fatal(err)
	}
	_, err := ps.Authorize(As(ctx, bob), "BAL", auth.RoleEditor)
	wantCode(t, err, trellis.EFORBIDDEN)
	// A read-only token of an admin stays read-only.
	readOnly := auth.NewContext(ctx, &auth.Principal{User: ada, Scope: auth.ScopeRead})
	_, err = ps.Authorize(readOnly, "BAL", auth.RoleEditor)
	wantCode(t, err, trellis.EFORBIDDEN)

	_, err = ps.SetMember(ctx, p, "ghost", auth.RoleViewer)
	wantCode(t, err, trellis.EINVALID)
	_, err = ps.SetMember(ctx, p, "bob", auth.Role("owner"))
	wantCode(t, err, trellis.EINVALID)
	// The last admin can be neither demoted nor removed.
	_, err = ps.SetMember(ctx, p, "ada", auth.RoleEditor)
	wantCode(t, err, trellis.ECONFLICT)
	wantCode(t, ps.RemoveMember(ctx, p, "ada"), trellis.ECONFLICT)
	must[*project.Member](t)(ps.SetMember(ctx, p, "bob", auth.RoleAdmin))
	must[*project.Member](t)(ps.SetMember(ctx, p, "ada", auth.RoleEditor))
	ms := must[[]*project.Member](t)(ps.Members(ctx, p))
	if len(ms) != 2 || ms[0].UserName != "ada" || ms[0].Role != auth.RoleEditor || ms[1].Role != auth.RoleAdmin {
		t.Fatalf("members: %+v %+v", ms[0], ms[1])
	}
	if err := ps.RemoveMember(ctx, p, "ada"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ps.RemoveMember(ctx, p, "ada"), trellis.ENOTFOUND)
	_, err = ps.Authorize(As(ctx, ada), "BAL", auth.RoleViewer)
	wantCode(t, err, trellis.ENOTFOUND)
}
