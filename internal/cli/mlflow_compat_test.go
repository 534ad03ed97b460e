package cli

import (
	"encoding/json"
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
