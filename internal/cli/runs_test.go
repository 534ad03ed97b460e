package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
)

// TestRunsCLI drives trellis runs and trellis artifacts against a real
// server with runs logged through the MLflow API.
func TestRunsCLI(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	t.Setenv("TRELLIS_CLIENT_CONFIG", filepath.Join(t.TempDir(), "none.json"))
	t.Setenv("TRELLIS_SERVER", a.URL)
	t.Setenv("TRELLIS_TOKEN", a.Token("editor"))
	t.Setenv("TRELLIS_PROJECT", "")
	mlflow := func(path, body string) map[string]any {
		t.Helper()
		status, b := a.Do("editor", "POST", "/p/BAL/api/2.0/mlflow/"+path, strings.NewReader(body))
		if status != 200 {
			t.Fatalf("%s: %d %s", path, status, b)
		}
		var v map[string]any
		_ = json.Unmarshal(b, &v)
		return v
	}
	var ids []string
	for i, lr := range []string{"0.1", "0.01"} {
		v := mlflow("runs/create", `{"run_name":"lr `+lr+` BAL-5"}`)
		id := v["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
		ids = append(ids, id)
		mlflow("runs/log-batch", `{"run_id":"`+id+`","params":[{"key":"lr","value":"`+lr+`"},{"key":"opt","value":"adam"}],"metrics":[{"key":"loss","value":0.`+string(rune('3'+i))+`,"timestamp":1}]}`)
	}

	if code, _, errOut := runCLI(t, "", "runs", "list"); code != cli.ExitUsage || !strings.Contains(errOut, "--project") {
		t.Fatalf("runs list without project: %d %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "", "runs", "list", "-p", "BAL", "--filter", "params.lr = '0.01' OR metrics.loss > 0.35", "--order-by", "metrics.loss DESC")
	if code != 0 || !strings.Contains(out, "lr 0.01 BAL-5") || strings.Contains(out, "lr 0.1 BAL-5") {
		t.Fatalf("runs list: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "", "runs", "list", "-p", "BAL", "--filter", "params.lr >"); code != cli.ExitUsage || !strings.Contains(errOut, "column") {
		t.Fatalf("bad filter: %d %s", code, errOut)
	}
	code, out, _ = runCLI(t, "", "runs", "show", "-p", "BAL", ids[0], "--json")
	if code != 0 || !strings.Contains(out, `"BAL-5"`) || !strings.Contains(out, `"lr"`) {
		t.Fatalf("runs show: %d %s", code, out)
	}
	code, out, _ = runCLI(t, "", "runs", "compare", "-p", "BAL", ids[0], ids[1], "--diff")
	if code != 0 || !strings.Contains(out, "params.lr") || strings.Contains(out, "params.opt") {
		t.Fatalf("runs compare --diff: %d %s", code, out)
	}
	if code, out, errOut := runCLI(t, "", "runs", "link", "-p", "BAL", ids[1], "BAL-77"); code != 0 {
		t.Fatalf("runs link: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "", "runs", "link", "-p", "BAL", ids[1], "CAT-1"); code != cli.ExitUsage || !strings.Contains(errOut, "not in project BAL") {
		t.Fatalf("runs link other project: %d %s", code, errOut)
	}
	mlflow("runs/log-inputs", `{"run_id":"`+ids[1]+`","datasets":[{"tags":[{"key":"mlflow.data.context","value":"train"}],"dataset":{"name":"balloons-v3","digest":"a1b2c3","source_type":"local","source":"{}"}}]}`)
	code, out, _ = runCLI(t, "", "runs", "show", "-p", "BAL", ids[1])
	if code != 0 || !strings.Contains(out, "ITEMS BAL-5, BAL-77") || !strings.Contains(out, "DATASETS") || !regexp.MustCompile(`balloons-v3\s+a1b2c3\s+local\s+train`).MatchString(out) {
		t.Fatalf("runs show items and datasets: %d %s", code, out)
	}
	code, out, errOut = runCLI(t, "", "runs", "list", "-p", "BAL", "--filter", "datasets.context = 'train' AND datasets.name LIKE 'balloons%'")
	if code != 0 || !strings.Contains(out, "lr 0.01 BAL-5") || strings.Contains(out, "lr 0.1 BAL-5") {
		t.Fatalf("runs list by dataset: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "", "runs", "list", "-p", "BAL", "--filter", "datasets.nme = 'x'"); code != cli.ExitUsage || !strings.Contains(errOut, "column 1: invalid dataset key") {
		t.Fatalf("bad dataset key: %d %s", code, errOut)
	}

	// Artifacts: upload through the proxy at the run's own location.
	var run struct {
		Run struct {
			Info struct {
				ArtifactURI string `json:"artifact_uri"`
			} `json:"info"`
		} `json:"run"`
	}
	_, b := a.Do("viewer", "GET", "/p/BAL/api/2.0/mlflow/runs/get?run_id="+ids[0], nil)
	_ = json.Unmarshal(b, &run)
	rel := strings.TrimPrefix(run.Run.Info.ArtifactURI, "mlflow-artifacts:/")
	if status, b := a.Do("editor", "PUT", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+rel+"/model/notes.txt", strings.NewReader("hello")); status != 200 {
		t.Fatalf("upload: %d %s", status, b)
	}
	code, out, _ = runCLI(t, "", "artifacts", "ls", "-p", "BAL", ids[0], "model")
	if code != 0 || !strings.Contains(out, "model/notes.txt") {
		t.Fatalf("artifacts ls: %d %s", code, out)
	}
	code, out, _ = runCLI(t, "", "artifacts", "get", "-p", "BAL", ids[0], "model/notes.txt", "--out", "-")
	if code != 0 || out != "hello" {
		t.Fatalf("artifacts get: %d %q", code, out)
	}
	dst := filepath.Join(t.TempDir(), "n.txt")
	if code, _, errOut := runCLI(t, "", "artifacts", "get", "-p", "BAL", ids[0], "model/notes.txt", "-o", dst); code != 0 {
		t.Fatalf("artifacts get to file: %d %s", code, errOut)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "hello" {
		t.Fatalf("downloaded %q %v", b, err)
	}
	if code, _, _ := runCLI(t, "", "artifacts", "get", "-p", "BAL", ids[0], "../../etc/passwd", "--out", "-"); code == 0 {
		t.Fatalf("artifacts get with a path trick: %d", code)
	}
}
