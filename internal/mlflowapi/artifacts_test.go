package mlflowapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestArtifactExperimentAliases walks every spelling of an experiment id
// that is not the experiment's own (MLflow's "0" alias of Default and its
// variants, leading zeros, signs, other bases, spaces) as the first segment
// of an artifact path through every artifact operation, on both mounts and
// both databases: each is refused with INVALID_PARAMETER_VALUE, nothing is
// stored under it, and what one project writes is never reachable from
// another's experiment 0.
func TestArtifactExperimentAliases(t *testing.T) {
	apptest.Backends(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.Start(t, b)
		expID, runID := a.NewRun()
		cat := a.MLflow("other", "POST", "/p/CAT/api/2.0/mlflow/runs/create", `{}`)["run"].(map[string]any)["info"].(map[string]any)
		catExp := cat["experiment_id"].(string)
		n, err := strconv.ParseInt(expID, 10, 64)
		if err != nil || expID == catExp {
			t.Fatalf("experiment ids %q %q", expID, catExp)
		}
		// Files left by the old layout: under the experiment's own id they
		// are where they always were; under "0", shared by every project's
		// Default experiment, they cannot be attributed and stay unreachable.
		root := filepath.Join(a.Config.Artifacts, "mlflow")
		for p, body := range map[string]string{filepath.Join(expID, runID, "artifacts", "legacy.txt"): "old", filepath.Join("0", "shared-old.txt"): "unattributed"} {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, p), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		// The probe's request: project BAL writes under experiment 0, and
		// project CAT must not see it under its own experiment 0.
		if status, _ := a.Do("editor", "PUT", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/0/shared.txt", strings.NewReader("from BAL")); status != 400 {
			t.Errorf("PUT under experiment 0: %d, want 400", status)
		}
		for _, alias := range []string{"0", "-0"} {
			if status, body := a.Do("other", "GET", "/p/CAT/api/2.0/mlflow-artifacts/artifacts/"+alias+"/shared.txt", nil); status == 200 || strings.Contains(string(body), "from BAL") {
				t.Errorf("project CAT read BAL's file through %q: %d %s", alias, status, body)
			}
		}

		aliases := []string{"0", "-0", "00", "+0", "000", "0.0", "0e0", "0x0", " 0", "0 ", "\t0", "01", "+1", "0x1", "1e0", "1.0", "0b1", "1_0",
			"0" + expID, "00" + expID, "+" + expID, "+0" + expID, expID + ".0", expID + "e0", "0x" + strconv.FormatInt(n, 16), " " + expID, expID + " ",
			"0" + catExp, "+" + catExp, "９", "1" + strings.Repeat("0", 20), "-" + expID}
		upload := func(user, mount, exp string) string {
			t.Helper()
			status, body := a.Do(user, "POST", mount+"/api/2.0/mlflow-artifacts/mpu/create/"+exp+"/"+runID+"/artifacts", strings.NewReader(`{"path":"m.bin","num_parts":1}`))
			if status != 200 {
				t.Fatalf("mpu create on %s: %d %s", exp, status, body)
			}
			var out struct {
				UploadID string `json:"upload_id"`
			}
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatal(err)
			}
			return out.UploadID
		}
		id := upload("editor", "/p/BAL", expID)
		var cases []apptest.Case
		for _, mount := range []string{"/p/BAL", ""} {
			for _, alias := range aliases {
				dir := url.PathEscape(alias) + "/" + runID + "/artifacts"
				art := mount + "/api/2.0/mlflow-artifacts/"
				mpu := func(verb string) apptest.Case {
					return apptest.Case{User: "editor", Method: "POST", Path: art + "mpu/" + verb + "/" + dir,
						Body: `{"path":"m.bin","num_parts":1,"upload_id":"` + id + `","parts":[{"part_number":1,"etag":"x"}]}`}
				}
				for _, c := range []apptest.Case{
					{User: "editor", Method: "PUT", Path: art + "artifacts/" + dir + "/f.txt", Body: "x"},
					{User: "editor", Method: "GET", Path: art + "artifacts/" + dir + "/f.txt"},
					{User: "editor", Method: "GET", Path: art + "artifacts?path=" + url.QueryEscape(alias+"/"+runID+"/artifacts")},
					{User: "editor", Method: "GET", Path: art + "artifacts?path=" + url.QueryEscape(alias)},
					{User: "editor", Method: "DELETE", Path: art + "artifacts/" + dir + "/f.txt"},
					{User: "editor", Method: "DELETE", Path: art + "artifacts/" + url.PathEscape(alias)},
					mpu("create"), mpu("complete"), mpu("abort"),
				} {
					c.Name = fmt.Sprintf("%s %s (alias %q)", c.Method, c.Path, alias)
					c.Status, c.Contains = 400, []string{"INVALID_PARAMETER_VALUE"}
					cases = append(cases, c)
				}
			}
		}
		a.Check(t, cases)

		// The experiment's own id works; another project's is not found
		// from here, on either mount.
		own := "/api/2.0/mlflow-artifacts/artifacts/" + expID + "/" + runID + "/artifacts/ok.txt"
		a.Check(t, []apptest.Case{
			{User: "editor", Method: "PUT", Path: "/p/BAL" + own, Body: "mine", Status: 200},
			{User: "viewer", Method: "GET", Path: own, Status: 200, Contains: []string{"mine"}},
			{User: "viewer", Method: "GET", Path: "/p/BAL/api/2.0/mlflow-artifacts/artifacts?path=" + expID + "/" + runID + "/artifacts", Status: 200, Contains: []string{`"path":"ok.txt"`}},
			{User: "other", Method: "GET", Path: "/p/CAT" + own, Status: 404, Contains: []string{"RESOURCE_DOES_NOT_EXIST"}},
			{User: "other", Method: "GET", Path: own, Status: 404, Contains: []string{"RESOURCE_DOES_NOT_EXIST"}},
			{User: "other", Method: "PUT", Path: own, Body: "theirs", Status: 404},
			{User: "other", Method: "DELETE", Path: own, Status: 404},
			{User: "other", Method: "GET", Path: "/api/2.0/mlflow-artifacts/artifacts?path=" + expID, Status: 404},
			{User: "other", Method: "POST", Path: "/api/2.0/mlflow-artifacts/mpu/abort/" + expID + "/" + runID + "/artifacts", Body: `{"path":"m.bin","upload_id":"` + id + `"}`, Status: 404},
			{User: "editor", Method: "GET", Path: "/api/2.0/mlflow-artifacts/artifacts/99999/x", Status: 404, Contains: []string{"RESOURCE_DOES_NOT_EXIST"}},
			{User: "viewer", Method: "GET", Path: own, Status: 200, Contains: []string{"mine"}},
			{User: "viewer", Method: "GET", Path: "/p/BAL/api/2.0/mlflow-artifacts/artifacts/" + expID + "/" + runID + "/artifacts/legacy.txt", Status: 200, Contains: []string{"old"}},
			{User: "viewer", Method: "GET", Path: "/p/BAL/api/2.0/mlflow/artifacts/list?run_id=" + runID, Status: 200, Contains: []string{`"legacy.txt"`, `"ok.txt"`}},
		})
		// Nothing was stored under any folder but the experiments' own ids,
		// and the old shared folder was neither changed nor removed.
		es, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Name() != expID && e.Name() != catExp && e.Name() != "0" {
				t.Errorf("artifact folder %q is not an experiment's id", e.Name())
			}
		}
		if es, err := os.ReadDir(filepath.Join(root, "0")); err != nil || len(es) != 1 || es[0].Name() != "shared-old.txt" {
			t.Errorf("the old folder of experiment 0 changed: %v %v", es, err)
		}
	})
}

