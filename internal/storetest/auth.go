package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
)

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

// testTokensAcrossDisable: disabling a user ends their tokens and sessions
// for good; re-enabling them revives none, neither in the process that made
// the change nor in one reading the store afresh.
func testTokensAcrossDisable(t *testing.T, db *store.DB) {
	ctx := context.Background()
	svc := auth.NewService(db, FastHash)
	ada := must[*auth.User](t)(svc.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw}))
	_, raw, err := svc.CreateToken(As(ctx, ada), auth.NewToken{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	_, sess, err := svc.Login(ctx, "ada", pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetDisabled(ctx, "ada", true); err != nil {
		t.Fatal(err)
	}
	_, err = svc.AuthenticateToken(ctx, raw)
	wantCode(t, err, trellis.EUNAUTHENTICATED)
	if err := svc.SetDisabled(ctx, "ada", false); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*auth.Service{"same process": svc, "fresh process": auth.NewService(db, FastHash)} {
		if _, err := s.AuthenticateToken(ctx, raw); trellis.ErrorCode(err) != trellis.EUNAUTHENTICATED {
			t.Errorf("%s: a token issued before the disable works after re-enable (err %v)", name, err)
		}
		if _, err := s.AuthenticateSession(ctx, sess); trellis.ErrorCode(err) != trellis.EUNAUTHENTICATED {
			t.Errorf("%s: a session started before the disable works after re-enable (err %v)", name, err)
		}
	}
	if ts := must[[]*auth.Token](t)(svc.Tokens(As(ctx, ada))); len(ts) != 0 {
		t.Errorf("tokens listed after disable and re-enable: %+v", ts)
	}
	// A token made after the re-enable works; re-enabling an active user
	// (an idempotent PATCH) does not take it away.
	_, fresh, err := svc.CreateToken(As(ctx, ada), auth.NewToken{Name: "after"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetDisabled(ctx, "ada", false); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, fresh); err != nil {
		t.Fatalf("token made after re-enable: %v", err)
	}
}

// testPasswordChangeTokens: a password change ends the user's sessions and,
// when asked (by the user, or forced by an instance admin), their API tokens
// too, at once and for every process.
func testPasswordChangeTokens(t *testing.T, db *store.DB) {
	ctx := context.Background()
	svc := auth.NewService(db, FastHash)
	root := must[*auth.User](t)(svc.CreateUser(ctx, auth.NewUser{Name: "root", Password: pw, Admin: true}))
	ada := must[*auth.User](t)(svc.CreateUser(ctx, auth.NewUser{Name: "ada", Password: pw}))
	mint := func() string {
		t.Helper()
		_, raw, err := svc.CreateToken(As(ctx, ada), auth.NewToken{Name: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AuthenticateToken(ctx, raw); err != nil { // now cached
			t.Fatal(err)
		}
		return raw
	}
	works := func(raw string) bool {
		t.Helper()
		_, err := svc.AuthenticateToken(ctx, raw)
		_, fresh := auth.NewService(db, FastHash).AuthenticateToken(ctx, raw)
		if (err == nil) != (fresh == nil) {
			t.Fatalf("this process and a fresh one disagree about a token: %v, %v", err, fresh)
		}
		return err == nil
	}
	next := func(i int) string { return pw + " number " + string(rune('a'+i)) }

	// A plain change keeps the tokens and ends the sessions.
	kept := mint()
	_, sess, err := svc.Login(ctx, "ada", pw)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := svc.ChangePassword(As(ctx, ada), ada, pw, auth.NewPassword{Password: next(0)}); err != nil || n != 0 {
		t.Fatalf("ChangePassword = %d, %v", n, err)
	}
	if !works(kept) {
		t.Fatal("a password change without revoke_tokens ended a token")
	}
	_, err = svc.AuthenticateSession(ctx, sess)
	wantCode(t, err, trellis.EUNAUTHENTICATED)

	// Asked to, it revokes every token of the user at once.
	second := mint()
	if n, err := svc.ChangePassword(As(ctx, ada), ada, next(0), auth.NewPassword{Password: next(1), RevokeTokens: true}); err != nil || n != 2 {
		t.Fatalf("ChangePassword revoking = %d, %v; want 2 tokens", n, err)
	}
	if works(kept) || works(second) {
		t.Fatal("a token works after a password change that revoked the tokens")
	}
	if ts := must[[]*auth.Token](t)(svc.Tokens(As(ctx, ada))); len(ts) != 0 {
		t.Fatalf("tokens listed after revoking: %+v", ts)
	}
	// A wrong current password changes and revokes nothing.
	third := mint()
	_, err = svc.ChangePassword(As(ctx, ada), ada, "not the password at all", auth.NewPassword{Password: next(2), RevokeTokens: true})
	wantCode(t, err, trellis.EUNAUTHENTICATED)
	if !works(third) {
		t.Fatal("a refused password change revoked a token")
	}

	// Only an instance admin sets another user's password; they may force
	// the revocation, or revoke the tokens alone.
	_, err = svc.SetPassword(As(ctx, ada), "root", auth.NewPassword{Password: next(3)})
	wantCode(t, err, trellis.EFORBIDDEN)
	_, err = svc.RevokeUserTokens(As(ctx, ada), "ada")
	wantCode(t, err, trellis.EFORBIDDEN)
	if n, err := svc.SetPassword(As(ctx, root), "ada", auth.NewPassword{Password: next(4), RevokeTokens: true}); err != nil || n != 1 {
		t.Fatalf("admin SetPassword revoking = %d, %v", n, err)
	}
	if works(third) {
		t.Fatal("a token works after the admin forced its revocation")
	}
	if _, _, err := svc.Login(ctx, "ada", next(4)); err != nil {
		t.Fatalf("login with the password the admin set: %v", err)
	}
	fourth := mint()
	if n, err := svc.RevokeUserTokens(As(ctx, root), "ada"); err != nil || n != 1 {
		t.Fatalf("RevokeUserTokens = %d, %v", n, err)
	}
	if works(fourth) {
		t.Fatal("a token works after RevokeUserTokens")
	}
	_, err = svc.RevokeUserTokens(As(ctx, root), "nobody")
	wantCode(t, err, trellis.ENOTFOUND)
}
