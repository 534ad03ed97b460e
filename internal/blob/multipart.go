package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/trellisml/trellis/internal/trellis"
)

// Multipart is implemented by stores that assemble one object from parts
// uploaded separately, in parallel and out of order (MLflow's mpu/create,
// part PUTs, mpu/complete). A store without it answers multipart requests
// with "not supported", and clients fall back to one PUT.
type Multipart interface {
	// CreateUpload starts an upload of key in 1..MaxParts parts. It returns
	// the upload and its secret, which PutPart requires and the store
	// keeps only as a hash. Errors: EINVALID.
	CreateUpload(ctx context.Context, key string, parts int) (*Upload, string, error)
	// FindUpload returns an upload that is neither finished nor expired.
	// Errors: ENOTFOUND, EINVALID (a malformed id).
	FindUpload(ctx context.Context, id string) (*Upload, error)
	// PutPart writes part n (1-based) of an upload, replacing an earlier
	// attempt, and returns its ETag. Errors: EINVALID, ENOTFOUND,
	// EFORBIDDEN (a wrong secret).
	PutPart(ctx context.Context, id, secret string, n int, r io.Reader) (string, error)
	// CompleteUpload writes the parts, in the order given, to the upload's
	// key as one object that appears whole or not at all, then removes the
	// upload. Errors: EINVALID (no parts, parts out of order, a part not
	// uploaded, an ETag that does not match), ENOTFOUND.
	CompleteUpload(ctx context.Context, id string, parts []Part) error
	// AbortUpload removes an upload and its parts; an unknown upload is
	// not an error.
	AbortUpload(ctx context.Context, id string) error
}

// MaxParts bounds the parts of one upload (S3's limit).
const MaxParts = 10000

// UploadTTL is how long an upload may stay open; an older one is gone, and
// the next CreateUpload removes it.
const UploadTTL = 24 * time.Hour

// Upload is an open multipart upload.
type Upload struct {
	ID         string `json:"id"`
	Key        string `json:"key"`
	Parts      int    `json:"parts"`
	CreatedAt  int64  `json:"created_at"` // ms since the epoch
	SecretHash string `json:"secret_sha256"`
}

// Part names an uploaded part for CompleteUpload; an empty ETag is not
// checked.
type Part struct {
	Number int
	ETag   string
}

// uploadsDir holds the open uploads, outside every artifact key the
// surfaces build (they all start with a name such as "mlflow/").
const uploadsDir = ".multipart"

var uploadIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

