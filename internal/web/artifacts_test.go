package web

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/blob"
	"github.com/trellisml/trellis/internal/tracking"
)

// newArtifactEnv is newEnv with a directory blob store behind the UI, as
// `trellis serve` wires it; it returns the store and its directory.
func newArtifactEnv(t *testing.T) (*env, *blob.Dir, string) {
	t.Helper()
	e := newEnv(t)
	dir := t.TempDir()
	blobs, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	ui, err := New(Options{Auth: e.auth, Projects: e.projects, Work: e.work, Tracking: e.track, Blobs: blobs, BaseURL: "http://trellis.test/",
		Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ui.Surface().Register(mux)
	e.ui, e.h = ui, withSession(e.auth, mux)
	return e, blobs, dir
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRunArtifacts browses a run's artifacts on the run page: folders,
// sizes, text and image previews inline, markup and binaries only as
// downloads, and the headers of the bytes route.
func TestRunArtifacts(t *testing.T) {
	e, blobs, blobDir := newArtifactEnv(t)
	root := e.mustUser("root", true)
	p := e.mustProject(root, "BAL", "Balloons")
	ctx := e.ctx(root)
	run, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "0", Name: "with files"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "0", Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	rootKey, ok := tracking.RunArtifactRoot(run)
	if !ok || rootKey != fmt.Sprintf("mlflow/%d/%s/artifacts", run.Info.ExperimentID, run.Info.ID) {
		t.Fatalf("RunArtifactRoot = %q, %v", rootKey, ok)
	}
	put := func(r *tracking.Run, rel string, data []byte) {
		t.Helper()
		k, _ := tracking.RunArtifactRoot(r)
		if err := blobs.Put(context.Background(), k+"/"+rel, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	img := pngBytes(t)
	big := bytes.Repeat([]byte("epoch 1 loss 0.5\n"), 20000) // 340,000 bytes
	put(run, "notes.txt", []byte("loss went <b>down</b> & stayed\n"))
	put(run, "plot.png", img)
	put(run, "report.html", []byte("<html><script>alert(1)</script></html>"))
	put(run, "icon.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	put(run, "weights.bin", []byte{0, 1, 2, 3, 0xff, 0})
	put(run, "fake.png", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"))
	put(run, "page", []byte("<!DOCTYPE html><html><body>hi</body></html>"))
	put(run, "train.log", big)
	put(run, "model/MLmodel", []byte("flavors:\n  python_function: {}\n"))
	put(run, "model/data/weights #1?.bin", []byte{0, 0, 0})
	put(other, "secret.txt", []byte("other run's secret"))

	page := "/p/BAL/runs/" + run.Info.ID
	files := page + "/artifacts/"

	// The listing: folders first, sizes, a preview link for what may
	// preview, a download link for every file, markup download only.
	w := e.get(page, root)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, w)
	wantBody(t, w, `id="artifacts-title">Artifacts<`, `href="`+page+`?dir=model#artifacts">model/</a>`,
		`href="`+page+`?file=notes.txt#artifacts">notes.txt</a>`, "<td>31 B</td>", "<td>332.0 KB</td>",
		`href="`+files+`report.html?download=1" download>report.html</a> <span class="muted">(download only)</span>`,
		`href="`+files+`icon.svg?download=1" download>icon.svg</a> <span class="muted">(download only)</span>`,
		`href="`+files+`plot.png?download=1" download`)
	wantNoBody(t, w, "?file=report.html", "?file=icon.svg", "secret.txt", `id="artifact-preview"`)
	body := w.Body.String()
	if strings.Index(body, ">model/<") > strings.Index(body, ">fake.png<") {
		t.Error("folders are not listed first")
	}

	// A text file previews escaped inside <pre>.
	w = e.get(page+"?file=notes.txt", root)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `id="artifact-preview"`, `<pre class="artifact-text">loss went &lt;b&gt;down&lt;/b&gt; &amp; stayed`)
	wantNoBody(t, w, "<b>down</b>")

	// A long text file previews its first 256 KB only.
	w = e.get(page+"?file=train.log", root)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "Showing the first 256 KB")
	if n := strings.Count(w.Body.String(), "epoch 1 loss 0.5"); n < 15000 || n > 15500 {
		t.Errorf("train.log preview shows %d lines, want the first 256 KB (15,420 lines)", n)
	}

	// An image previews through the bytes route.
	w = e.get(page+"?file=plot.png", root)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `<img src="`+files+`plot.png" alt="plot.png" class="artifact-image">`)

	// Markup, binaries and markup under an image name never preview.
	for _, f := range []string{"report.html", "icon.svg", "weights.bin", "fake.png", "page"} {
		w = e.get(page+"?file="+f, root)
		wantStatus(t, w, http.StatusOK)
		wantBody(t, w, "No preview for this file", `href="`+files+f+`?download=1" download>Download</a>`)
		wantNoBody(t, w, "alert(1)", "<img src=")
	}

	// A folder lists its entries with paths relative to the run, names
	// escaped in links, and breadcrumbs back up.
	w = e.get(page+"?dir=model", root)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `href="`+page+`?file=model%2FMLmodel#artifacts">MLmodel</a>`, `href="`+page+`?dir=model%2Fdata#artifacts">data/</a>`,
		`<a href="`+page+`#artifacts">artifacts</a> / <a href="`+page+`?dir=model#artifacts" aria-current="location">model</a>`)
	w = e.get(page+"?dir=model/data", root)
	wantBody(t, w, `href="`+files+`model/data/weights%20%231%3F.bin?download=1"`)
	w = e.get(files+"model/data/weights%20%231%3F.bin", root)
	wantStatus(t, w, http.StatusOK)
	if w.Body.Len() != 3 {
		t.Errorf("escaped name served %d bytes", w.Body.Len())
	}
	// A file's preview lists its folder.
	w = e.get(page+"?file=model/MLmodel", root)
	wantBody(t, w, "python_function", `aria-current="location">model</a>`)

	// The bytes route: raster images inline with their sniffed type…
	w = e.get(files+"plot.png", root)
	wantStatus(t, w, http.StatusOK)
	wantHeaders(t, w, map[string]string{"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox", "Content-Disposition": `inline; filename=plot.png`})
	if !bytes.Equal(w.Body.Bytes(), img) {
		t.Error("plot.png bytes differ")
	}
	// …or as a download when asked; everything else always a download.
	w = e.get(files+"plot.png?download=1", root)
	wantHeaders(t, w, map[string]string{"Content-Type": "application/octet-stream", "Content-Disposition": `attachment; filename=plot.png`})
	for _, f := range []string{"report.html", "icon.svg", "fake.png", "page", "notes.txt", "weights.bin"} {
		w = e.get(files+f, root)
		wantStatus(t, w, http.StatusOK)
		wantHeaders(t, w, map[string]string{"Content-Type": "application/octet-stream", "X-Content-Type-Options": "nosniff",
			"Content-Security-Policy": "default-src 'none'; sandbox", "Content-Disposition": `attachment; filename=` + f})
	}
	w = e.get(files+"train.log", root)
	if !bytes.Equal(w.Body.Bytes(), big) {
		t.Errorf("train.log download is %d bytes, want all %d", w.Body.Len(), len(big))
	}

	// Missing files and folders.
	wantStatus(t, e.get(files+"nope.txt", root), http.StatusNotFound)
	wantStatus(t, e.get(files+"model", root), http.StatusNotFound)
	wantStatus(t, e.get(page+"?file=nope.txt", root), http.StatusNotFound)
	wantStatus(t, e.get(files, root), http.StatusBadRequest)
	// A file or a missing folder lists as an empty folder, as the MLflow
	// artifact API lists it.
	for _, d := range []string{"notes.txt", "nope"} {
		w = e.get(page+"?dir="+d, root)
		wantStatus(t, w, http.StatusOK)
		wantBody(t, w, "This folder is empty.")
	}

	// Paths stay inside this run's artifacts: no "..", absolute or
	// backslash paths, on the page or the bytes route, and no symlink out.
	otherRel := "../../" + other.Info.ID + "/artifacts/secret.txt"
	for _, target := range []string{
		page + "?file=" + otherRel, page + "?dir=..", page + "?dir=../..", page + "?file=/etc/passwd", page + "?file=a%5Cb",
		page + "?dir=model/../..", files + "..%2F..%2F" + other.Info.ID + "%2Fartifacts%2Fsecret.txt", files + "model%2F..%2F..%2Fx",
		files + "%2Fetc%2Fpasswd", files + "a%5C..%5Cb",
	} {
		w = e.get(target, root)
		if w.Code != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", target, w.Code)
		}
		wantNoBody(t, w, "other run's secret")
	}
	// Unescaped dots are cleaned by the router into a redirect, never served.
	w = e.get(files+"../../"+other.Info.ID+"/artifacts/secret.txt", root)
	if w.Code == http.StatusOK {
		t.Errorf("dot-dot path served: %d", w.Code)
	}
	outside := filepath.Join(t.TempDir(), "outside.txt")
	if err := os.WriteFile(outside, []byte("outside the store"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(blobDir, filepath.FromSlash(rootKey), "link.txt")); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{files + "link.txt", page + "?file=link.txt"} {
		w = e.get(target, root)
		if w.Code != http.StatusBadRequest {
			t.Errorf("GET %s through a symlink = %d, want 400", target, w.Code)
		}
		wantNoBody(t, w, "outside the store")
	}

	// A viewer may browse and download; a stranger sees nothing.
	e.mustUser("vera", false)
	if _, err := e.projects.SetMember(ctx, p, "vera", auth.RoleViewer); err != nil {
		t.Fatal(err)
	}
	_, vera, err := e.auth.Login(context.Background(), "vera", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.get(page+"?file=notes.txt", vera), http.StatusOK)
	wantStatus(t, e.get(files+"plot.png", vera), http.StatusOK)
	stranger := e.mustUser("sam", false)
	wantStatus(t, e.get(files+"plot.png", stranger), http.StatusNotFound)
	wantStatus(t, e.get(page, stranger), http.StatusNotFound)
}

// TestRunArtifactsWithoutStore: a UI without a blob store says so on the
// run page and has no bytes route.
func TestRunArtifactsWithoutStore(t *testing.T) {
	e := newEnv(t)
	root := e.mustUser("root", true)
	p := e.mustProject(root, "BAL", "Balloons")
	run, err := e.track.CreateRun(e.ctx(root), p, tracking.NewRun{ExperimentID: "0"})
	if err != nil {
		t.Fatal(err)
	}
	w := e.get("/p/BAL/runs/"+run.Info.ID, root)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "no artifact store configured")
	wantStatus(t, e.get("/p/BAL/runs/"+run.Info.ID+"/artifacts/x.txt", root), http.StatusNotFound)
}

func wantHeaders(t *testing.T, w interface{ Header() http.Header }, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// TestRunPageNested: a run page lists its nested runs and a nested run
// links back to its parent.
func TestRunPageNested(t *testing.T) {
	e := newEnv(t)
	root := e.mustUser("root", true)
	p := e.mustProject(root, "BAL", "Balloons")
	ctx := e.ctx(root)
	parent, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "0", Name: "sweep"})
	if err != nil {
		t.Fatal(err)
	}
	var kids []*tracking.Run
	for _, name := range []string{"trial a", "trial b"} {
		k, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "0", Name: name, Tags: []tracking.Tag{{Key: tracking.TagParentRun, Value: parent.Info.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, k)
	}
	w := e.get("/p/BAL/runs/"+parent.Info.ID, root)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `id="children-title">Nested runs<`, `href="/p/BAL/runs/`+kids[0].Info.ID+`">trial a</a>`, `href="/p/BAL/runs/`+kids[1].Info.ID+`">trial b</a>`)
	w = e.get("/p/BAL/runs/"+kids[0].Info.ID, root)
	wantBody(t, w, `<dt>Parent run</dt><dd><a href="/p/BAL/runs/`+parent.Info.ID+`">`)
	wantNoBody(t, w, "Nested runs")
}

