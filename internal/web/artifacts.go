package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trellisml/trellis/internal/blob"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// An artifact is whatever a training script uploaded: it is untrusted
// content on this origin. The run page therefore shows only two kinds
// inline: text, escaped inside <pre> by the template, and raster images,
// served by runArtifactFile with a Content-Type sniffed from their bytes
// (never taken from the name), nosniff and a sandboxing CSP. Everything
// else, HTML and SVG above all, is only ever a download.

// maxTextPreview caps how much of a text artifact the run page inlines;
// the rest is a download away.
const maxTextPreview = 256 << 10

// rasterTypes are the sniffed types served inline as images. SVG is not
// among them: it is a document that can carry script.
var rasterTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// downloadOnly are extensions never previewed, whatever their bytes look
// like: markup a browser would render as a page.
var downloadOnly = map[string]bool{".html": true, ".htm": true, ".xhtml": true, ".shtml": true, ".svg": true, ".svgz": true,
	".xht": true, ".mht": true, ".mhtml": true}

type artifactsView struct {
	// Available is false when the server has no artifact store or the run
	// keeps its artifacts elsewhere; Reason then says which.
	Available bool
	Reason    string
	Dir       string
	Crumbs    []artifactCrumb
	Entries   []artifactEntry
	Preview   *artifactPreview
}

type artifactCrumb struct {
	Name    string
	URL     string
	Current bool
}

type artifactEntry struct {
	Name        string
	Path        string
	IsDir       bool
	Size        string
	OpenURL     string // directory: list it; previewable file: preview it
	DownloadURL string
	Previewable bool
}

type artifactPreview struct {
	Name        string
	Path        string
	Kind        string // "text", "image" or "none"
	Text        string
	Truncated   bool
	Size        string
	DownloadURL string
	ImageURL    string
}

// artifactKey joins a run's artifact root and a path relative to it.
// Errors: EINVALID for a path that is not clean and relative (".." and the
// like), ENOTFOUND when the run keeps its artifacts elsewhere.
func artifactKey(run *tracking.Run, rel string) (string, error) {
	root, ok := tracking.RunArtifactRoot(run)
	if !ok {
		return "", trellis.Errorf(trellis.ENOTFOUND, "Run %s keeps its artifacts outside this server.", run.Info.ID)
	}
	if rel == "" {
		return root, nil
	}
	clean, err := blob.CleanKey(rel)
	if err != nil {
		return "", err
	}
	return root + "/" + clean, nil
}

// artifactURL is the URL of one artifact's bytes, each segment escaped so
// that names with '?', '#' or spaces survive.
func artifactURL(proj *project.Project, run *tracking.Run, rel string, download bool) string {
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := "/p/" + proj.Key + "/runs/" + run.Info.ID + "/artifacts/" + strings.Join(segs, "/")
	if download {
		u += "?download=1"
	}
	return u
}

// runPageURL links back to the run page showing a directory or a file.
func runPageURL(proj *project.Project, run *tracking.Run, name, value string) string {
	u := "/p/" + proj.Key + "/runs/" + run.Info.ID
	if value != "" {
		u += "?" + url.Values{name: {value}}.Encode()
	}
	return u + "#artifacts"
}

// previewable says whether the run page offers a preview of a file by its
// name; the bytes decide later what the preview shows.
func previewable(name string) bool {
	return !downloadOnly[strings.ToLower(path.Ext(name))]
}

