package mlflowapi_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
)

// TestMultipartUpload drives MLflow's multipart upload as its client does:
// mpu/create on the artifact's directory with the local file's path, one
// PUT per part to the credential's URL with only the credential's headers
// (no tracking token), mpu/complete with the ETags, then a download.
func TestMultipartUpload(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	expID, runID := a.NewRun()
	dir := expID + "/" + runID + "/artifacts/model"
	type credential struct {
		URL        string            `json:"url"`
		PartNumber int               `json:"part_number"`
		Headers    map[string]string `json:"headers"`
	}
	create := func(user, mount, local string, parts int) (string, []credential) {
		t.Helper()
		status, b := a.Do(user, "POST", mount+"/api/2.0/mlflow-artifacts/mpu/create/"+dir, strings.NewReader(`{"path":`+strconv.Quote(local)+`,"num_parts":`+strconv.Itoa(parts)+`}`))
		if status != 200 {
			t.Fatalf("mpu create: %d %s", status, b)
		}
		var out struct {
			UploadID    string       `json:"upload_id"`
			Credentials []credential `json:"credentials"`
		}
		if err := json.Unmarshal(b, &out); err != nil || len(out.Credentials) != parts {
			t.Fatalf("mpu create answer: %s", b)
		}
		return out.UploadID, out.Credentials
	}
	put := func(c credential, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("PUT", c.URL, strings.NewReader(body))
		for k, v := range c.Headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("ETag")
	}
	id, creds := create("editor", "/p/BAL", "/home/ada/weights.bin", 3)
	if !strings.HasPrefix(creds[0].URL, a.URL+"/p/BAL/api/2.0/mlflow-artifacts/mpu/part/"+id+"/") {
		t.Fatalf("part URL %s", creds[0].URL)
	}
	chunks := []string{strings.Repeat("a", 1000), strings.Repeat("b", 1000), "tail"}
	etags := make([]string, 3)
	for _, i := range []int{2, 0, 1} { // any order, as the client's thread pool does
		status, etag := put(creds[i], chunks[i])
		if status != 200 || etag == "" {
			t.Fatalf("part %d: %d %q", i+1, status, etag)
		}
		etags[i] = etag
	}
	// The secret is the part URL's authority: without it, or with another
	// upload's, a part is refused.
	bad := creds[0]
	bad.Headers = map[string]string{"X-Trellis-Upload-Secret": "guess"}
	if status, _ := put(bad, "evil"); status != 403 {
		t.Fatalf("part with a wrong secret: %d", status)
	}
	// Only the upload's own path completes it, and only for an editor of
	// the project.
	parts := `[{"part_number":1,"etag":` + strconv.Quote(etags[0]) + `},{"part_number":2,"etag":` + strconv.Quote(etags[1]) + `},{"part_number":3,"etag":` + strconv.Quote(etags[2]) + `}]`
	if status, b := a.Do("editor", "POST", "/p/BAL/api/2.0/mlflow-artifacts/mpu/complete/"+dir, strings.NewReader(`{"path":"other.bin","upload_id":"`+id+`","parts":`+parts+`}`)); status != 400 {
		t.Fatalf("complete for another path: %d %s", status, b)
	}
	if status, b := a.Do("viewer", "POST", "/p/BAL/api/2.0/mlflow-artifacts/mpu/complete/"+dir, strings.NewReader(`{"path":"weights.bin","upload_id":"`+id+`","parts":`+parts+`}`)); status != 403 {
		t.Fatalf("complete as viewer: %d %s", status, b)
	}
	if status, b := a.Do("other", "POST", "/p/CAT/api/2.0/mlflow-artifacts/mpu/complete/"+dir, strings.NewReader(`{"path":"weights.bin","upload_id":"`+id+`","parts":`+parts+`}`)); status != 404 {
		t.Fatalf("complete from another project: %d %s", status, b)
	}
	if status, b := a.Do("editor", "POST", "/p/BAL/api/2.0/mlflow-artifacts/mpu/complete/"+dir, strings.NewReader(`{"path":"/home/ada/weights.bin","upload_id":"`+id+`","parts":`+parts+`}`)); status != 200 {
		t.Fatalf("complete: %d %s", status, b)
	}
	status, b := a.Do("viewer", "GET", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+dir+"/weights.bin", nil)
	if status != 200 || string(b) != strings.Join(chunks, "") {
		t.Fatalf("download: %d %d bytes", status, len(b))
	}
	if status, _ := put(creds[0], "late"); status != 404 {
		t.Fatalf("part after complete: %d", status)
	}
	// Abort at the root mount: the parts go, nothing appears.
	id, creds = create("editor", "", "C:\\data\\aborted.bin", 2)
	if !strings.HasPrefix(creds[1].URL, a.URL+"/api/2.0/mlflow-artifacts/mpu/part/"+id+"/2") {
		t.Fatalf("root part URL %s", creds[1].URL)
	}
	if status, _ := put(creds[0], "x"); status != 200 {
		t.Fatalf("part: %d", status)
	}
	if status, b := a.Do("editor", "POST", "/api/2.0/mlflow-artifacts/mpu/abort/"+dir, strings.NewReader(`{"path":"aborted.bin","upload_id":"`+id+`"}`)); status != 200 {
		t.Fatalf("abort: %d %s", status, b)
	}
	if status, _ := put(creds[1], "y"); status != 404 {
		t.Fatalf("part after abort: %d", status)
	}
	if status, _ := a.Do("viewer", "GET", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+dir+"/aborted.bin", nil); status != 404 {
		t.Fatalf("aborted upload appeared: %d", status)
	}
	es, err := os.ReadDir(filepath.Join(a.Config.Artifacts, ".multipart"))
	if err != nil || len(es) != 0 {
		t.Fatalf("uploads left behind: %v %v", es, err)
	}
}

