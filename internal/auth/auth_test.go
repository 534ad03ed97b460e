package auth_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
)

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, pw string
		ok       bool
	}{
		{"ada", "short", false},
		{"ada", strings.Repeat("x", 129), false},
		{"ada", "Password1234", false},              // common, case-insensitive
		{"ada", "correcthorsebatterystaple", false}, // famous
		{"ada", "ada-ada-ada-1", false},             // built around the name
		{"ada", "tangerine lamp orbit", true},
		{"ada", strings.Repeat("é", 12), true}, // counted in characters, not bytes
	} {
		err := auth.CheckPassword(tc.name, tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPassword(%q, %q) = %v, want ok=%v", tc.name, tc.pw, err, tc.ok)
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	h, err := auth.HashPassword("tangerine lamp orbit", storetest.FastHash)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q", h)
	}
	if !auth.VerifyPassword("tangerine lamp orbit", h) || auth.VerifyPassword("tangerine lamp orbiT", h) {
		t.Fatal("verify")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$x$y$z$w", h[:len(h)-3] + "!!!"} {
		if auth.VerifyPassword("tangerine lamp orbit", bad) {
			t.Errorf("verified against %q", bad)
		}
	}
	h2, _ := auth.HashPassword("tangerine lamp orbit", storetest.FastHash)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
}

func TestParseTTL(t *testing.T) {
	for in, ok := range map[string]bool{"90d": true, "12h": true, "never": true, "": true, "0d": false, "-1d": false, "soon": false, "1.5d": false, "90": false} {
		if _, err := auth.ParseTTL(in); (err == nil) != ok {
			t.Errorf("ParseTTL(%q) = %v", in, err)
		}
	}
}

func benchService(b testing.TB, params auth.HashParams) (*auth.Service, *auth.User) {
	b.Helper()
	svc := auth.NewService(openStore(b), params)
	u, err := svc.CreateUser(context.Background(), auth.NewUser{Name: "ada", Password: "tangerine lamp orbit"})
	if err != nil {
		b.Fatal(err)
	}
	return svc, u
}

// openStore opens a migrated SQLite store in a temporary directory.
func openStore(b testing.TB) *store.DB {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "t.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkAuthenticateToken is the cost of one bearer-token request.
func BenchmarkAuthenticateToken(b *testing.B) {
	svc, u := benchService(b, auth.DefaultHashParams)
	ctx := context.Background()
	_, raw, err := svc.CreateToken(storetest.As(ctx, u), auth.NewToken{Name: "b"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.AuthenticateToken(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAuthenticateBasicCached is the cost of one HTTP-basic request with
// a password after the first: no argon2id.
func BenchmarkAuthenticateBasicCached(b *testing.B) {
	svc, _ := benchService(b, auth.DefaultHashParams)
	ctx := context.Background()
	if _, err := svc.AuthenticateBasic(ctx, "ada", "tangerine lamp orbit"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.AuthenticateBasic(ctx, "ada", "tangerine lamp orbit"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyPassword is one argon2id verification at the production cost:
// what every basic request would pay without the cache.
func BenchmarkVerifyPassword(b *testing.B) {
	h, err := auth.HashPassword("tangerine lamp orbit", auth.DefaultHashParams)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !auth.VerifyPassword("tangerine lamp orbit", h) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkLoginStore is a successful sign-in with a negligible argon2id
// cost, so that it measures what the store adds: the throttle's read and the
// session's insert (nothing is deleted when there were no failures).
func BenchmarkLoginStore(b *testing.B) {
	svc, _ := benchService(b, storetest.FastHash)
	ctx := auth.WithClientAddr(context.Background(), netip.MustParseAddr("192.0.2.1"))
	for b.Loop() {
		if _, _, err := svc.Login(ctx, "ada", "tangerine lamp orbit"); err != nil {
			b.Fatal(err)
		}
	}
}

// countingStore is the real store with its token touches counted.
type countingStore struct {
	auth.Store
	touches atomic.Int64
}

func (c *countingStore) TouchToken(ctx context.Context, id string, at time.Time) error {
	c.touches.Add(1)
	return c.Store.TouchToken(ctx, id, at)
}

// TestCredentialCacheAcrossProcesses runs two services over one database,
// as two servers sharing PostgreSQL (or the CLI's admin commands beside a
// server) do: a revocation or a disabled user seen by one applies to the
// other within the cache's few seconds, and last-use writes stay at one a
// minute per token however many requests arrive.
func TestCredentialCacheAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	db := &countingStore{Store: openStore(t)}
	here := auth.NewService(db.Store, storetest.FastHash)
	u, err := here.CreateUser(ctx, auth.NewUser{Name: "ada", Password: "tangerine lamp orbit"})
	if err != nil {
		t.Fatal(err)
	}
	there := auth.NewService(db, storetest.FastHash)
	now := time.Now()
	there.SetClock(func() time.Time { return now })

	tok, raw, err := here.CreateToken(storetest.As(ctx, u), auth.NewToken{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		now = now.Add(100 * time.Millisecond) // 10 s in all
		if _, err := there.AuthenticateToken(ctx, raw); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := db.touches.Load(); n != 1 {
		t.Errorf("%d last-use writes for 100 requests within 10 s, want 1", n)
	}
	now = now.Add(time.Minute)
	if _, err := there.AuthenticateToken(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if n := db.touches.Load(); n != 2 {
		t.Errorf("%d last-use writes after a minute, want 2", n)
	}

	if err := here.RevokeToken(storetest.As(ctx, u), tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := here.AuthenticateToken(ctx, raw); err == nil {
		t.Fatal("the revoking service still accepts the token")
	}
	now = now.Add(5 * time.Second)
	if _, err := there.AuthenticateToken(ctx, raw); err == nil {
		t.Fatal("the other service accepts a token revoked 5 s ago")
	}

	_, raw2, err := here.CreateToken(storetest.As(ctx, u), auth.NewToken{Name: "t2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := there.AuthenticateToken(ctx, raw2); err != nil {
		t.Fatal(err)
	}
	if err := here.SetDisabled(ctx, "ada", true); err != nil {
		t.Fatal(err)
	}
	if _, err := here.AuthenticateToken(ctx, raw2); err == nil {
		t.Fatal("the disabling service still accepts the user's token")
	}
	now = now.Add(5 * time.Second)
	if _, err := there.AuthenticateToken(ctx, raw2); err == nil {
		t.Fatal("the other service accepts a token of a user disabled 5 s ago")
	}
}
