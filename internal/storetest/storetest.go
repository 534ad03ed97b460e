// Package storetest is the conformance suite every store backend must pass.
// It drives the store through the capability services, so it checks the
// behaviour users rely on (conflicts, atomicity, visibility), not SQL text.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
)

// FastHash is a cheap argon2id cost for tests; production uses
// auth.DefaultHashParams.
var FastHash = auth.HashParams{Memory: 64, Time: 1, Threads: 1}

// Open returns a fresh, migrated, empty store for one test.
type Open func(tb testing.TB) *store.DB

// Run runs the whole suite against the backend that open returns.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(*testing.T, *store.DB)
	}{
		{"Schema", testSchema},
		{"Users", testUsers},
		{"FirstUserIsAtomic", testFirstUserIsAtomic},
		{"Sessions", testSessions},
		{"Tokens", testTokens},
		{"Lockout", testLockout},
		{"Projects", testProjects},
		{"Members", testMembers},
		{"Items", testItems},
		{"ItemKeysConcurrent", testItemKeysConcurrent},
		{"WorkflowAndPlanning", testWorkflowAndPlanning},
		{"Sprints", testSprints},
		{"Decisions", testDecisions},
		{"Demo", testDemo},
		{"Burn", testBurn},
		{"Comments", testComments},
		{"Templates", testTemplates},
		{"ImportCSV", testImportCSV},
		{"Search", testSearch},
		{"Bulk", testBulk},
		{"SavedFilters", testSavedFilters},
		{"TrackingExperiments", testTrackingExperiments},
		{"TrackingRuns", testTrackingRuns},
		{"TrackingHistoryPaging", testTrackingHistoryPaging},
		{"TrackingSearch", testTrackingSearch},
		{"TrackingSearchByMetric", testTrackingSearchByMetric},
		{"TrackingConcurrentBatches", testTrackingConcurrentBatches},
		{"RunFinishedHook", testRunFinishedHook},
		{"Specs", testSpecs},
		{"TrackingInputs", testTrackingInputs},
		{"TrackingSearchDatasets", testTrackingSearchDatasets},
		{"TrackingArtifactLocation", testTrackingArtifactLocation},
		{"TrackingChildRuns", testTrackingChildRuns},
		{"Goals", testGoals},
		{"GoalsLatestRandom", testGoalsLatestRandom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := trellis.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func must[T any](tb testing.TB) func(T, error) T {
	return func(v T, err error) T {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
}

// As returns ctx acting as user u with full write rights.
func As(ctx context.Context, u *auth.User) context.Context {
	return auth.NewContext(ctx, &auth.Principal{User: u, Scope: auth.ScopeWrite})
}

const pw = "a long enough test password"

func testSchema(t *testing.T, db *store.DB) {
	ctx := context.Background()
	current, known, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if current != known || known < 1 {
		t.Fatalf("schema at %d, binary knows %d", current, known)
	}
	if n, err := db.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("second migrate ran %d migrations, err %v", n, err)
	}
	if err := db.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func testUsers(t *testing.T, db *store.DB) {
	ctx := context.Background()
	svc := auth.NewService(db, FastHash)
	u := must[*auth.User](t)(svc.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw, Admin: true}))
	_, err := svc.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw})
	wantCode(t, err, trellis.EINVALID)
	if trellis.ErrorField(err) != "name" {
		t.Fatalf("duplicate user error names field %q", trellis.ErrorField(err))
	}
	got := must[*auth.User](t)(db.FindUserByName(ctx, "ada"))
	if got.ID != u.ID || !got.Admin || got.Disabled || !got.CreatedAt.Equal(u.CreatedAt.Truncate(time.Millisecond)) {
		t.Fatalf("round trip: got %+v, want %+v", got, u)
	}
	_, err = db.FindUserByName(ctx, "nobody")
	wantCode(t, err, trellis.ENOTFOUND)
	_, err = db.FindUserByID(ctx, "nope")
	wantCode(t, err, trellis.ENOTFOUND)
	if n := must[int](t)(db.CountUsers(ctx)); n != 1 {
		t.Fatalf("CountUsers = %d", n)
	}
	// A non-admin principal cannot create users.
	bob := must[*auth.User](t)(svc.CreateUser(ctx, auth.NewUser{Name: "bob", Password: pw}))
	_, err = svc.CreateUser(As(ctx, bob), auth.NewUser{Name: "eve", Password: pw})
	wantCode(t, err, trellis.EFORBIDDEN)
	if us := must[[]*auth.User](t)(svc.Users(ctx)); len(us) != 2 || us[0].Name != "ada" || us[1].Name != "bob" {
		t.Fatalf("Users = %v", us)
	}
}

