package mlflowapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
)

// TestReadTokenSearchesByPost checks that a read-scoped token may call the
// routes whose rows say they are read-only although they are POSTs (MLflow's
// searches, goal evaluation) and is still refused every write.
func TestReadTokenSearchesByPost(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	status, b := a.Do("editor", "POST", "/p/BAL/api/2.0/mlflow/experiments/create", strings.NewReader(`{"name":"ro"}`))
	if status != 200 {
		t.Fatalf("create experiment: %d %s", status, b)
	}
	var exp struct {
		ID string `json:"experiment_id"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	if status, b := a.Do("editor", "POST", "/p/BAL/api/2.0/mlflow/runs/create", strings.NewReader(`{"experiment_id":"`+exp.ID+`"}`)); status != 200 {
		t.Fatalf("create run: %d %s", status, b)
	}
	runs := `{"experiment_ids":["` + exp.ID + `"]}`
	read := func(path, body, want string) apptest.Case {
		return apptest.Case{User: "owner-read", Method: "POST", Path: path, Body: body, Status: 200, Contains: []string{want}}
	}
	write := func(path, body string) apptest.Case {
		return apptest.Case{User: "owner-read", Method: "POST", Path: path, Body: body, Status: 403}
	}
	a.Check(t, []apptest.Case{
		read("/p/BAL/api/2.0/mlflow/runs/search", runs, `"run_id"`),
		read("/api/2.0/mlflow/runs/search", runs, `"run_id"`),
		read("/p/BAL/api/2.0/mlflow/experiments/search", `{"filter":"name = 'ro'"}`, `"ro"`),
		// Goal evaluation is a read-only POST: the guard lets the read token
		// through, so the answer is about the request (no item), not a 403.
		{User: "owner-read", Method: "POST", Path: "/api/v1/projects/BAL/goals/evaluate", Body: `{"spec":"x"}`, Status: 400, Field: "item"},
		write("/p/BAL/api/2.0/mlflow/runs/create", `{"experiment_id":"`+exp.ID+`"}`),
		write("/api/2.0/mlflow/runs/create", `{"experiment_id":"`+exp.ID+`"}`),
		write("/p/BAL/api/2.0/mlflow/experiments/create", `{"name":"nope"}`),
		write("/p/BAL/api/2.0/mlflow-artifacts/mpu/create/"+exp.ID+"/x/artifacts/a.bin", `{"path":"a.bin","num_parts":1}`),
		write("/api/v1/projects/BAL/items", `{"title":"nope","kind":"development"}`),
	})
}
