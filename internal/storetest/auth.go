package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
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

// from returns ctx coming from the client address a.
func from(ctx context.Context, a string) context.Context {
	return auth.WithClientAddr(ctx, netip.MustParseAddr(a))
}

// clocked returns a service over db with the user ada, on a clock that
// stands still until the test moves *now (whole milliseconds, as stored).
func clocked(t *testing.T, db *store.DB) (*auth.Service, *time.Time) {
	t.Helper()
	svc := auth.NewService(db, FastHash)
	must[*auth.User](t)(svc.CreateUser(context.Background(), auth.NewUser{Name: "ada", Password: pw}))
	now := time.UnixMilli(time.Now().UnixMilli())
	svc.SetClock(func() time.Time { return now })
	return svc, &now
}

// wantWait checks that err throttles for exactly d.
func wantWait(t *testing.T, err error, d time.Duration) {
	t.Helper()
	wantCode(t, err, trellis.ETOOMANY)
	var th *auth.Throttled
	if !errors.As(err, &th) || th.RetryAfter != d {
		t.Fatalf("throttled %v, want to wait %v", err, d)
	}
}

// testLoginThrottle steps a fixed clock through the sign-in delays: per
// (name, address) and per address, never per name alone.
func testLoginThrottle(t *testing.T, db *store.DB) {
	bg := context.Background()
	svc, now := clocked(t, db)
	a, b := from(bg, "192.0.2.1"), from(bg, "192.0.2.2")
	for i := range auth.PairFreeFailures {
		_, _, err := svc.Login(a, "ada", "wrong password number "+string(rune('a'+i)))
		wantCode(t, err, trellis.EUNAUTHENTICATED)
		// Unknown names answer the same way.
		_, _, err = svc.Login(a, "ghost", "wrong password")
		wantCode(t, err, trellis.EUNAUTHENTICATED)
	}
	// Address a waits, even with the right password, through the form and
	// basic alike; unknown names wait the same.
	_, _, err := svc.Login(a, "ada", pw)
	wantWait(t, err, time.Second)
	_, err = svc.AuthenticateBasic(a, "ada", pw)
	wantWait(t, err, time.Second)
	_, _, err = svc.Login(a, "ghost", pw)
	wantWait(t, err, time.Second)
	// The owner at b is not held up.
	if _, _, err := svc.Login(b, "ada", pw); err != nil {
		t.Fatalf("login from another address: %v", err)
	}
	if _, err := svc.AuthenticateBasic(b, "ada", pw); err != nil {
		t.Fatalf("basic from another address: %v", err)
	}
	// Each further failure doubles the wait: 1 s, 2 s, 4 s, 8 s.
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		*now = now.Add(d - time.Millisecond)
		_, _, err := svc.Login(a, "ada", "still wrong")
		wantWait(t, err, time.Millisecond)
		*now = now.Add(time.Millisecond)
		_, _, err = svc.Login(a, "ada", "still wrong")
		wantCode(t, err, trellis.EUNAUTHENTICATED)
		_, _, err = svc.Login(a, "ada", "still wrong")
		wantWait(t, err, 2*d)
	}
	// Signing in from a, once the wait is over, clears a's count for the
	// name (not the address's).
	*now = now.Add(16 * time.Second)
	if _, _, err := svc.Login(a, "ada", pw); err != nil {
		t.Fatalf("login after the wait: %v", err)
	}
	f := must[auth.LoginFailures](t)(db.FindLoginFailures(bg, "ada", "192.0.2.1"))
	if f.Pair.Failures != 0 || f.Addr.Failures != 2*auth.PairFreeFailures+4 {
		t.Fatalf("counters after the sign-in: %+v", f)
	}
	_, _, err = svc.Login(a, "ada", "wrong again")
	wantCode(t, err, trellis.EUNAUTHENTICATED)

	// The delays stop growing at ThrottleMax.
	for n, d := range map[int]time.Duration{0: 0, 1: time.Second, 2: 2 * time.Second, 10: 512 * time.Second, 11: auth.ThrottleMax, 60: auth.ThrottleMax} {
		if got := auth.Delay(n); got != d {
			t.Errorf("Delay(%d) = %v, want %v", n, got, d)
		}
	}

	// One address spraying many names has a larger budget of its own.
	c := from(bg, "198.51.100.1")
	for i := range auth.AddrFreeFailures {
		_, _, err := svc.Login(c, fmt.Sprintf("user%d", i), "spray")
		wantCode(t, err, trellis.EUNAUTHENTICATED)
	}
	_, _, err = svc.Login(c, "ada", pw)
	wantWait(t, err, time.Second)

	// IPv6 addresses count by their /64.
	for i := range auth.PairFreeFailures {
		_, _, err := svc.Login(from(bg, fmt.Sprintf("2001:db8:1:2::%x", i+1)), "ada", "v6 guess")
		wantCode(t, err, trellis.EUNAUTHENTICATED)
	}
	_, _, err = svc.Login(from(bg, "2001:db8:1:2:ffff::1"), "ada", pw)
	wantWait(t, err, time.Second)
	if _, _, err := svc.Login(from(bg, "2001:db8:1:3::1"), "ada", pw); err != nil {
		t.Fatalf("login from the next /64: %v", err)
	}

	// A day's quiet forgets every counter; pruning deletes them.
	*now = now.Add(auth.ThrottleMemory)
	if _, _, err := svc.Login(c, "ada", pw); err != nil {
		t.Fatalf("login a day later: %v", err)
	}
	if err := db.PruneLoginFailures(bg, now.Add(-auth.ThrottleMemory+time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if f := must[auth.LoginFailures](t)(db.FindLoginFailures(bg, "ada", "192.0.2.1")); f != (auth.LoginFailures{}) {
		t.Fatalf("counters after pruning: %+v", f)
	}
}

// testLoginCeiling spreads guesses for one name over many addresses: the
// name is never locked, and its ceiling alerts once per window.
func testLoginCeiling(t *testing.T, db *store.DB) {
	bg := context.Background()
	svc, now := clocked(t, db)
	var alerts []auth.LoginCeiling
	svc.OnLoginCeiling(func(_ context.Context, ev auth.LoginCeiling) { alerts = append(alerts, ev) })
	spray := func(name string, round, failures int) {
		t.Helper()
		for i := range failures {
			ctx := from(bg, fmt.Sprintf("10.%d.%d.%d", round, i/auth.PairFreeFailures, 1))
			_, _, err := svc.Login(ctx, name, "sprayed guess")
			wantCode(t, err, trellis.EUNAUTHENTICATED)
			*now = now.Add(time.Second)
		}
	}
	spray("ada", 0, auth.NameCeiling-1)
	if len(alerts) != 0 {
		t.Fatalf("alerts below the ceiling: %+v", alerts)
	}
	spray("ada", 1, 1)
	if len(alerts) != 1 || alerts[0].Name != "ada" || alerts[0].Failures != auth.NameCeiling || alerts[0].Addr != "10.1.0.1" {
		t.Fatalf("alerts at the ceiling: %+v", alerts)
	}
	// No lockout: the owner signs in from an address of their own.
	if _, _, err := svc.Login(from(bg, "192.0.2.9"), "ada", pw); err != nil {
		t.Fatalf("login past the ceiling: %v", err)
	}
	// Past the ceiling, within the window: no further alert.
	spray("ada", 2, 50)
	if len(alerts) != 1 {
		t.Fatalf("%d alerts within one window", len(alerts))
	}
	// A new window alerts anew.
	*now = now.Add(auth.NameWindow)
	spray("ada", 3, auth.NameCeiling)
	if len(alerts) != 2 {
		t.Fatalf("%d alerts after a second window, want 2", len(alerts))
	}
	// Unknown names are counted but never alert.
	spray("ghost", 4, auth.NameCeiling)
	if len(alerts) != 2 {
		t.Fatalf("an unknown name alerted: %+v", alerts[2:])
	}
}

// testLoginBurst sends parallel guesses from one address: they are judged
// one after another, so no more than the free failures run argon2id.
func testLoginBurst(t *testing.T, db *store.DB) {
	bg := context.Background()
	svc, _ := clocked(t, db)
	ctx := from(bg, "192.0.2.1")
	errs := make([]error, 20)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { _, _, errs[i] = svc.Login(ctx, "ada", "parallel guess") })
	}
	wg.Wait()
	wrong := 0
	for _, err := range errs {
		if trellis.ErrorCode(err) == trellis.EUNAUTHENTICATED {
			wrong++
		} else {
			wantCode(t, err, trellis.ETOOMANY)
		}
	}
	if wrong != auth.PairFreeFailures {
		t.Fatalf("%d of 20 parallel guesses were checked, want %d", wrong, auth.PairFreeFailures)
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