func testFirstUserIsAtomic(t *testing.T, db *store.DB) {
	ctx := context.Background()
	svc := auth.NewService(db, FastHash)
	tok, ok, err := svc.SetupToken(ctx)
	if err != nil || !ok {
		t.Fatalf("SetupToken: %v %v", ok, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = svc.CompleteSetup(ctx, tok, "admin"+string(rune('a'+i)), pw)
		}()
	}
	wg.Wait()
	succeeded := 0
	for _, err := range errs {
		if err == nil {
			succeeded++
		} else {
			wantCode(t, err, trellis.EGONE)
		}
	}
	if succeeded != 1 {
		t.Fatalf("%d concurrent setups succeeded, want 1", succeeded)
	}
	if n := must[int](t)(db.CountUsers(ctx)); n != 1 {
		t.Fatalf("%d users after setup", n)
	}
	if _, ok, _ := svc.SetupToken(ctx); ok {
		t.Fatal("a setup token is still offered after setup")
	}
	wantCode(t, svc.CheckSetupToken(tok), trellis.EGONE)
}

func testSessions(t *testing.T, db *store.DB) {
	ctx := context.Background()
	svc := auth.NewService(db, FastHash)
	must[*auth.User](t)(svc.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw}))
	_, s1, err := svc.Login(ctx, "ada", pw)
	if err != nil {
		t.Fatal(err)
	}
	_, s2, err := svc.Login(ctx, "ada", pw)
	if err != nil || s1 == s2 {
		t.Fatalf("second login: %v, same session %v", err, s1 == s2)
	}
	p, err := svc.AuthenticateSession(ctx, s1)
	if err != nil || p.User.Name != "ada" || !p.CanWrite() {
		t.Fatalf("AuthenticateSession: %+v %v", p, err)
	}
	if err := svc.Logout(ctx, s1); err != nil {
		t.Fatal(err)
	}
	_, err = svc.AuthenticateSession(ctx, s1)
	wantCode(t, err, trellis.EUNAUTHENTICATED)
	// Disabling ends the other session too.
	if err := svc.SetDisabled(ctx, "ada", true); err != nil {
		t.Fatal(err)
	}
	_, err = svc.AuthenticateSession(ctx, s2)
	wantCode(t, err, trellis.EUNAUTHENTICATED)
	_, _, err = svc.Login(ctx, "ada", pw)
	wantCode(t, err, trellis.EUNAUTHENTICATED)
	// Expiry.
	must[*auth.User](t)(svc.CreateUser(ctx, auth.NewUser{Name: "bob", Password: pw}))
	_, s3, err := svc.Login(ctx, "bob", pw)
	if err != nil {
		t.Fatal(err)
	}
	svc.SetClock(func() time.Time { return time.Now().Add(auth.SessionTTL + time.Minute) })
	_, err = svc.AuthenticateSession(ctx, s3)
	wantCode(t, err, trellis.EUNAUTHENTICATED)
}

