package blob

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/trellis"
)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if trellis.ErrorCode(err) != code {
		t.Fatalf("got %v (%s), want %s", err, trellis.ErrorCode(err), code)
	}
}

func read(t *testing.T, d *Dir, key string) string {
	t.Helper()
	rc, err := d.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

// startUpload opens a directory store in a temporary directory and starts
// an upload of key in parts parts.
func startUpload(t *testing.T, key string, parts int) (string, *Dir, *Upload, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	u, secret, err := d.CreateUpload(context.Background(), key, parts)
	if err != nil {
		t.Fatal(err)
	}
	return dir, d, u, secret
}

// TestMultipartUpload uploads parts out of order, completes them in part
// order, and checks the rules: the secret, the part range, ETags, missing
// parts, abort, and that nothing half-assembled ever becomes visible.
func TestMultipartUpload(t *testing.T) {
	ctx := context.Background()
	dir, d, u, secret := startUpload(t, "mlflow/1/r/artifacts/big.bin", 3)
	etags := map[int]string{}
	for _, n := range []int{3, 1, 2} {
		etag, err := d.PutPart(ctx, u.ID, secret, n, strings.NewReader(strings.Repeat(string(rune('a'+n-1)), n)))
		if err != nil {
			t.Fatal(err)
		}
		etags[n] = etag
	}
	_, err := d.PutPart(ctx, u.ID, "wrong", 1, strings.NewReader("x"))
	wantCode(t, err, trellis.EFORBIDDEN)
	_, err = d.PutPart(ctx, u.ID, secret, 4, strings.NewReader("x"))
	wantCode(t, err, trellis.EINVALID)
	wantCode(t, d.CompleteUpload(ctx, u.ID, []Part{{2, ""}, {1, ""}}), trellis.EINVALID)
	wantCode(t, d.CompleteUpload(ctx, u.ID, nil), trellis.EINVALID)
	// A part whose ETag does not match fails the whole object.
	wantCode(t, d.CompleteUpload(ctx, u.ID, []Part{{1, etags[1]}, {2, etags[3]}, {3, etags[3]}}), trellis.EINVALID)
	if _, err := d.Get(ctx, u.Key); trellis.ErrorCode(err) != trellis.ENOTFOUND {
		t.Fatalf("a failed completion left an object: %v", err)
	}
	if err := d.CompleteUpload(ctx, u.ID, []Part{{1, etags[1]}, {2, etags[2]}, {3, etags[3]}}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, d, u.Key); got != "abbccc" {
		t.Fatalf("assembled %q", got)
	}
	// Completed: the upload and its parts are gone.
	_, err = d.FindUpload(ctx, u.ID)
	wantCode(t, err, trellis.ENOTFOUND)
	if _, err := os.Stat(filepath.Join(dir, uploadsDir, u.ID)); !os.IsNotExist(err) {
		t.Fatalf("parts left behind: %v", err)
	}

	// A part missing from the upload; then abort removes everything.
	u2, secret2, err := d.CreateUpload(ctx, "mlflow/1/r/artifacts/other.bin", 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.PutPart(ctx, u2.ID, secret2, 1, strings.NewReader("one")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, d.CompleteUpload(ctx, u2.ID, []Part{{1, ""}, {2, ""}}), trellis.EINVALID)
	if err := d.AbortUpload(ctx, u2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = d.PutPart(ctx, u2.ID, secret2, 2, strings.NewReader("two"))
	wantCode(t, err, trellis.ENOTFOUND)
	if _, err := os.Stat(filepath.Join(dir, uploadsDir, u2.ID)); !os.IsNotExist(err) {
		t.Fatalf("abort left parts: %v", err)
	}

	// Ids are checked before they reach the file system.
	for _, id := range []string{"../../etc", "..", "", strings.Repeat("A", 32), u.ID + "/../x"} {
		_, err := d.FindUpload(ctx, id)
		wantCode(t, err, trellis.EINVALID)
		wantCode(t, d.AbortUpload(ctx, id), trellis.EINVALID)
	}
	for _, n := range []int{0, MaxParts + 1} {
		_, _, err := d.CreateUpload(ctx, "k", n)
		wantCode(t, err, trellis.EINVALID)
	}
	_, _, err = d.CreateUpload(ctx, "../k", 1)
	wantCode(t, err, trellis.EINVALID)
}

// TestMultipartExpiry checks that an upload older than UploadTTL is gone
// and that the next CreateUpload removes its parts.
func TestMultipartExpiry(t *testing.T) {
	ctx := context.Background()
	dir, d, u, secret := startUpload(t, "k", 1)
	if _, err := d.PutPart(ctx, u.ID, secret, 1, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	u.CreatedAt = time.Now().Add(-UploadTTL - time.Minute).UnixMilli()
	b, _ := json.Marshal(u)
	if err := d.Put(ctx, uploadPath(u.ID, "upload.json"), bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	_, err := d.PutPart(ctx, u.ID, secret, 1, strings.NewReader("y"))
	wantCode(t, err, trellis.ENOTFOUND)
	wantCode(t, d.CompleteUpload(ctx, u.ID, []Part{{1, ""}}), trellis.ENOTFOUND)
	if _, _, err := d.CreateUpload(ctx, "k2", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, uploadsDir, u.ID)); !os.IsNotExist(err) {
		t.Fatalf("expired upload not swept: %v", err)
	}
}
