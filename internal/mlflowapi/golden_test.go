package mlflowapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
)

// update rewrites the golden files under testdata/ instead of comparing:
// go test ./internal/mlflowapi -run TestMLflowGolden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// mlflowStep is one call of the golden conversation. Path and body may use
// ${name} for values captured from earlier answers.
type mlflowStep struct {
	name, user, method, path, body string
	capture                        map[string]string // variable -> JSON path (dot separated)
}

// mlflowConversation drives every MLflow endpoint, successes and the
// errors MLflow answers with, in the order a client would.
var mlflowConversation = []mlflowStep{
	{name: "health", method: "GET", path: "/health"},
	{name: "version", method: "GET", path: "/version"},
	{name: "experiments create", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/create",
		body: `{"name":"churn BAL-3","tags":[{"key":"team","value":"ml"}],"unknown_field":1}`, capture: map[string]string{"exp": "experiment_id"}},
	{name: "experiments create duplicate", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/create", body: `{"name":"churn BAL-3"}`},
	{name: "experiments create missing name", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/create", body: `{}`},
	{name: "experiments create as viewer", user: "viewer", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/create", body: `{"name":"x"}`},
	{name: "experiments get", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/experiments/get?experiment_id=${exp}"},
	{name: "experiments get missing", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/experiments/get?experiment_id=99999"},
	{name: "experiments get-by-name", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/experiments/get-by-name?experiment_name=churn%20BAL-3"},
	{name: "experiments update", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/update", body: `{"experiment_id":"${exp}","new_name":"churn v2 BAL-3"}`},
	{name: "experiments set-experiment-tag", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/set-experiment-tag", body: `{"experiment_id":"${exp}","key":"stage","value":"dev"}`},
	{name: "experiments delete-experiment-tag", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/delete-experiment-tag", body: `{"experiment_id":"${exp}","key":"stage"}`},
	{name: "experiments search GET", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/experiments/search?max_results=10&filter=name%20LIKE%20%27churn%25%27"},
	{name: "experiments search POST", user: "viewer", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/search", body: `{"max_results":1,"order_by":["name ASC"]}`},
	{name: "experiments search syntax error", user: "viewer", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/search", body: `{"filter":"name = 'a' AND AND"}`},
	{name: "runs create", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/create",
		body:    `{"experiment_id":"${exp}","start_time":1700000000000,"tags":[{"key":"mlflow.runName","value":"first BAL-7"},{"key":"mlflow.source.type","value":"LOCAL"}]}`,
		capture: map[string]string{"run": "run.info.run_id"}},
	{name: "runs create second", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/create",
		body: `{"experiment_id":"${exp}","run_name":"second","start_time":1700000001000,"user_id":"someone"}`, capture: map[string]string{"run2": "run.info.run_id"}},
	{name: "runs log-metric", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-metric", body: `{"run_id":"${run}","key":"loss","value":0.5,"timestamp":1700000000100,"step":1}`},
	{name: "runs log-metric NaN", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-metric", body: `{"run_uuid":"${run}","key":"nan","value":"NaN","timestamp":1700000000100}`},
	{name: "runs log-metric missing timestamp", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-metric", body: `{"run_id":"${run}","key":"loss","value":1}`},
	{name: "runs log-parameter", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-parameter", body: `{"run_id":"${run}","key":"lr","value":"0.1"}`},
	{name: "runs log-parameter same value", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-parameter", body: `{"run_id":"${run}","key":"lr","value":"0.1"}`},
	{name: "runs log-parameter changed", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-parameter", body: `{"run_id":"${run}","key":"lr","value":"0.2"}`},
	{name: "runs set-tag", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/set-tag", body: `{"run_id":"${run}","key":"mlflow.note.content","value":"see BAL-9"}`},
	{name: "runs set-tag bad key", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/set-tag", body: `{"run_id":"${run}","key":"../x","value":"v"}`},
	{name: "runs delete-tag", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/delete-tag", body: `{"run_id":"${run}","key":"mlflow.source.type"}`},
	{name: "runs log-batch", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-batch",
		body: `{"run_id":"${run}","metrics":[{"key":"loss","value":0.25,"timestamp":1700000000200,"step":2},{"key":"acc","value":"Infinity","timestamp":1700000000200,"step":2},{"key":"neg","value":"-Infinity","timestamp":1,"step":0}],"params":[{"key":"depth","value":"3"}],"tags":[{"key":"team","value":"ml"}]}`},
	{name: "runs log-batch too many metrics", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-batch", body: `{"run_id":"${run}","metrics":[` + strings.Repeat(`{"key":"m","value":1,"timestamp":1},`, 1000) + `{"key":"m","value":1,"timestamp":1}]}`},
	{name: "runs log-batch wrong type", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-batch", body: `{"run_id":"${run}","params":[{"key":"a","value":3}]}`},
	{name: "runs log-inputs", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-inputs",
		body: `{"run_id":"${run}","datasets":[{"tags":[{"key":"mlflow.data.context","value":"train"}],"dataset":{"name":"balloons","digest":"abc123","source_type":"local","source":"{\"uri\":\"data/train.csv\"}","schema":"{\"mlflow_colspec\":[]}","profile":"{\"num_rows\":120}"}},` +
			`{"dataset":{"name":"balloons","digest":"abc123","source_type":"local","source":"{}"}},{"tags":[{"key":"mlflow.data.context","value":"eval"}],"dataset":{"name":"balloons-val","digest":"def456","source_type":"http","source":"{}"}}]}`},
	{name: "runs log-inputs again keeps the first", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-inputs",
		body: `{"run_id":"${run}","datasets":[{"tags":[{"key":"mlflow.data.context","value":"test"}],"dataset":{"name":"balloons","digest":"abc123","source_type":"s3","source":"{}"}}]}`},
	{name: "runs log-inputs same dataset other run", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-inputs",
		body: `{"run_id":"${run2}","datasets":[{"tags":[{"key":"mlflow.data.context","value":"test"}],"dataset":{"name":"balloons","digest":"abc123","source_type":"s3","source":"ignored"}}]}`},
	{name: "runs log-inputs digest too long", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-inputs",
		body: `{"run_id":"${run}","datasets":[{"dataset":{"name":"x","digest":"` + strings.Repeat("d", 37) + `","source_type":"local","source":"{}"}}]}`},
	{name: "runs log-inputs tag value too long", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-inputs",
		body: `{"run_id":"${run}","datasets":[{"tags":[{"key":"k","value":"` + strings.Repeat("v", 501) + `"}],"dataset":{"name":"x","digest":"d","source_type":"local","source":"{}"}}]}`},
	{name: "runs log-inputs missing source", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-inputs", body: `{"run_id":"${run}","datasets":[{"dataset":{"name":"x","digest":"d","source_type":"local"}}]}`},
	{name: "runs log-inputs as viewer", user: "viewer", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-inputs", body: `{"run_id":"${run}","datasets":[]}`},
	{name: "runs log-model", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-model", body: `{"run_id":"${run2}","model_json":"{\"artifact_path\":\"model\",\"flavors\":{}}"}`},
	{name: "runs update", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/update", body: `{"run_id":"${run}","status":"FINISHED","end_time":1700000009000}`},
	{name: "runs update bad status", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/update", body: `{"run_id":"${run}","status":"DONE"}`},
	{name: "runs get", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/runs/get?run_id=${run}"},
	{name: "runs get by run_uuid", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/runs/get?run_uuid=${run2}"},
	{name: "runs get missing", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/runs/get?run_id=0123456789abcdef0123456789abcdef"},
	{name: "runs search", user: "viewer", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/search",
		body: `{"experiment_ids":["${exp}"],"filter":"metrics.loss < 0.3 and params.depth = '3'","order_by":["metrics.loss DESC"],"max_results":10}`},
	{name: "runs search paged", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/runs/search?experiment_ids=${exp}&max_results=1&order_by=attributes.start_time%20ASC"},
	{name: "runs search OR parens", user: "viewer", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/search",
		body: `{"experiment_ids":["${exp}"],"filter":"(tags.team = 'ml' OR attributes.run_name = 'second') AND attributes.status != 'KILLED'","order_by":["attributes.run_name"]}`},
	{name: "runs search syntax error", user: "viewer", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/search", body: `{"experiment_ids":["${exp}"],"filter":"metrics.loss <"}`},
	{name: "runs search by dataset", user: "viewer", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/search",
		body: `{"experiment_ids":["${exp}"],"filter":"datasets.name IN ('balloons', 'x') AND datasets.context != 'train'","order_by":["attributes.run_name"]}`},
	{name: "runs search bad dataset key", user: "viewer", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/search", body: `{"experiment_ids":["${exp}"],"filter":"datasets.source = 'x'"}`},
	{name: "metrics get-history", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=loss"},
	{name: "metrics get-history paged", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=loss&max_results=1"},
	{name: "metrics get-history-bulk-interval", user: "viewer", method: "GET", path: "/api/2.11/mlflow/metrics/get-history-bulk-interval?run_ids=${run}&run_ids=${run2}&metric_key=loss&max_results=5"},
	{name: "artifacts upload", user: "editor", method: "PUT", path: "/p/BAL/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/notes.txt", body: "hello"},
	{name: "artifacts list", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/artifacts/list?run_id=${run}"},
	{name: "artifacts list dir", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/artifacts/list?run_id=${run}&path=model"},
	{name: "artifacts proxy list", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow-artifacts/artifacts?path=${exp}/${run}/artifacts/model"},
	{name: "artifacts download", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/notes.txt"},
	{name: "artifacts delete", user: "editor", method: "DELETE", path: "/p/BAL/api/2.0/mlflow-artifacts/artifacts/${exp}/${run}/artifacts/model/notes.txt"},
	{name: "artifacts mpu create", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow-artifacts/mpu/create/${exp}/${run}/artifacts/model", body: `{"path":"/home/ada/big.bin","num_parts":2}`},
	{name: "artifacts mpu create too many parts", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow-artifacts/mpu/create/${exp}/${run}/artifacts/model", body: `{"path":"big.bin","num_parts":10001}`},
	{name: "artifacts mpu complete unknown upload", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow-artifacts/mpu/complete/${exp}/${run}/artifacts/model",
		body: `{"path":"big.bin","upload_id":"00000000000000000000000000000000","parts":[{"part_number":1,"etag":"x"}]}`},
	{name: "artifacts mpu abort malformed upload id", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow-artifacts/mpu/abort/${exp}/${run}/artifacts/model", body: `{"path":"big.bin","upload_id":"../x"}`},
	{name: "runs delete", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/delete", body: `{"run_id":"${run2}"}`},
	{name: "runs log-metric to deleted run", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/log-metric", body: `{"run_id":"${run2}","key":"x","value":1,"timestamp":1}`},
	{name: "runs restore", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/runs/restore", body: `{"run_id":"${run2}"}`},
	{name: "experiments delete", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/delete", body: `{"experiment_id":"${exp}"}`},
	{name: "experiments restore", user: "editor", method: "POST", path: "/p/BAL/api/2.0/mlflow/experiments/restore", body: `{"experiment_id":"${exp}"}`},
	{name: "default project (only project)", user: "viewer", method: "GET", path: "/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default"},
	{name: "default project ambiguous", user: "root", method: "GET", path: "/api/2.0/mlflow/experiments/search"},
	{name: "set default project", user: "root", method: "PATCH", path: "/api/v1/me", body: `{"default_project":"BAL"}`},
	{name: "set default project not a member", user: "other", method: "PATCH", path: "/api/v1/me", body: `{"default_project":"BAL"}`},
	{name: "default project chosen", user: "root", method: "GET", path: "/api/2.0/mlflow/experiments/get?experiment_id=${exp}"},
	{name: "set another default project", user: "root", method: "PATCH", path: "/api/v1/me", body: `{"default_project":"CAT"}`},
	{name: "default project changed at once (BAL's experiment not in CAT)", user: "root", method: "GET", path: "/api/2.0/mlflow/experiments/get?experiment_id=${exp}"},
	{name: "default project CAT", user: "root", method: "GET", path: "/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default"},
	{name: "run items (auto links)", user: "viewer", method: "GET", path: "/api/v1/projects/BAL/runs/${run}/items"},
	{name: "run items link by hand", user: "editor", method: "PUT", path: "/api/v1/projects/BAL/runs/${run2}/items/BAL-42"},
	{name: "run items link other project", user: "editor", method: "PUT", path: "/api/v1/projects/BAL/runs/${run2}/items/CAT-1"},
	{name: "item runs", user: "viewer", method: "GET", path: "/api/v1/projects/BAL/items/BAL-42/runs"},
	{name: "run items unlink", user: "editor", method: "DELETE", path: "/api/v1/projects/BAL/runs/${run2}/items/BAL-42"},
	{name: "run items unlink again", user: "editor", method: "DELETE", path: "/api/v1/projects/BAL/runs/${run2}/items/BAL-42"},
	{name: "unknown endpoint", user: "viewer", method: "GET", path: "/p/BAL/api/2.0/mlflow/runs/nope"},
}

// TestMLflowGolden replays the conversation against the real server on
// SQLite and PostgreSQL and compares every answer with one golden file, so
// the two backends must answer byte-for-byte alike.
func TestMLflowGolden(t *testing.T) { apptest.Backends(t, testMLflowGolden) }

var (
	runIDRE = regexp.MustCompile(`[0-9a-f]{32}`)
	expIDRE = regexp.MustCompile(`mlflow-artifacts:/[0-9]+`)
)

func testMLflowGolden(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	vars := map[string]string{}
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "${"+k+"}", v)
		}
		return s
	}
	var out bytes.Buffer
	for _, st := range mlflowConversation {
		var body *strings.Reader
		if st.body != "" {
			body = strings.NewReader(expand(st.body))
		} else {
			body = strings.NewReader("")
		}
		status, resp := a.Do(st.user, st.method, expand(st.path), body, "Content-Type", "application/json")
		var v any
		if err := json.Unmarshal(resp, &v); err == nil {
			for name, p := range st.capture {
				vars[name] = fmt.Sprint(lookup(v, p))
			}
		}
		fmt.Fprintf(&out, "### %s\n%s %s\n%d\n%s\n\n", st.name, st.method, st.path, status, normalize(bytes.ReplaceAll(resp, []byte(a.URL), []byte("<base>")), vars))
	}
	golden := filepath.Join("testdata", "mlflow_golden.txt")
	if *update && b == apptest.SQLite {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestMLflowGolden -update)", err)
	}
	if got := out.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("golden mismatch at line %d:\n got: %s\nwant: %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("golden mismatch: %d lines, want %d", len(gl), len(wl))
	}
}

func lookup(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// normalize pretty-prints JSON with stable key order and replaces the
// values that differ between runs: ids, server clock times, page tokens.
func normalize(b []byte, vars map[string]string) string {
	s := string(b)
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return len(vars[names[i]]) > len(vars[names[j]]) })
	for _, k := range names {
		if len(vars[k]) == 32 {
			s = strings.ReplaceAll(s, vars[k], "<"+k+">")
		}
	}
	s = runIDRE.ReplaceAllString(s, "<other-run>")
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return strings.TrimSpace(s)
	}
	v = scrub(v, "", vars)
	var pretty bytes.Buffer
	enc := json.NewEncoder(&pretty)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return strings.TrimSpace(pretty.String())
}

func scrub(v any, key string, vars map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = scrub(e, k, vars)
		}
	case []any:
		for i, e := range x {
			x[i] = scrub(e, key, vars)
		}
	case float64:
		if key == "creation_time" || key == "last_update_time" {
			return "<time>"
		}
	case string:
		switch key {
		case "created_at", "updated_at", "id", "upload_id", "X-Trellis-Upload-Secret":
			return "<" + key + ">"
		case "next_page_token":
			return "<token>"
		case "experiment_id":
			if x == vars["exp"] {
				return "<exp>"
			}
			return "<other-exp>"
		case "artifact_location", "artifact_uri", "root_uri":
			return expIDRE.ReplaceAllStringFunc(x, func(m string) string {
				if m[len("mlflow-artifacts:/"):] == vars["exp"] {
					return "mlflow-artifacts:/<exp>"
				}
				return "mlflow-artifacts:/<other-exp>"
			})
		}
	}
	return v
}