func testTokens(t *testing.T, db *store.DB) {
	ctx := context.Background()
	svc := auth.NewService(db, FastHash)
	ada := must[*auth.User](t)(svc.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw}))
	bob := must[*auth.User](t)(svc.CreateUser(ctx, auth.NewUser{Name: "bob", Password: pw}))
	tok, raw, err := svc.CreateToken(As(ctx, ada), auth.NewToken{Name: "ci", Scope: auth.ScopeRead, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 40 || raw[:len(auth.TokenPrefix)] != auth.TokenPrefix {
		t.Fatalf("token secret %q", raw)
	}
	stored := must[*auth.Token](t)(db.FindTokenByHash(ctx, tok.Hash))
	if stored.Hash == raw || stored.Scope != auth.ScopeRead {
		t.Fatalf("stored token %+v", stored)
	}
	p, err := svc.AuthenticateToken(ctx, raw)
	if err != nil || p.User.ID != ada.ID || p.CanWrite() {
		t.Fatalf("AuthenticateToken: %+v %v", p, err)
	}
	list := must[[]*auth.Token](t)(svc.Tokens(As(ctx, ada)))
	if len(list) != 1 || list[0].LastUsedAt.IsZero() {
		t.Fatalf("tokens after use: %+v", list)
	}
	// A read token cannot mint tokens.
	_, _, err = svc.CreateToken(auth.NewContext(ctx, p), auth.NewToken{Name: "x"})
	wantCode(t, err, trellis.EFORBIDDEN)
	// Basic auth with a token needs the right user name.
	if _, err := svc.AuthenticateBasic(ctx, "ada", raw); err != nil {
		t.Fatal(err)
	}
	_, err = svc.AuthenticateBasic(ctx, "bob", raw)
	wantCode(t, err, trellis.EUNAUTHENTICATED)
	// Bob cannot revoke Ada's token.
	wantCode(t, svc.RevokeToken(As(ctx, bob), tok.ID), trellis.ENOTFOUND)
	if err := svc.RevokeToken(As(ctx, ada), tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = svc.AuthenticateToken(ctx, raw)
	wantCode(t, err, trellis.EUNAUTHENTICATED)
	// Expiry.
	_, raw2, err := svc.CreateToken(As(ctx, ada), auth.NewToken{Name: "short", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetClock(func() time.Time { return time.Now().Add(2 * time.Minute) })
	_, err = svc.AuthenticateToken(ctx, raw2)
	wantCode(t, err, trellis.EUNAUTHENTICATED)
}

func testLockout(t *testing.T, db *store.DB) {
	ctx := context.Background()
	svc := auth.NewService(db, FastHash)
	must[*auth.User](t)(svc.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw}))
	now := time.Now()
	svc.SetClock(func() time.Time { return now })
	for i := range auth.LockoutFailures {
		_, _, err := svc.Login(ctx, "ada", "wrong password number "+string(rune('a'+i)))
		wantCode(t, err, trellis.EUNAUTHENTICATED)
		// Unknown users answer the same way.
		_, _, err = svc.Login(ctx, "ghost", "wrong password")
		wantCode(t, err, trellis.EUNAUTHENTICATED)
		now = now.Add(time.Second)
	}
	// Locked, even with the right password, through the form and basic alike.
	_, _, err := svc.Login(ctx, "ada", pw)
	wantCode(t, err, trellis.ETOOMANY)
	_, err = svc.AuthenticateBasic(ctx, "ada", pw)
	wantCode(t, err, trellis.ETOOMANY)
	_, _, err = svc.Login(ctx, "ghost", pw)
	wantCode(t, err, trellis.ETOOMANY)
	now = now.Add(auth.LockoutDuration - 2*time.Minute)
	_, _, err = svc.Login(ctx, "ada", pw)
	wantCode(t, err, trellis.ETOOMANY)
	now = now.Add(3 * time.Minute)
	if _, _, err := svc.Login(ctx, "ada", pw); err != nil {
		t.Fatalf("login after lockout: %v", err)
	}
}

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
