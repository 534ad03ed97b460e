package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestRunsCLI drives trellis runs and trellis artifacts against a real
// server with runs logged through the MLflow API.
func TestRunsCLI(t *testing.T) {
	f := startFixture(t, "")
	t.Setenv("TRELLIS_CLIENT_CONFIG", filepath.Join(t.TempDir(), "none.json"))
	t.Setenv("TRELLIS_SERVER", f.base)
	t.Setenv("TRELLIS_TOKEN", f.tokens["editor"])
	t.Setenv("TRELLIS_PROJECT", "")
	mlflow := func(path, body string) map[string]any {
		t.Helper()
		status, b := f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/"+path, strings.NewReader(body))
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

	if code, _, errOut := runCLI(t, "", "runs", "list"); code != ExitUsage || !strings.Contains(errOut, "--project") {
		t.Fatalf("runs list without project: %d %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "", "runs", "list", "-p", "BAL", "--filter", "params.lr = '0.01' OR metrics.loss > 0.35", "--order-by", "metrics.loss DESC")
	if code != 0 || !strings.Contains(out, "lr 0.01 BAL-5") || strings.Contains(out, "lr 0.1 BAL-5") {
		t.Fatalf("runs list: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "", "runs", "list", "-p", "BAL", "--filter", "params.lr >"); code != ExitUsage || !strings.Contains(errOut, "column") {
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
	if code, _, errOut := runCLI(t, "", "runs", "link", "-p", "BAL", ids[1], "CAT-1"); code != ExitUsage || !strings.Contains(errOut, "not in project BAL") {
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
	if code, _, errOut := runCLI(t, "", "runs", "list", "-p", "BAL", "--filter", "datasets.nme = 'x'"); code != ExitUsage || !strings.Contains(errOut, "column 1: invalid dataset key") {
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
	_, b := f.do("viewer", "GET", "/p/BAL/api/2.0/mlflow/runs/get?run_id="+ids[0], nil)
	_ = json.Unmarshal(b, &run)
	rel := strings.TrimPrefix(run.Run.Info.ArtifactURI, "mlflow-artifacts:/")
	if status, b := f.do("editor", "PUT", "/p/BAL/api/2.0/mlflow-artifacts/artifacts/"+rel+"/model/notes.txt", strings.NewReader("hello")); status != 200 {
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

// TestRunsPages renders the runs table (with a filter error shown inline),
// the run page and its downsampled chart data through the real server.
func TestRunsPages(t *testing.T) {
	f := startFixture(t, "")
	status, b := f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/create", strings.NewReader(`{"run_name":"web run BAL-4"}`))
	if status != 200 {
		t.Fatal(status, string(b))
	}
	var created struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			} `json:"info"`
		} `json:"run"`
	}
	_ = json.Unmarshal(b, &created)
	id := created.Run.Info.RunID
	var ms []string
	for i := range 1000 {
		ms = append(ms, `{"key":"loss","value":`+strconv.Itoa(1000-i)+`,"timestamp":1,"step":`+strconv.Itoa(i)+`}`)
	}
	if status, b := f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/log-batch", strings.NewReader(`{"run_id":"`+id+`","metrics":[`+strings.Join(ms, ",")+`]}`)); status != 200 {
		t.Fatal(status, string(b))
	}
	if status, b := f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/log-parameter", strings.NewReader(`{"run_id":"`+id+`","key":"lr","value":"0.1"}`)); status != 200 {
		t.Fatal(status, string(b))
	}
	status, b = f.do("viewer", "GET", "/p/BAL/runs", nil)
	if status != 200 || !strings.Contains(string(b), "web run BAL-4") || !strings.Contains(string(b), "metrics.loss") {
		t.Fatalf("runs page: %d", status)
	}
	status, b = f.do("viewer", "GET", "/p/BAL/runs?filter=metrics.loss+%3E&order=metrics.loss+DESC", nil)
	if status != 400 || !strings.Contains(string(b), `id="filter-error"`) || !strings.Contains(string(b), "column 15") {
		t.Fatalf("filter error page: %d %s", status, b)
	}
	status, b = f.do("viewer", "GET", "/p/BAL/runs?filter=params.lr+%3D+%270.1%27&order=params.lr+DESC&columns=params.lr", nil)
	if status != 200 || !strings.Contains(string(b), "web run BAL-4") || !strings.Contains(string(b), "params.lr ↓") {
		t.Fatalf("filtered runs page: %d", status)
	}
	status, b = f.do("viewer", "GET", "/p/BAL/runs/"+id, nil)
	if status != 200 || !strings.Contains(string(b), "BAL-4") || !strings.Contains(string(b), "data-metric-chart") {
		t.Fatalf("run page: %d", status)
	}
	status, b = f.do("viewer", "GET", "/p/BAL/runs/"+id+"/metric.json?key=loss&buckets=100", nil)
	var series struct{ Step, Min, Max []float64 }
	if err := json.Unmarshal(b, &series); status != 200 || err != nil || len(series.Step) != 100 || series.Max[0] != 1000 || series.Min[99] != 1 {
		t.Fatalf("chart series: %d %v %d", status, err, len(series.Step))
	}
	status, b = f.do("viewer", "GET", "/p/BAL/runs/"+id+"/metric.json?key=loss&start=10&end=19&buckets=100", nil)
	if err := json.Unmarshal(b, &series); status != 200 || err != nil || len(series.Step) != 10 {
		t.Fatalf("zoomed series: %d %v %d", status, err, len(series.Step))
	}
	// A second run to compare with.
	status, b = f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/create", strings.NewReader(`{"run_name":"other run"}`))
	_ = json.Unmarshal(b, &created)
	id2 := created.Run.Info.RunID
	f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/log-parameter", strings.NewReader(`{"run_id":"`+id2+`","key":"lr","value":"0.1"}`))
	f.do("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/log-parameter", strings.NewReader(`{"run_id":"`+id2+`","key":"opt","value":"sgd"}`))
	status, b = f.do("viewer", "GET", "/p/BAL/runs/compare?diff=1&run="+id+"&run="+id2, nil)
	if status != 200 || !strings.Contains(string(b), "params.opt") || strings.Contains(string(b), "<th scope=\"row\">params.lr") || !strings.Contains(string(b), "data-compare-chart") {
		t.Fatalf("compare --diff page: %d %s", status, b)
	}
	if status, _ := f.do("viewer", "GET", "/p/BAL/runs/compare?run="+id, nil); status != 400 {
		t.Fatalf("compare of one run: %d", status)
	}
	if status, _ := f.do("other", "GET", "/p/BAL/runs/"+id, nil); status != 404 {
		t.Fatalf("non-member run page: %d", status)
	}
}
