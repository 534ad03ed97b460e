package blob

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/trellis"
)

func TestDirRoundTrip(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Put(ctx, "runs/abc/model/w.bin", strings.NewReader("weights")); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Get(ctx, "runs/abc/model/w.bin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "weights" {
		t.Fatalf("got %q", b)
	}
	es, err := d.List(ctx, "runs/abc")
	if err != nil || len(es) != 1 || es[0].Path != "runs/abc/model" || !es[0].IsDir {
		t.Fatalf("List = %+v, %v", es, err)
	}
	// Listing a file, or below one, finds nothing rather than failing.
	for _, dir := range []string{"runs/abc/model/w.bin", "runs/abc/model/w.bin/x", "runs/nope"} {
		if es, err := d.List(ctx, dir); err != nil || len(es) != 0 {
			t.Errorf("List(%s) = %+v, %v", dir, es, err)
		}
	}
	if err := d.Delete(ctx, "runs/abc/model/w.bin"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, "runs/abc/model/w.bin"); trellis.ErrorCode(err) != trellis.ENOTFOUND {
		t.Fatalf("Get after delete: %v", err)
	}
}

func TestDirRefusesEscapes(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	secret := filepath.Join(parent, "secret.txt")
	if err := os.WriteFile(secret, []byte("s3cr3t"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(filepath.Join(parent, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// A symlink planted inside the root must not lead out of it either.
	if err := os.Symlink(parent, filepath.Join(parent, "artifacts", "link")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../secret.txt", "/etc/passwd", "a/../../secret.txt", "a\\..\\b", "a//b", "./a", "", "a/\x00"} {
		if _, err := d.Get(ctx, key); trellis.ErrorCode(err) != trellis.EINVALID {
			t.Errorf("Get(%q) = %v, want EINVALID", key, err)
		}
		if err := d.Put(ctx, key, strings.NewReader("x")); trellis.ErrorCode(err) != trellis.EINVALID {
			t.Errorf("Put(%q) = %v, want EINVALID", key, err)
		}
	}
	if rc, err := d.Get(ctx, "link/secret.txt"); err == nil {
		rc.Close()
		t.Fatal("read through a symlink out of the root")
	}
}

func FuzzCleanKey(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "a/./b", "/abs", "a//b", "ok.txt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		clean, err := CleanKey(key)
		if err != nil {
			return
		}
		if strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "..") || strings.Contains(clean, "/../") || clean != key {
			t.Fatalf("CleanKey(%q) = %q accepted", key, clean)
		}
	})
}

// TestDirConcurrentPuts writes one key from several goroutines at once:
// whichever rename comes last, the key holds one writer's bytes whole.
func TestDirConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	d, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const writers, size = 8, 1 << 20
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			errs <- d.Put(ctx, "runs/r/model.bin", strings.NewReader(strings.Repeat(string(rune('a'+w)), size)))
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	rc, err := d.Get(ctx, "runs/r/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if len(b) != size || strings.Count(string(b), string(b[:1])) != size {
		t.Fatalf("torn write: %d bytes, starting %q", len(b), b[:min(len(b), 8)])
	}
	if es, _ := d.List(ctx, "runs/r"); len(es) != 1 {
		t.Fatalf("temporary files left: %+v", es)
	}
}