// TestRunPageDatasets lists the datasets a run logged with their input
// tags, escaped like every other value.
func TestRunPageDatasets(t *testing.T) {
	e := newEnv(t)
	root := e.mustUser("root", true)
	p := e.mustProject(root, "BAL", "Balloons")
	ctx := e.ctx(root)
	run, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "0", Name: "train"})
	if err != nil {
		t.Fatal(err)
	}
	w := e.get("/p/BAL/runs/"+run.Info.ID, root)
	wantBody(t, w, `id="datasets-title">Datasets<`, "No datasets logged")
	in := tracking.DatasetInput{
		Dataset: tracking.Dataset{Name: "balloons-v3<b>", Digest: "8f3a91c2", SourceType: "s3", Source: `{"uri": "s3://photos/v3"}`},
		Tags:    []tracking.Tag{{Key: "mlflow.data.context", Value: "training"}},
	}
	if err := e.track.LogInputs(ctx, p, run.Info.ID, []tracking.DatasetInput{in}); err != nil {
		t.Fatal(err)
	}
	w = e.get("/p/BAL/runs/"+run.Info.ID, root)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `<tr data-dataset="balloons-v3&lt;b&gt;">`, "8f3a91c2", `<span class="badge">s3</span>`, "mlflow.data.context=training")
	wantNoBody(t, w, "No datasets logged", "balloons-v3<b>")
}
