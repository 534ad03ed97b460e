package mlflowapi_test

import (
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
)

// TestLoggedModelsSearch asks logged-models/search as MLflow 3's client
// does to resolve runs:/RUN/PATH URIs: an empty page ({}, as MLflow's
// server answers when no model matches) for a viewer and a read token on
// both mounts, MLflow's errors for a missing or mistyped experiment_ids,
// and the project rules of every other read.
func TestLoggedModelsSearch(t *testing.T) {
	apptest.Backends(t, func(t *testing.T, b apptest.Backend) {
		a := apptest.Start(t, b)
		expID, runID := a.NewRun()
		search := `{"experiment_ids":["` + expID + `"],"filter":"name = 'model'","max_results":50}`
		const path = "/api/2.0/mlflow/logged-models/search"
		bodies := a.Check(t, []apptest.Case{
			{User: "viewer", Method: "POST", Path: "/p/BAL" + path, Body: search, Status: 200},
			{User: "owner-read", Method: "POST", Path: "/p/BAL" + path, Body: search, Status: 200},
			{User: "viewer", Method: "POST", Path: path, Body: search, Status: 200},
			{User: "viewer", Method: "POST", Path: "/p/BAL" + path, Body: `{"experiment_ids":[]}`, Status: 200},
			{User: "viewer", Method: "POST", Path: "/p/BAL" + path, Body: `{"experiment_ids":["` + expID + `"],"page_token":"x"}`, Status: 200},
			{User: "viewer", Method: "POST", Path: "/p/BAL" + path, Body: `{}`, Status: 400, Contains: []string{`"INVALID_PARAMETER_VALUE"`, "experiment_ids"}},
			{User: "viewer", Method: "POST", Path: "/p/BAL" + path, Body: `{"experiment_ids":"1"}`, Status: 400, Contains: []string{`"INVALID_PARAMETER_VALUE"`, "experiment_ids"}},
			{User: "viewer", Method: "POST", Path: "/p/BAL" + path, Body: `{"experiment_ids":[1]}`, Status: 400, Contains: []string{`"INVALID_PARAMETER_VALUE"`}},
			{User: "viewer", Method: "POST", Path: "/p/BAL" + path, Body: `{"experiment_ids":["1"],"max_results":"x"}`, Status: 400, Contains: []string{`"INVALID_PARAMETER_VALUE"`}},
			{User: "", Method: "POST", Path: "/p/BAL" + path, Body: search, Status: 401},
			{User: "other", Method: "POST", Path: "/p/BAL" + path, Body: search, Status: 404, Contains: []string{`"RESOURCE_DOES_NOT_EXIST"`}},
			{User: "viewer", Method: "GET", Path: "/p/BAL" + path, Status: 404, Contains: []string{`"ENDPOINT_NOT_FOUND"`}},
		})
		for i := 0; i < 5; i++ {
			if got := strings.TrimSpace(string(bodies[i])); got != `{}` {
				t.Errorf("case %d: logged-models/search answered %s, want {} (MLflow's empty page)", i, got)
			}
		}
		// The run's artifacts stay listable by sub-path, which the client
		// does only after that search answers.
		a.MLflow("viewer", "GET", "/p/BAL/api/2.0/mlflow/artifacts/list?run_id="+runID+"&path=model", "")
	})
}
