package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReadTokenSearchesByPost checks that a read-scoped token may call the
// routes whose rows say they are read-only although they are POSTs (MLflow's
// searches, goal evaluation) and is still refused every write.
func TestReadTokenSearchesByPost(t *testing.T) {
	f := startFixture(t, "")
	status, b := f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", strings.NewReader(`{"name":"ro"}`))
	if status != 200 {
		t.Fatalf("create experiment: %d %s", status, b)
	}
	var exp struct {
		ID string `json:"experiment_id"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	if status, b := f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/create", strings.NewReader(`{"experiment_id":"`+exp.ID+`"}`)); status != 200 {
		t.Fatalf("create run: %d %s", status, b)
	}
	for _, path := range []string{"/p/BAL/api/2.0/mlflow/runs/search", "/api/2.0/mlflow/runs/search"} {
		status, b = f.do("owner-read", "POST", path, strings.NewReader(`{"experiment_ids":["`+exp.ID+`"]}`))
		if status != 200 || !strings.Contains(string(b), `"run_id"`) {
			t.Fatalf("read token POST %s: %d %s", path, status, b)
		}
	}
	status, b = f.do("owner-read", "POST", "/p/BAL/api/2.0/mlflow/experiments/search", strings.NewReader(`{"filter":"name = 'ro'"}`))
	if status != 200 || !strings.Contains(string(b), `"ro"`) {
		t.Fatalf("read token POST experiments/search: %d %s", status, b)
	}
	// Goal evaluation is a read-only POST: the guard lets the read token
	// through, so the answer is about the request (no item), not a 403.
	status, b = f.do("owner-read", "POST", "/api/v1/projects/BAL/goals/evaluate", strings.NewReader(`{"spec":"x"}`))
	if status != 400 || !strings.Contains(string(b), `"item"`) {
		t.Fatalf("read token goals/evaluate: %d %s", status, b)
	}
	for _, w := range []struct{ path, body string }{
		{"/p/BAL/api/2.0/mlflow/runs/create", `{"experiment_id":"` + exp.ID + `"}`},
		{"/api/2.0/mlflow/runs/create", `{"experiment_id":"` + exp.ID + `"}`},
		{"/p/BAL/api/2.0/mlflow/experiments/create", `{"name":"nope"}`},
		{"/p/BAL/api/2.0/mlflow-artifacts/mpu/create/" + exp.ID + "/x/artifacts/a.bin", `{"path":"a.bin","num_parts":1}`},
		{"/api/v1/projects/BAL/items", `{"title":"nope","kind":"development"}`},
	} {
		status, b := f.do("owner-read", "POST", w.path, strings.NewReader(w.body))
		if status != 403 {
			t.Fatalf("read token POST %s: %d %s", w.path, status, b)
		}
	}
}

// TestArtifactLocationRule checks experiments/create with an
// artifact_location: refused by default naming the operator option, and
// accepted under a prefix allowed with --allow-artifact-location.
func TestArtifactLocationRule(t *testing.T) {
	f := startFixture(t, "")
	status, b := f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", strings.NewReader(`{"name":"x","artifact_location":"s3://team/mlflow/x"}`))
	if status != 400 || !strings.Contains(string(b), "INVALID_PARAMETER_VALUE") || !strings.Contains(string(b), "--allow-artifact-location") {
		t.Fatalf("default deny: %d %s", status, b)
	}
	f = startFixtureWith(t, "", func(c *Config) { c.AllowArtifactLocation = []string{"s3://team/mlflow/"} })
	status, b = f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", strings.NewReader(`{"name":"x","artifact_location":"s3://team/mlflow/x"}`))
	if status != 200 {
		t.Fatalf("allowed prefix: %d %s", status, b)
	}
	status, b = f.do("viewer", "GET", "/p/BAL/api/2.0/mlflow/experiments/get-by-name?experiment_name=x", nil)
	if status != 200 || !strings.Contains(string(b), `"artifact_location":"s3://team/mlflow/x"`) {
		t.Fatalf("stored location: %d %s", status, b)
	}
	status, b = f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", strings.NewReader(`{"name":"y","artifact_location":"s3://team/other"}`))
	if status != 400 || !strings.Contains(string(b), "s3://team/mlflow/") {
		t.Fatalf("outside the prefix: %d %s", status, b)
	}
	// The option is validated and shown by trellis config.
	t.Setenv("TRELLIS_ALLOW_ARTIFACT_LOCATION", "s3://team/mlflow/, file:///mnt/shared")
	if code, out, _ := runCLI(t, "", "config"); code != 0 || !strings.Contains(out, "allow-artifact-location") || !strings.Contains(out, "s3://team/mlflow/,file:///mnt/shared") {
		t.Fatalf("config: %d %s", code, out)
	}
	if code, _, errOut := runCLI(t, "", "config", "--allow-artifact-location", "mlflow-artifacts:/1"); code != ExitUsage || !strings.Contains(errOut, "manages itself") {
		t.Fatalf("bad prefix: %d %s", code, errOut)
	}
}

// TestMultipartUpload drives MLflow's multipart upload as its client does:
// mpu/create on the artifact's directory with the local file's path, one
// PUT per part to the credential's URL with only the credential's headers
// (no tracking token), mpu/complete with the ETags, then a download.
func TestMultipartUpload(t *testing.T) {
	f := startFixture(t, "")
	expID, runID := f.mlflowRun()
	dir := expID + "/" + runID + "/artifacts/model"
	type credential struct {
		URL        string            `json:"url"`
		PartNumber int               `json:"part_number"`
		Headers    map[string]string `json:"headers"`
	}
	create := func(user, mount, local string, parts int) (string, []credential) {
		t.Helper()
		status, b := f.do(user, "POST", mount+"/api/2.0/mlflow-artifacts/mpu/create/"+dir, strings.NewReader(`{"path":`+strconv.Quote(local)+`,"num_parts":`+strconv.Itoa(parts)+`}`))
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
	if !strings.HasPrefix(creds[0].URL, f.base+"/p/BAL/api/2.0/mlflow-artifacts/mpu/part/"+id+"/") {
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
	if status, b := f.do("editor", "POST", "/p/BAL/api/2.0/mlflow-artifacts/mpu/complete/"+dir, strings.NewReader(`{"path":"other.bin","upload_id":"`+id+`","parts":`+parts+`}`)); status != 400 {
		t.Fatalf("complete for another path: %d %s", status, b)
	}
	if status, b := f.do("viewer", "POST", "/p/BAL/api/2.0/mlflow-artifacts/mpu/complete/"+dir, strings.NewReader(`{"path":"weights.bin","upload_id":"`+id+`","parts":`+parts+`}`)); status != 403 {
		t.Fatalf("complete as viewer: %d %s", status, b)
	}
	if status, b := f.do("other", "POST", "/p/CAT/api/2.0/mlflow-artifacts/mpu/complete/"+dir, strings.NewReader(`{"path":"weights.bin","upload_id":"`+id+`","parts":`+parts+`}`)); status != 404 {
		t.Fatalf("complete from another project: %d %s", status, b)
	}
	if status, b := f.do("editor", "POST", "/p/BAL/api/2.0/mlflow-artifacts/mpu/complete/"+dir, strings.NewReader(`{"path":"/home/ada/weights.bin","upload_id":"`+id+`","parts":`+parts+`}`)); status != 200 {
		t.Fatalf("complete: %d %s", status, b)
	}
	status, b := f.do("viewer", "GET", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+dir+"/weights.bin", nil)
	if status != 200 || string(b) != strings.Join(chunks, "") {
		t.Fatalf("download: %d %d bytes", status, len(b))
	}
	if status, _ := put(creds[0], "late"); status != 404 {
		t.Fatalf("part after complete: %d", status)
	}
	// Abort at the root mount: the parts go, nothing appears.
	id, creds = create("editor", "", "C:\\data\\aborted.bin", 2)
	if !strings.HasPrefix(creds[1].URL, f.base+"/api/2.0/mlflow-artifacts/mpu/part/"+id+"/2") {
		t.Fatalf("root part URL %s", creds[1].URL)
	}
	if status, _ := put(creds[0], "x"); status != 200 {
		t.Fatalf("part: %d", status)
	}
	if status, b := f.do("editor", "POST", "/api/2.0/mlflow-artifacts/mpu/abort/"+dir, strings.NewReader(`{"path":"aborted.bin","upload_id":"`+id+`"}`)); status != 200 {
		t.Fatalf("abort: %d %s", status, b)
	}
	if status, _ := put(creds[1], "y"); status != 404 {
		t.Fatalf("part after abort: %d", status)
	}
	if status, _ := f.do("viewer", "GET", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+dir+"/aborted.bin", nil); status != 404 {
		t.Fatalf("aborted upload appeared: %d", status)
	}
	es, err := os.ReadDir(filepath.Join(f.cfg.Artifacts, ".multipart"))
	if err != nil || len(es) != 0 {
		t.Fatalf("uploads left behind: %v %v", es, err)
	}
}

// mlflowRun creates a run in BAL's Default experiment as the editor and
// returns the experiment and run ids.
func (f *fixture) mlflowRun() (expID, runID string) {
	f.t.Helper()
	status, b := f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/create", strings.NewReader(`{}`))
	if status != 200 {
		f.t.Fatalf("create run: %d %s", status, b)
	}
	var created struct {
		Run struct {
			Info struct {
				RunID        string `json:"run_id"`
				ExperimentID string `json:"experiment_id"`
			} `json:"info"`
		} `json:"run"`
	}
	if err := json.Unmarshal(b, &created); err != nil {
		f.t.Fatal(err)
	}
	return created.Run.Info.ExperimentID, created.Run.Info.RunID
}
