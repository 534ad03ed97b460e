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
			Contains: []string{"web run BAL-4", "params.lr ↓"}},
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
