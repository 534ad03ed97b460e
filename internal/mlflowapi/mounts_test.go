package mlflowapi_test

import (
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
)

// TestAccountDefaultProject sets the default tracking project through the
// account page form and checks the unprefixed MLflow URI follows it.
func TestAccountDefaultProject(t *testing.T) {
	a := apptest.Start(t, apptest.SQLite)
	form := []string{"Content-Type", "application/x-www-form-urlencoded", "Origin", a.URL, "Sec-Fetch-Site", "same-origin"}
	a.Check(t, []apptest.Case{
		{Name: "account page", User: "root", Method: "GET", Path: "/account", Status: 200, Contains: []string{`action="/account/default-project"`}},
		// The unprefixed URI is ambiguous for root (two projects) until chosen.
		{Name: "ambiguous default", User: "root", Method: "GET", Path: "/api/2.0/mlflow/experiments/get?experiment_id=0", Status: 400},
		{Name: "set default", User: "root", Method: "POST", Path: "/account/default-project", Body: "project=CAT", Header: form, Status: 303},
		{Name: "GET on a POST endpoint", User: "root", Method: "GET", Path: "/api/2.0/mlflow/experiments/create", Status: 404},
		{Name: "create in default", User: "root", Method: "POST", Path: "/api/2.0/mlflow/experiments/create", Body: `{"name":"cats"}`, Status: 200},
		{Name: "experiment in CAT", User: "root", Method: "GET", Path: "/p/CAT/api/2.0/mlflow/experiments/get-by-name?experiment_name=cats", Status: 200},
		{Name: "unknown project", User: "root", Method: "POST", Path: "/account/default-project", Body: "project=NOPE", Header: form, Status: 404},
	})
}
