package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/trellis"
)

// staticFS holds app.css, app.js and whatever `make` copied into
// static/vendor/. The vendor folder is gitignored and may be absent; the
// pattern names the folder, not the files, so the build works either way.
//
//go:embed static
var staticFS embed.FS

func staticFiles() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}

// asset is one static file, held in memory with its fingerprint.
type asset struct {
	url   string // /static/app.3f2a9c1b0d4e.css
	ctype string
	etag  string
	body  []byte
	gz    []byte // gzip-compressed body, nil when compression does not pay
}

// assets maps logical names ("app.css", "vendor/htmx.min.js") to their
// content-hashed URLs and back. Because the URL changes whenever the bytes
// do, browsers may cache every file forever.
type assets struct {
	byName map[string]*asset
	byPath map[string]*asset // keyed by the hashed path below /static/
}

// hashedName inserts the fingerprint before the last extension, so that the
// served file keeps the extension its content type is derived from.
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

func loadAssets(fsys fs.FS) (*assets, error) {
	as := &assets{byName: map[string]*asset{}, byPath: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:12]
		hashed := hashedName(name, hash)
		a := &asset{url: "/static/" + hashed, etag: `"` + hash + `"`, body: body}
		if a.ctype = mime.TypeByExtension(path.Ext(name)); a.ctype == "" {
			a.ctype = http.DetectContentType(body)
		}
		if compressible(a.ctype) {
			a.gz = gzipped(body)
		}
		as.byName[name] = a
		as.byPath[hashed] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	for _, need := range []string{"app.css", "app.js"} {
		if as.byName[need] == nil {
			return nil, fmt.Errorf("load static files: %s is missing", need)
		}
	}
	return as, nil
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

// gzipped compresses once at start-up, so serving costs nothing per request.
// It returns nil when the result would not be meaningfully smaller.
func gzipped(body []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(body); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	if buf.Len() >= len(body)*9/10 {
		return nil
	}
	return buf.Bytes()
}

// url returns the hashed URL of a static file; templates call it as asset.
// An unknown name is an error so that a typo fails the template test rather
// than shipping a broken link — except a vendored library, which `make`
// copies from npm and a plain `go build` lacks: its pages still render, with
// a link that 404s, and only the library's feature (charts, drag and drop)
// is missing.
func (as *assets) url(name string) (string, error) {
	if a := as.byName[name]; a != nil {
		return a.url, nil
	}
	if strings.HasPrefix(name, "vendor/") {
		return "/static/" + name, nil
	}
	return "", fmt.Errorf("no static file %q", name)
}

// has reports whether an optional file (a vendored library) is present.
func (as *assets) has(name string) bool { return as.byName[name] != nil }

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(q, 64)
			return err == nil && f > 0
		}
		return true
	}
	return false
}

// serveStatic answers only hashed URLs: a stale or made-up hash is a 404, so
// an old page can never get a new file under a name it may cache forever.
func (ui *UI) serveStatic(w http.ResponseWriter, r *http.Request) error {
	a := ui.assets.byPath[r.PathValue("path")]
	if a == nil {
		return trellis.Errorf(trellis.ENOTFOUND, "No such file.")
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	body, etag := a.body, a.etag
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	return nil
}