var _ Multipart = (*Dir)(nil)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func uploadPath(id string, rest ...string) string {
	p := uploadsDir + "/" + id
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// CreateUpload records the upload in .multipart/ID/upload.json and sweeps
// expired uploads.
func (d *Dir) CreateUpload(ctx context.Context, key string, parts int) (*Upload, string, error) {
	key, err := CleanKey(key)
	if err != nil {
		return nil, "", err
	}
	if parts < 1 || parts > MaxParts {
		return nil, "", trellis.Invalid("num_parts", "num_parts must be between 1 and %d, not %d", MaxParts, parts)
	}
	d.sweepUploads(ctx)
	secret := randomHex(32)
	u := &Upload{ID: randomHex(16), Key: key, Parts: parts, CreatedAt: time.Now().UnixMilli(), SecretHash: sha256Hex(secret)}
	b, err := json.Marshal(u)
	if err != nil {
		return nil, "", err
	}
	if err := d.Put(ctx, uploadPath(u.ID, "upload.json"), bytes.NewReader(b)); err != nil {
		return nil, "", err
	}
	return u, secret, nil
}

// sweepUploads removes uploads past their time; failures only leave them
// for the next sweep.
func (d *Dir) sweepUploads(ctx context.Context) {
	es, err := d.List(ctx, uploadsDir)
	if err != nil {
		return
	}
	for _, e := range es {
		id := e.Path[len(uploadsDir)+1:]
		if _, err := d.FindUpload(ctx, id); trellis.ErrorCode(err) == trellis.ENOTFOUND {
			_ = d.root.RemoveAll(uploadPath(id))
		}
	}
}

// FindUpload reads an open upload.
func (d *Dir) FindUpload(ctx context.Context, id string) (*Upload, error) {
	if !uploadIDRE.MatchString(id) {
		return nil, trellis.Invalid("upload_id", "upload_id %q is not an upload id of this server", id)
	}
	gone := trellis.Errorf(trellis.ENOTFOUND, "Upload %s not found: it was completed, aborted or expired (after %s).", id, UploadTTL)
	b, err := d.root.ReadFile(uploadPath(id, "upload.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, gone
	}
	if err != nil {
		return nil, rootErr("upload", id, err)
	}
	var u Upload
	if err := json.Unmarshal(b, &u); err != nil || u.ID != id {
		return nil, gone
	}
	if time.Since(time.UnixMilli(u.CreatedAt)) > UploadTTL {
		return nil, gone
	}
	return &u, nil
}

// PutPart writes the part beside the upload and returns the SHA-256 of its
// bytes as a quoted ETag.
func (d *Dir) PutPart(ctx context.Context, id, secret string, n int, r io.Reader) (string, error) {
	u, err := d.FindUpload(ctx, id)
	if err != nil {
		return "", err
	}
	if subtle.ConstantTimeCompare([]byte(sha256Hex(secret)), []byte(u.SecretHash)) != 1 {
		return "", trellis.Errorf(trellis.EFORBIDDEN, "This part URL needs the upload secret that mpu/create returned with it.")
	}
	if n < 1 || n > u.Parts {
		return "", trellis.Invalid("part_number", "part number %d is outside 1..%d of upload %s", n, u.Parts, id)
	}
	h := sha256.New()
	if err := d.Put(ctx, uploadPath(id, strconv.Itoa(n)), io.TeeReader(r, h)); err != nil {
		return "", err
	}
	return `"` + hex.EncodeToString(h.Sum(nil)) + `"`, nil
}

// CompleteUpload concatenates the parts through Put, whose temporary file
// and rename inside the root make the object appear whole; a part whose
// bytes do not match its ETag fails the copy, so nothing appears.
func (d *Dir) CompleteUpload(ctx context.Context, id string, parts []Part) error {
	u, err := d.FindUpload(ctx, id)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return trellis.Invalid("parts", "parts must list the uploaded parts in order")
	}
	if !sort.SliceIsSorted(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number }) {
		return trellis.Invalid("parts", "parts must be listed in ascending part_number order")
	}
	var files []io.Reader
	defer func() {
		for _, f := range files {
			f.(*checkedPart).f.Close()
		}
	}()
	for i, p := range parts {
		if p.Number < 1 || p.Number > u.Parts || (i > 0 && p.Number == parts[i-1].Number) {
			return trellis.Invalid("parts", "part_number %d is repeated or outside 1..%d", p.Number, u.Parts)
		}
		f, err := d.root.Open(uploadPath(id, strconv.Itoa(p.Number)))
		if errors.Is(err, fs.ErrNotExist) {
			return trellis.Invalid("parts", "part %d of upload %s was not uploaded", p.Number, id)
		}
		if err != nil {
			return rootErr("complete", id, err)
		}
		files = append(files, &checkedPart{f: f, h: sha256.New(), n: p.Number, etag: p.ETag})
	}
	if err := d.Put(ctx, u.Key, io.MultiReader(files...)); err != nil {
		return err
	}
	return d.AbortUpload(ctx, id)
}

// AbortUpload removes the upload's directory.
func (d *Dir) AbortUpload(ctx context.Context, id string) error {
	if !uploadIDRE.MatchString(id) {
		return trellis.Invalid("upload_id", "upload_id %q is not an upload id of this server", id)
	}
	if err := d.root.RemoveAll(uploadPath(id)); err != nil {
		return rootErr("abort", id, err)
	}
	return nil
}

// checkedPart reads a part file and, at its end, fails unless its bytes
// hash to the ETag the client was given for it.
type checkedPart struct {
	f    *os.File
	h    hash.Hash
	n    int
	etag string
}

func (c *checkedPart) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF && c.etag != "" {
		want := bytes.Trim([]byte(c.etag), `"`)
		if got := hex.EncodeToString(c.h.Sum(nil)); subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			return n, trellis.Invalid("parts", "part %d does not match its ETag %s: upload it again", c.n, c.etag)
		}
	}
	return n, err
}

// String names the upload in logs without its secret hash.
func (u *Upload) String() string {
	return fmt.Sprintf("upload %s of %s in %d parts", u.ID, u.Key, u.Parts)
}