// TestArtifactPathTricks replays the path tricks used against MLflow's
// artifact handlers on every artifact operation and checks that a canary
// file outside the artifact root is never read, changed or removed, that
// nothing is written outside the root, and that no trick causes a 500.
func TestArtifactPathTricks(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	const secret = "canary-secret-do-not-leak"
	canary := filepath.Join(a.Config.DataDir, "canary.txt")
	if err := os.WriteFile(canary, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	expID, runID := a.NewRun()
	runDir := expID + "/" + runID + "/artifacts"
	// A legitimate upload, then a symlink inside the run's directory that
	// points at the canary and one that points at the data directory.
	if status, b := a.Do("editor", "PUT", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+runDir+"/ok.txt", strings.NewReader("fine")); status != 200 {
		t.Fatalf("upload: %d %s", status, b)
	}
	onDisk := filepath.Join(a.Config.Artifacts, "mlflow", filepath.FromSlash(runDir))
	if err := os.Symlink(canary, filepath.Join(onDisk, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(a.Config.DataDir, filepath.Join(onDisk, "linkdir")); err != nil {
		t.Fatal(err)
	}
	outside := snapshot(t, a.Config.DataDir, a.Config.Artifacts)

	tricks := []string{
		"../../../../canary.txt", "..%2f..%2f..%2f..%2fcanary.txt", "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fcanary.txt",
		"%252e%252e%252f%252e%252e%252fcanary.txt", "..\\..\\..\\..\\canary.txt", "..%5c..%5c..%5ccanary.txt",
		"x/../../../../../canary.txt", "a#/../../../../canary.txt", "a?/../../../../canary.txt", "a;/../../../../canary.txt",
		"/etc/passwd", "%2fetc%2fpasswd", "C:\\Windows\\win.ini", "C:/Windows/win.ini", "file:///etc/passwd", "file:%2f%2f%2fetc%2fpasswd",
		"link.txt", "linkdir/canary.txt", "linkdir/artifacts/x", "ok.txt%00.png", "....//....//canary.txt", ".",
	}
	prefixes := []string{"/p/BAL/api/2.0/mlflow-artifacts/artifacts/" + runDir + "/", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/",
		"/p/BAL/api/2.0/mlflow-artifacts/mpu/create/" + runDir + "/", "/p/BAL/api/2.0/mlflow-artifacts/mpu/complete/", "/p/BAL/api/2.0/mlflow-artifacts/mpu/abort/" + runDir + "/"}
	check := func(what string, status int, b []byte) {
		t.Helper()
		if status >= 500 {
			t.Errorf("%s: status %d %s", what, status, b)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s leaked the canary", what)
		}
	}
	for _, trick := range tricks {
		for _, pre := range prefixes {
			for _, m := range []string{"GET", "PUT", "DELETE", "POST"} {
				status, b := a.Do("editor", m, pre+trick, strings.NewReader("overwritten"))
				check(m+" "+pre+trick, status, b)
			}
		}
		for _, q := range []string{
			"/p/BAL/api/2.0/mlflow-artifacts/artifacts?path=" + trick,
			"/p/BAL/api/2.0/mlflow-artifacts/artifacts?path=" + runDir + "/" + trick,
			"/p/BAL/api/2.0/mlflow/artifacts/list?run_id=" + runID + "&path=" + trick,
		} {
			status, b := a.Do("viewer", "GET", q, nil)
			check("list "+q, status, b)
		}
	}
	// Multipart uploads: tricks in the body's path (whose last element names
	// the artifact), in the upload id and in the part number, through
	// create, part PUTs, complete and abort.
	mpu := "/p/BAL/api/2.0/mlflow-artifacts/mpu/"
	for _, trick := range tricks {
		body, _ := json.Marshal(map[string]any{"path": trick, "num_parts": 1})
		status, b := a.Do("editor", "POST", mpu+"create/"+runDir, bytes.NewReader(body))
		check("mpu create path "+trick, status, b)
		if status == 200 {
			var up struct {
				UploadID    string `json:"upload_id"`
				Credentials []struct {
					URL     string            `json:"url"`
					Headers map[string]string `json:"headers"`
				} `json:"credentials"`
			}
			if err := json.Unmarshal(b, &up); err != nil || len(up.Credentials) != 1 {
				t.Fatalf("mpu create %q: %s", trick, b)
			}
			c := up.Credentials[0]
			status, b = a.Do("", "PUT", strings.TrimPrefix(c.URL, a.URL), strings.NewReader("overwritten"), "X-Trellis-Upload-Secret", c.Headers["X-Trellis-Upload-Secret"])
			check("mpu part "+trick, status, b)
			done, _ := json.Marshal(map[string]any{"path": trick, "upload_id": up.UploadID, "parts": []map[string]any{{"part_number": 1}}})
			status, b = a.Do("editor", "POST", mpu+"complete/"+runDir, bytes.NewReader(done))
			check("mpu complete "+trick, status, b)
		}
		for _, id := range []string{trick, "00000000000000000000000000000000"} {
			for _, verb := range []string{"complete", "abort"} {
				body, _ := json.Marshal(map[string]any{"path": trick, "upload_id": id, "parts": []map[string]any{{"part_number": 1}}})
				status, b := a.Do("editor", "POST", mpu+verb+"/"+runDir, bytes.NewReader(body))
				check("mpu "+verb+" "+trick, status, b)
			}
		}
		for _, p := range []string{"part/" + trick + "/1", "part/00000000000000000000000000000000/" + trick, "part/" + trick} {
			status, b := a.Do("", "PUT", mpu+p, strings.NewReader("overwritten"), "X-Trellis-Upload-Secret", "x")
			check("mpu PUT "+p, status, b)
		}
	}
	if got, err := os.ReadFile(canary); err != nil || string(got) != secret {
		t.Fatalf("canary changed: %q %v", got, err)
	}
	if after := snapshot(t, a.Config.DataDir, a.Config.Artifacts); after != outside {
		t.Fatalf("files outside the artifact root changed:\nbefore %s\nafter  %s", outside, after)
	}
	// The legitimate file is still served, as an attachment with nosniff.
	status, b := a.Do("viewer", "GET", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+runDir+"/ok.txt", nil)
	if status != 200 || string(b) != "fine" {
		t.Fatalf("legitimate download: %d %q", status, b)
	}
	req, _ := http.NewRequest("GET", a.URL+"/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+runDir+"/ok.txt", nil)
	req.Header.Set("Authorization", "Bearer "+a.Token("viewer"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := resp.Header; h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") ||
		h.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("download headers: %v", h)
	}
	// Another project's member cannot reach this project's artifacts even
	// through their own project's prefix.
	status, _ = a.Do("other", "GET", "/p/CAT/api/2.0/mlflow-artifacts/artifacts/"+runDir+"/ok.txt", nil)
	if status != 404 {
		t.Fatalf("cross-project download: %d", status)
	}
}

// snapshot lists every file under dir except the artifact root and the
// database files, with sizes, as one string.
func snapshot(t *testing.T, dir, skip string) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return filepath.SkipDir
		}
		if strings.Contains(filepath.Base(p), ".db") || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, p+":"+info.Mode().String()+":"+string(rune('0'+info.Size()%10)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
