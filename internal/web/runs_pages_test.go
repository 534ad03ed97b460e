package web_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
)

// TestRunsPages renders the runs table (with a filter error shown inline),
// the run page, its downsampled chart data and the comparison of two runs
// through the whole program.
func TestRunsPages(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	runID := func(v map[string]any) string {
		return v["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	}
	const mlflow = "/p/BAL/api/2.0/mlflow/"
	id := runID(a.MLflow("editor", "POST", mlflow+"runs/create", `{"run_name":"web run BAL-4"}`))
	var ms []string
	for i := range 1000 {
		ms = append(ms, `{"key":"loss","value":`+strconv.Itoa(1000-i)+`,"timestamp":1,"step":`+strconv.Itoa(i)+`}`)
	}
	a.MLflow("editor", "POST", mlflow+"runs/log-batch", `{"run_id":"`+id+`","metrics":[`+strings.Join(ms, ",")+`]}`)
	a.MLflow("editor", "POST", mlflow+"runs/log-parameter", `{"run_id":"`+id+`","key":"lr","value":"0.1"}`)
	a.Check(t, []apptest.Case{
		{Name: "runs page", User: "viewer", Method: "GET", Path: "/p/BAL/runs", Status: 200, Contains: []string{"web run BAL-4", "metrics.loss"}},
		{Name: "filter error page", User: "viewer", Method: "GET", Path: "/p/BAL/runs?filter=metrics.loss+%3E&order=metrics.loss+DESC", Status: 400, Contains: []string{`id="filter-error"`, "column 15"}},
		{Name: "filtered runs page", User: "viewer", Method: "GET", Path: "/p/BAL/runs?filter=params.lr+%3D+%270.1%27&order=params.lr+DESC&columns=params.lr", Status: 200,
			Contains: []string{"web run BAL-4", `<span class="col-kind">params.</span>lr ↓`}},
		{Name: "run page", User: "viewer", Method: "GET", Path: "/p/BAL/runs/" + id, Status: 200, Contains: []string{"BAL-4", "data-metric-chart"}},
	})
	status, b := a.Do("viewer", "GET", "/p/BAL/runs/"+id+"/metric.json?key=loss&buckets=100", nil)
	var series struct{ Step, Min, Max []float64 }
	if err := json.Unmarshal(b, &series); status != 200 || err != nil || len(series.Step) != 100 || series.Max[0] != 1000 || series.Min[99] != 1 {
		t.Fatalf("chart series: %d %v %d", status, err, len(series.Step))
	}
	status, b = a.Do("viewer", "GET", "/p/BAL/runs/"+id+"/metric.json?key=loss&start=10&end=19&buckets=100", nil)
	if err := json.Unmarshal(b, &series); status != 200 || err != nil || len(series.Step) != 10 {
		t.Fatalf("zoomed series: %d %v %d", status, err, len(series.Step))
	}
	// A second run to compare with.
	id2 := runID(a.MLflow("editor", "POST", mlflow+"runs/create", `{"run_name":"other run"}`))
	a.MLflow("editor", "POST", mlflow+"runs/log-parameter", `{"run_id":"`+id2+`","key":"lr","value":"0.1"}`)
	a.MLflow("editor", "POST", mlflow+"runs/log-parameter", `{"run_id":"`+id2+`","key":"opt","value":"sgd"}`)
	a.Check(t, []apptest.Case{
		{Name: "compare --diff page", User: "viewer", Method: "GET", Path: "/p/BAL/runs/compare?diff=1&run=" + id + "&run=" + id2, Status: 200,
			Contains: []string{"params.opt", "data-compare-chart"}, Lacks: []string{"<th scope=\"row\">params.lr"}},
		{Name: "compare of one run", User: "viewer", Method: "GET", Path: "/p/BAL/runs/compare?run=" + id, Status: 400},
		{Name: "non-member run page", User: "other", Method: "GET", Path: "/p/BAL/runs/" + id, Status: 404},
	})
}

// TestRunsTableColumns shows each run's experiment by name and the items
// it links to, and finds runs by part of their name (any case) beside the
// filter, whose errors still point into the filter as typed.
func TestRunsTableColumns(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	const mlflow = "/p/BAL/api/2.0/mlflow/"
	exp := a.MLflow("editor", "POST", mlflow+"experiments/create", `{"name":"resolution sweep"}`)["experiment_id"].(string)
	run := a.MLflow("editor", "POST", mlflow+"runs/create", `{"experiment_id":"`+exp+`","run_name":"BAL-7 hires 1024px"}`)
	id := run["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	a.MLflow("editor", "POST", mlflow+"runs/create", `{"run_name":"baseline it's 640px"}`)
	items := `<td class="run-items" data-items><a href="/p/BAL/items/BAL-7">BAL-7</a></td>`
	a.Check(t, []apptest.Case{
		{Name: "experiment names and linked items", User: "viewer", Method: "GET", Path: "/p/BAL/runs", Status: 200,
			Contains: []string{`<th scope="col">Experiment</th>`, `<td class="run-experiment" data-experiment>resolution sweep</td>`,
				`<td class="run-experiment" data-experiment>Default</td>`, items, "baseline it&#39;s 640px"}},
		{Name: "one experiment: no experiment column", User: "viewer", Method: "GET", Path: "/p/BAL/runs?experiment=" + exp, Status: 200,
			Contains: []string{items}, Lacks: []string{`<th scope="col">Experiment</th>`, "baseline"}},
		{Name: "name search", User: "viewer", Method: "GET", Path: "/p/BAL/runs?name=HIRES", Status: 200,
			Contains: []string{"BAL-7 hires 1024px", `value="HIRES"`}, Lacks: []string{"baseline it"}},
		{Name: "name search with a quote", User: "viewer", Method: "GET", Path: "/p/BAL/runs?name=it%27s", Status: 200,
			Contains: []string{"baseline it&#39;s 640px"}, Lacks: []string{"BAL-7 hires"}},
		{Name: "name search and filter", User: "viewer", Method: "GET", Path: "/p/BAL/runs?name=1024&filter=attributes.status+%3D+%27RUNNING%27", Status: 200,
			Contains: []string{"BAL-7 hires 1024px"}, Lacks: []string{"baseline it"}},
		{Name: "name search, filter error", User: "viewer", Method: "GET", Path: "/p/BAL/runs?name=x&filter=metrics.loss+%3E", Status: 400,
			Contains: []string{`id="filter-error"`, "column 15"}},
		{Name: "run page names its experiment", User: "viewer", Method: "GET", Path: "/p/BAL/runs/" + id, Status: 200,
			Contains: []string{`experiment <a href="/p/BAL/runs?experiment=` + exp + `">resolution sweep</a>`}},
	})
}
