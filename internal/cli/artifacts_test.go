package cli

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestArtifactPathTricks replays the path tricks used against MLflow's
// artifact handlers on every artifact operation and checks that a canary
// file outside the artifact root is never read, changed or removed, that
// nothing is written outside the root, and that no trick causes a 500.
func TestArtifactPathTricks(t *testing.T) {
	f := startFixture(t, "")
	const secret = "canary-secret-do-not-leak"
	canary := filepath.Join(f.cfg.DataDir, "canary.txt")
	if err := os.WriteFile(canary, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	expID, runID := f.mlflowRun()
	runDir := expID + "/" + runID + "/artifacts"
	// A legitimate upload, then a symlink inside the run's directory that
	// points at the canary and one that points at the data directory.
	if status, b := f.do("editor", "PUT", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+runDir+"/ok.txt", strings.NewReader("fine")); status != 200 {
		t.Fatalf("upload: %d %s", status, b)
	}
	onDisk := filepath.Join(f.cfg.Artifacts, "mlflow", filepath.FromSlash(runDir))
	if err := os.Symlink(canary, filepath.Join(onDisk, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(f.cfg.DataDir, filepath.Join(onDisk, "linkdir")); err != nil {
		t.Fatal(err)
	}
	outside := snapshot(t, f.cfg.DataDir, f.cfg.Artifacts)

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
				status, b := f.do("editor", m, pre+trick, strings.NewReader("overwritten"))
				check(m+" "+pre+trick, status, b)
			}
		}
		for _, q := range []string{
			"/p/BAL/api/2.0/mlflow-artifacts/artifacts?path=" + trick,
			"/p/BAL/api/2.0/mlflow-artifacts/artifacts?path=" + runDir + "/" + trick,
			"/p/BAL/api/2.0/mlflow/artifacts/list?run_id=" + runID + "&path=" + trick,
		} {
			status, b := f.do("viewer", "GET", q, nil)
			check("list "+q, status, b)
		}
	}
	// Multipart uploads: tricks in the body's path (whose last element names
	// the artifact), in the upload id and in the part number, through
	// create, part PUTs, complete and abort.
	mpu := "/p/BAL/api/2.0/mlflow-artifacts/mpu/"
	for _, trick := range tricks {
		body, _ := json.Marshal(map[string]any{"path": trick, "num_parts": 1})
		status, b := f.do("editor", "POST", mpu+"create/"+runDir, bytes.NewReader(body))
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
			status, b = f.do("", "PUT", strings.TrimPrefix(c.URL, f.base), strings.NewReader("overwritten"), "X-Trellis-Upload-Secret", c.Headers["X-Trellis-Upload-Secret"])
			check("mpu part "+trick, status, b)
			done, _ := json.Marshal(map[string]any{"path": trick, "upload_id": up.UploadID, "parts": []map[string]any{{"part_number": 1}}})
			status, b = f.do("editor", "POST", mpu+"complete/"+runDir, bytes.NewReader(done))
			check("mpu complete "+trick, status, b)
		}
		for _, id := range []string{trick, "00000000000000000000000000000000"} {
			for _, verb := range []string{"complete", "abort"} {
				body, _ := json.Marshal(map[string]any{"path": trick, "upload_id": id, "parts": []map[string]any{{"part_number": 1}}})
				status, b := f.do("editor", "POST", mpu+verb+"/"+runDir, bytes.NewReader(body))
				check("mpu "+verb+" "+trick, status, b)
			}
		}
		for _, p := range []string{"part/" + trick + "/1", "part/00000000000000000000000000000000/" + trick, "part/" + trick} {
			status, b := f.do("", "PUT", mpu+p, strings.NewReader("overwritten"), "X-Trellis-Upload-Secret", "x")
			check("mpu PUT "+p, status, b)
		}
	}
	if got, err := os.ReadFile(canary); err != nil || string(got) != secret {
		t.Fatalf("canary changed: %q %v", got, err)
	}
	if after := snapshot(t, f.cfg.DataDir, f.cfg.Artifacts); after != outside {
		t.Fatalf("files outside the artifact root changed:\nbefore %s\nafter  %s", outside, after)
	}
	// The legitimate file is still served, as an attachment with nosniff.
	status, b := f.do("viewer", "GET", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+runDir+"/ok.txt", nil)
	if status != 200 || string(b) != "fine" {
		t.Fatalf("legitimate download: %d %q", status, b)
	}
	req, _ := http.NewRequest("GET", f.base+"/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+runDir+"/ok.txt", nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens["viewer"])
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
	status, _ = f.do("other", "GET", "/p/CAT/api/2.0/mlflow-artifacts/artifacts/"+runDir+"/ok.txt", nil)
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
