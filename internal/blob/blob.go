// Package blob stores artifact bytes. The filesystem backend confines every
// path to its root directory with os.Root, so no key can escape it; the S3
// backend (s3://bucket/prefix) plugs in behind the same interface.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/trellisml/trellis/internal/trellis"
)

// Store keeps artifact bytes under slash-separated keys such as
// "runs/0f3a.../model/weights.bin".
type Store interface {
	// Put writes the key from r, replacing any previous content; a partial
	// write never becomes visible.
	Put(ctx context.Context, key string, r io.Reader) error
	// Get opens the key for reading. Errors: ENOTFOUND.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the entries directly under the prefix "dir".
	List(ctx context.Context, dir string) ([]Entry, error)
	Close() error
}

// Entry is one listed file or directory.
type Entry struct {
	Path  string
	IsDir bool
	Size  int64
}

// Open returns the store a --artifacts value names: a directory path, or
// s3://bucket/prefix.
func Open(spec string) (Store, error) {
	if strings.HasPrefix(spec, "s3://") {
		return nil, errors.New("artifacts: the S3 backend (s3://bucket/prefix) is not available in this build yet; use a directory")
	}
	return OpenDir(spec)
}

// CleanKey validates an artifact key: relative, slash-separated, no "..",
// no empty or dot segments, no backslashes or NUL. Errors: EINVALID.
func CleanKey(key string) (string, error) {
	bad := func(why string) (string, error) {
		return "", trellis.Invalid("path", "artifact path %q is invalid: %s", key, why)
	}
	switch {
	case key == "":
		return bad("empty")
	case len(key) > 1024:
		return bad("longer than 1024 bytes")
	case strings.HasPrefix(key, "/"):
		return bad("absolute")
	case strings.ContainsAny(key, "\\\x00"):
		return bad("contains a backslash or NUL")
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return bad("empty, '.' or '..' segment")
		}
	}
	return path.Clean(key), nil
}

// Dir is a Store in a local directory.
type Dir struct {
	root *os.Root
}

// OpenDir opens (creating if needed) a directory store.
func OpenDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	return &Dir{root: root}, nil
}

// Close releases the directory.
func (d *Dir) Close() error { return d.root.Close() }

// Put writes to a temporary file and renames it into place, so readers see
// the old or the new content, never a torn write, even when writes of the
// same key race.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader) error {
	key, err := CleanKey(key)
	if err != nil {
		return err
	}
	if dir := path.Dir(key); dir != "." {
		if err := d.root.MkdirAll(dir, 0o700); err != nil {
			return rootErr("put", key, err)
		}
	}
	// A temporary name of its own per write, so that concurrent writes of
	// one key (two PUTs, two multipart completions) cannot interleave in
	// one file: the last rename wins with a whole file.
	tmp := key + "." + randomHex(8) + ".tmp-upload"
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return rootErr("put", key, err)
	}
	_, err = io.Copy(f, readerCtx{ctx, r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.root.Rename(tmp, key)
	}
	if err != nil {
		_ = d.root.Remove(tmp)
		return rootErr("put", key, err)
	}
	return nil
}

// Get opens a key. Errors: ENOTFOUND, EINVALID.
func (d *Dir) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	key, err := CleanKey(key)
	if err != nil {
		return nil, err
	}
	f, err := d.root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Artifact %s not found.", key)
	}
	if err != nil {
		return nil, rootErr("get", key, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, trellis.Errorf(trellis.ENOTFOUND, "Artifact %s is a directory.", key)
	}
	return f, nil
}

// Delete removes a key.
func (d *Dir) Delete(ctx context.Context, key string) error {
	key, err := CleanKey(key)
	if err != nil {
		return err
	}
	if err := d.root.RemoveAll(key); err != nil {
		return rootErr("delete", key, err)
	}
	return nil
}

// List returns the entries directly under dir ("" for the top); an absent
// directory or a file has none.
func (d *Dir) List(ctx context.Context, dir string) ([]Entry, error) {
	name := "."
	if dir != "" {
		var err error
		if name, err = CleanKey(dir); err != nil {
			return nil, err
		}
	}
	f, err := d.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return []Entry{}, nil
	}
	if err != nil {
		return nil, rootErr("list", dir, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !st.IsDir() {
		return []Entry{}, nil // a file lists as nothing, as in MLflow's local artifact repository
	}
	des, err := f.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	out := make([]Entry, 0, len(des))
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".tmp-upload") {
			continue
		}
		e := Entry{Path: path.Join(dir, de.Name()), IsDir: de.IsDir()}
		if info, err := de.Info(); err == nil && !de.IsDir() {
			e.Size = info.Size()
		}
		out = append(out, e)
	}
	return out, nil
}

// rootErr turns os.Root's refusal to leave the root (a symlink or a path
// pointing outside) into EINVALID; the attempt is the client's mistake or
// attack, not a server fault. Other errors are wrapped as they are.
func rootErr(op, key string, err error) error {
	if strings.Contains(err.Error(), "path escapes from parent") || errors.Is(err, syscall.ELOOP) {
		return trellis.Invalid("path", "artifact path %q leads outside the artifact store", key)
	}
	if errors.Is(err, syscall.ENOTDIR) {
		return trellis.Errorf(trellis.ENOTFOUND, "Artifact %s not found.", key)
	}
	return fmt.Errorf("%s %s: %w", op, key, err)
}

// readerCtx stops a copy when the request is cancelled.
type readerCtx struct {
	ctx context.Context
	r   io.Reader
}

func (r readerCtx) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