// artifacts builds the run page's artifact browser for the directory dir
// or, when file is set, for the file's directory with the file previewed.
func (ui *UI) artifacts(r *http.Request, proj *project.Project, run *tracking.Run, dir, file string) (*artifactsView, error) {
	v := &artifactsView{}
	if ui.blobs == nil {
		v.Reason = "This server has no artifact store configured."
		return v, nil
	}
	if _, ok := tracking.RunArtifactRoot(run); !ok {
		v.Reason = "This run keeps its artifacts outside this server: " + run.Info.ArtifactURI
		return v, nil
	}
	v.Available = true
	if file != "" {
		clean, err := blob.CleanKey(file)
		if err != nil {
			return nil, err
		}
		file = clean
		if dir == "" {
			if dir = path.Dir(file); dir == "." {
				dir = ""
			}
		}
	}
	key, err := artifactKey(run, dir)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		dir = strings.TrimPrefix(key, mustRoot(run)+"/")
	}
	v.Dir = dir
	v.Crumbs = []artifactCrumb{{Name: "artifacts", URL: runPageURL(proj, run, "dir", "")}}
	if dir != "" {
		segs := strings.Split(dir, "/")
		for i, s := range segs {
			v.Crumbs = append(v.Crumbs, artifactCrumb{Name: s, URL: runPageURL(proj, run, "dir", strings.Join(segs[:i+1], "/"))})
		}
	}
	es, err := ui.blobs.List(r.Context(), key)
	if err != nil {
		return nil, err
	}
	root := mustRoot(run) + "/"
	for _, e := range es {
		rel := strings.TrimPrefix(e.Path, root)
		ent := artifactEntry{Name: path.Base(rel), Path: rel, IsDir: e.IsDir}
		if e.IsDir {
			ent.OpenURL = runPageURL(proj, run, "dir", rel)
		} else {
			ent.Size = humanBytes(e.Size)
			ent.DownloadURL = artifactURL(proj, run, rel, true)
			if ent.Previewable = previewable(rel); ent.Previewable {
				ent.OpenURL = runPageURL(proj, run, "file", rel)
			}
		}
		v.Entries = append(v.Entries, ent)
	}
	v.Crumbs[len(v.Crumbs)-1].Current = true
	sort.Slice(v.Entries, func(i, j int) bool {
		a, b := v.Entries[i], v.Entries[j]
		if a.IsDir != b.IsDir {
			return a.IsDir
		}
		return a.Name < b.Name
	})
	if file != "" {
		if v.Preview, err = ui.preview(r, proj, run, file); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func mustRoot(run *tracking.Run) string {
	root, _ := tracking.RunArtifactRoot(run)
	return root
}

// preview reads the head of one file and decides how to show it.
func (ui *UI) preview(r *http.Request, proj *project.Project, run *tracking.Run, file string) (*artifactPreview, error) {
	key, err := artifactKey(run, file)
	if err != nil {
		return nil, err
	}
	p := &artifactPreview{Name: path.Base(file), Path: file, Kind: "none", DownloadURL: artifactURL(proj, run, file, true)}
	if !previewable(file) {
		return p, nil
	}
	rc, err := ui.blobs.Get(r.Context(), key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	head, err := io.ReadAll(io.LimitReader(rc, maxTextPreview+1))
	if err != nil {
		return nil, err
	}
	switch previewKind(file, head) {
	case "image":
		p.Kind, p.ImageURL = "image", artifactURL(proj, run, file, false)
	case "text":
		if len(head) > maxTextPreview {
			head, p.Truncated = head[:maxTextPreview], true
		}
		p.Kind, p.Text = "text", strings.ToValidUTF8(string(head), "\uFFFD")
	}
	return p, nil
}

// previewKind decides from a file's name and first bytes whether it shows
// as an image, as text or not at all.
func previewKind(name string, head []byte) string {
	if !previewable(name) {
		return ""
	}
	ct := http.DetectContentType(head)
	switch {
	case rasterTypes[ct]:
		return "image"
	case strings.HasPrefix(ct, "text/html"):
		return "" // markup without a markup name: still only a download
	case looksLikeText(head):
		return "text"
	}
	return ""
}

// looksLikeText accepts UTF-8 without NUL bytes; a rune cut by the size
// cap at the end does not count against it.
func looksLikeText(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

// humanBytes formats a size the way a file browser does.
func humanBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f, unit := float64(n)/1024, "KB"
	for _, u := range []string{"MB", "GB", "TB"} {
		if f < 1024 {
			break
		}
		f, unit = f/1024, u
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + unit
}

// runArtifactFile serves one artifact's bytes for the run page: a raster
// image inline (its type sniffed from the bytes), anything else, or any
// file with ?download=1, as an attachment. Both answers carry nosniff and
// a CSP that sandboxes the response should a browser open it as a page.
func (ui *UI) runArtifactFile(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	run, err := ui.track.Run(ctx, proj, r.PathValue("run"))
	if err != nil {
		return err
	}
	rel := r.PathValue("path")
	if rel == "" {
		return trellis.Invalid("path", "name an artifact file")
	}
	key, err := artifactKey(run, rel)
	if err != nil {
		return err
	}
	rc, err := ui.blobs.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(rc, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	head = head[:n]
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-cache")
	name := path.Base(rel)
	if ct := http.DetectContentType(head); rasterTypes[ct] && previewable(name) && r.URL.Query().Get("download") == "" {
		h.Set("Content-Type", ct)
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name}))
	} else {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	}
	if _, err := w.Write(head); err != nil {
		return nil // the client went away
	}
	if _, err := io.Copy(w, rc); err != nil {
		ui.log.WarnContext(ctx, "artifact download interrupted", "key", key, "err", err)
	}
	return nil
}
