package auth_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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

func benchService(b *testing.B, params auth.HashParams) (*auth.Service, *auth.User) {
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
	svc := auth.NewService(db, params)
	u, err := svc.CreateUser(ctx, auth.NewUser{Name: "ada", Password: "tangerine lamp orbit"})
	if err != nil {
		b.Fatal(err)
	}
	return svc, u
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
