package web

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestStatic(t *testing.T) {
	e := newEnv(t)
	cssURL, err := e.ui.assets.url("app.css")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{12}\.css$`).MatchString(cssURL) {
		t.Fatalf("asset URL %q", cssURL)
	}
	w := e.get(cssURL, "")
	wantStatus(t, w, http.StatusOK)
	if got := w.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("Content-Type = %q", got)
	}
	raw, _ := staticFS.ReadFile("static/app.css")
	if !bytes.Equal(w.Body.Bytes(), raw) {
		t.Error("served bytes differ from the embedded file")
	}

	w = e.do(req{target: cssURL, header: map[string]string{"Accept-Encoding": "br, gzip"}})
	wantStatus(t, w, http.StatusOK)
	if w.Header().Get("Content-Encoding") != "gzip" || w.Body.Len() >= len(raw) {
		t.Errorf("gzip: encoding %q, %d bytes of %d", w.Header().Get("Content-Encoding"), w.Body.Len(), len(raw))
	}
	if w := e.do(req{target: cssURL, header: map[string]string{"Accept-Encoding": "gzip;q=0, br"}}); w.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused with q=0")
	}
	etag := w.Header().Get("ETag")
	w = e.do(req{target: cssURL, header: map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag}})
	wantStatus(t, w, http.StatusNotModified)

	jsURL, _ := e.ui.assets.url("app.js")
	if w := e.get(jsURL, ""); w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Type"), "javascript") {
		t.Errorf("app.js: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, bad := range []string{"/static/app.css", "/static/app.000000000000.css", "/static/app.js", "/static/nope.txt", "/static/vendor/"} {
		if w := e.get(bad, ""); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", bad, w.Code)
		}
	}
}

// TestWithoutVendor proves the UI works when `make` has not copied the
// browser libraries: the pages simply leave htmx out.
func TestWithoutVendor(t *testing.T) {
	e := newEnv(t)
	// Every file of ours, none of vendor/.
	own := fstest.MapFS{}
	entries, err := staticFS.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if de.IsDir() {
			continue
		}
		data, _ := staticFS.ReadFile("static/" + de.Name())
		own[de.Name()] = &fstest.MapFile{Data: data}
	}
	css := own["app.css"].Data
	as, err := loadAssets(own)
	if err != nil {
		t.Fatal(err)
	}
	e.ui.assets = as
	if e.ui.pages, err = e.ui.parseTemplates(); err != nil {
		t.Fatal(err)
	}
	w := e.get("/login", "")
	wantStatus(t, w, http.StatusOK)
	wantNoBody(t, w, "htmx.min")
	if _, err := loadAssets(fstest.MapFS{"app.css": {Data: css}}); err == nil {
		t.Error("missing app.js accepted")
	}
}