// TestArtifactUploadTruncated sends artifact uploads whose bodies end
// before their Content-Length, over a raw connection that then closes its
// sending side or the whole connection, and malformed multipart bodies:
// each is the client's fault and answers 400 (never 500, in the answer or
// in /metrics), and nothing of a short upload is stored.
func TestArtifactUploadTruncated(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	expID, runID := a.NewRun()
	dir := "/p/BAL/api/2.0/mlflow-artifacts/artifacts/" + expID + "/" + runID + "/artifacts/"
	host := strings.TrimPrefix(a.URL, "http://")
	// short sends a request head announcing 100,000 bytes and 1,000 of
	// them; then it closes the connection's sending side and returns the
	// answer's status, or (abort) closes the whole connection and returns 0.
	short := func(method, target string, abort bool, header ...string) int {
		t.Helper()
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		head := method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + a.Token("editor") + "\r\nContent-Length: 100000\r\n"
		for i := 0; i+1 < len(header); i += 2 {
			head += header[i] + ": " + header[i+1] + "\r\n"
		}
		if _, err := io.WriteString(conn, head+"\r\n"+strings.Repeat("x", 1000)); err != nil {
			t.Fatal(err)
		}
		if abort {
			return 0
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 400 && !strings.Contains(string(b), "INVALID_PARAMETER_VALUE") {
			t.Errorf("%s %s: 400 without MLflow's error: %s", method, target, b)
		}
		return resp.StatusCode
	}
	if status := short("PUT", dir+"short.bin", false); status != 400 {
		t.Errorf("PUT with a short body: %d, want 400", status)
	}
	short("PUT", dir+"aborted.bin", true)

	status, b := a.Do("editor", "POST", "/p/BAL/api/2.0/mlflow-artifacts/mpu/create/"+expID+"/"+runID+"/artifacts", strings.NewReader(`{"path":"m.bin","num_parts":2}`))
	var up struct {
		UploadID    string `json:"upload_id"`
		Credentials []struct {
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(b, &up); status != 200 || err != nil || len(up.Credentials) != 2 {
		t.Fatalf("mpu create: %d %s", status, b)
	}
	secret := up.Credentials[0].Headers["X-Trellis-Upload-Secret"]
	part := strings.TrimPrefix(up.Credentials[0].URL, a.URL)
	if status := short("PUT", part, false, "X-Trellis-Upload-Secret", secret); status != 400 {
		t.Errorf("part with a short body: %d, want 400", status)
	}
	short("PUT", part, true, "X-Trellis-Upload-Secret", secret)
	mpu := "/p/BAL/api/2.0/mlflow-artifacts/mpu/"
	if status := short("POST", mpu+"complete/"+expID+"/"+runID+"/artifacts", false, "Content-Type", "application/json"); status != 400 {
		t.Errorf("mpu complete with a short body: %d, want 400", status)
	}
	// Malformed multipart bodies.
	bad := func(verb, body string) apptest.Case {
		return apptest.Case{User: "editor", Method: "POST", Path: mpu + verb + "/" + expID + "/" + runID + "/artifacts", Body: body, Status: 400, Contains: []string{"INVALID_PARAMETER_VALUE"}}
	}
	id := up.UploadID
	a.Check(t, []apptest.Case{
		bad("create", `{"path":"m.bin","num_parts":`),
		bad("create", `{"path":"m.bin","num_parts":"many"}`),
		bad("create", `{"path":"m.bin","num_parts":0}`),
		bad("create", `{"path":["m.bin"],"num_parts":1}`),
		bad("create", `[]`),
		bad("complete", `{"path":"m.bin","upload_id":"`+id+`","parts":`),
		bad("complete", `{"path":"m.bin","upload_id":"`+id+`","parts":"all"}`),
		bad("complete", `{"path":"m.bin","upload_id":"`+id+`","parts":[{"part_number":"one","etag":"x"}]}`),
		bad("complete", `{"path":"m.bin","upload_id":"`+id+`","parts":[{"part_number":1,"etag":7}]}`),
		bad("complete", `{"path":"m.bin","upload_id":"`+id+`","parts":[{"part_number":1,"etag":"\"0000\""}]}`),
		bad("complete", `{"path":"m.bin","upload_id":"`+id+`","parts":[{"part_number":2},{"part_number":1}]}`),
		bad("complete", `{"path":"m.bin","upload_id":"`+id+`","parts":[]}`),
		bad("complete", `{"path":"m.bin","upload_id":`+strconv.Quote(id+"\x00")+`,"parts":[{"part_number":1}]}`),
		bad("abort", `{"path":"m.bin","upload_id":7}`),
		bad("abort", `{"path":"m.bin","upload_id":"`+id),
		{User: "editor", Method: "GET", Path: dir + "short.bin", Status: 404},
		{User: "editor", Method: "GET", Path: dir + "aborted.bin", Status: 404},
		{User: "editor", Method: "GET", Path: dir + "m.bin", Status: 404},
	})
	// The aborted requests are counted as the client's errors too, once the
	// server has seen both ends (it observes them after the client left).
	req, _ := http.NewRequest("GET", a.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+a.Token("root"))
	for i := 0; ; i++ {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if lines := metricLines(string(m), `code="5`); lines != "" {
			t.Fatalf("/metrics counts a server error:\n%s", lines)
		}
		put := metricLines(string(m), `route="PUT /p/{key}/api/2.0/mlflow-artifacts/artifacts/{path...}"`)
		part := metricLines(string(m), `route="PUT /p/{key}/api/2.0/mlflow-artifacts/mpu/part/{upload}/{part}"`)
		if strings.HasSuffix(put, " 2") && strings.HasSuffix(part, " 2") {
			break
		}
		if i == 100 {
			t.Fatalf("the aborted uploads were not counted:\n%s\n%s", put, part)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metricLines returns the lines of a /metrics answer that hold sub.
func metricLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestArtifactListRelative lists the proxied artifacts as MLflow's client
// does (GET mlflow-artifacts/artifacts?path=…) and requires MLflow's own
// server's answers byte for byte, compared side by side with `mlflow
// server` 3.11 for the same uploads: each file's path relative to the
// folder asked for, sorted by name, file_size only for a non-empty file,
// and {} for an empty folder, a file and a missing path.
func TestArtifactListRelative(t *testing.T) {
	apptest.Backends(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.Start(t, b)
		expID, runID := a.NewRun()
		root := expID + "/" + runID + "/artifacts"
		for p, body := range map[string]string{"model/sub/x.txt": "x", "model/m.bin": "12345", "a.txt": "hello", "zero.txt": ""} {
			if status, b := a.Do("editor", "PUT", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+root+"/"+p, strings.NewReader(body)); status != 200 {
				t.Fatalf("upload %s: %d %s", p, status, b)
			}
		}
		if err := os.MkdirAll(filepath.Join(a.Config.Artifacts, "mlflow", expID, runID, "artifacts", "empty"), 0o700); err != nil {
			t.Fatal(err)
		}
		want := []struct{ path, body string }{
			{root, `{"files":[{"path":"a.txt","is_dir":false,"file_size":5},{"path":"empty","is_dir":true},{"path":"model","is_dir":true},{"path":"zero.txt","is_dir":false}]}`},
			{root + "/model", `{"files":[{"path":"m.bin","is_dir":false,"file_size":5},{"path":"sub","is_dir":true}]}`},
			{root + "/model/sub", `{"files":[{"path":"x.txt","is_dir":false,"file_size":1}]}`},
			{root + "/model/sub/", `{"files":[{"path":"x.txt","is_dir":false,"file_size":1}]}`},
			{expID, `{"files":[{"path":"` + runID + `","is_dir":true}]}`},
			{root + "/model/m.bin", `{}`},
			{root + "/empty", `{}`},
			{root + "/missing", `{}`},
			{"", `{}`},
		}
		for _, mount := range []string{"/p/BAL", ""} {
			for _, w := range want {
				target := mount + "/api/2.0/mlflow-artifacts/artifacts"
				if w.path != "" {
					target += "?path=" + url.QueryEscape(w.path)
				}
				status, got := a.Do("viewer", "GET", target, nil)
				if status != 200 || strings.TrimSpace(string(got)) != w.body {
					t.Errorf("GET %s = %d\n got  %s\n want %s", target, status, got, w.body)
				}
			}
		}
		// The tracking API's artifacts/list keeps its paths relative to the
		// run's root, as MLflow's does.
		a.Check(t, []apptest.Case{{User: "viewer", Method: "GET", Path: "/p/BAL/api/2.0/mlflow/artifacts/list?run_id=" + runID + "&path=model", Status: 200,
			Contains: []string{`"files":[{"path":"model/m.bin","is_dir":false,"file_size":5},{"path":"model/sub","is_dir":true}]`}}})
	})
}
