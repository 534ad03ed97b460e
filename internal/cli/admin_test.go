package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
)

// TestSetPasswordRevokeTokens: set-password keeps a user's API tokens
// unless told --revoke-tokens, which ends every one of them; disable ends
// them too, and enable revives none.
func TestSetPasswordRevokeTokens(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TRELLIS_PASSWORD", apptest.Password)
	if code, out, errOut := runCLI(t, "", "user", "create", "ada", "--data-dir", dir); code != 0 {
		t.Fatalf("user create: %d %s %s", code, out, errOut)
	}
	// withAuth runs fn with the auth service over the store, as another
	// process would, and closes it again before the next command.
	withAuth := func(fn func(context.Context, *auth.Service)) {
		t.Helper()
		ctx := context.Background()
		db, err := store.Open(ctx, filepath.Join(dir, "trellis.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		fn(ctx, auth.NewService(db, storetest.FastHash))
	}
	var raw string
	mint := func() {
		t.Helper()
		withAuth(func(ctx context.Context, svc *auth.Service) {
			u, err := svc.UserByName(ctx, "ada")
			if err != nil {
				t.Fatal(err)
			}
			if _, raw, err = svc.CreateToken(storetest.As(ctx, u), auth.NewToken{Name: "ci"}); err != nil {
				t.Fatal(err)
			}
		})
	}
	mint()
	works := func() (ok bool) {
		t.Helper()
		withAuth(func(ctx context.Context, svc *auth.Service) {
			_, err := svc.AuthenticateToken(ctx, raw)
			ok = err == nil
		})
		return ok
	}

	t.Setenv("TRELLIS_PASSWORD", apptest.Password+" two")
	if code, out, errOut := runCLI(t, "", "user", "set-password", "ada", "--data-dir", dir); code != 0 || !strings.Contains(out, "--revoke-tokens") {
		t.Fatalf("set-password: %d %s %s", code, out, errOut)
	}
	if !works() {
		t.Fatal("set-password without --revoke-tokens ended the token")
	}
	t.Setenv("TRELLIS_PASSWORD", apptest.Password+" three")
	if code, out, errOut := runCLI(t, "", "user", "set-password", "ada", "--revoke-tokens", "--data-dir", dir); code != 0 || !strings.Contains(out, "1 API token(s) revoked") {
		t.Fatalf("set-password --revoke-tokens: %d %s %s", code, out, errOut)
	}
	if works() {
		t.Fatal("the token works after set-password --revoke-tokens")
	}

	// disable revokes the tokens; enable revives none.
	mint()
	for _, use := range []string{"disable", "enable"} {
		if code, out, errOut := runCLI(t, "", "user", use, "ada", "--data-dir", dir); code != 0 || !strings.Contains(out, use+"d ada") {
			t.Fatalf("user %s: %d %s %s", use, code, out, errOut)
		}
	}
	if works() {
		t.Fatal("a token from before the disable works after user enable")
	}
}
