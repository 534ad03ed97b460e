package mlflowapi_test

import (
	"strconv"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/cli"
)

// TestArtifactLocationRule checks experiments/create with an
// artifact_location: refused by default naming the operator option, and
// accepted under a prefix allowed with --allow-artifact-location.
// internal/cli's TestConfigAllowArtifactLocation checks the option itself.
func TestArtifactLocationRule(t *testing.T) {
	create := func(name, location string, status int, want ...string) apptest.Case {
		return apptest.Case{User: "editor", Method: "POST", Path: "/p/BAL/api/2.0/mlflow/experiments/create",
			Body: `{"name":"` + name + `","artifact_location":"` + location + `"}`, Status: status, Contains: want}
	}
	a := apptest.Start(t, apptest.SQLite)
	a.Check(t, []apptest.Case{create("x", "s3://team/mlflow/x", 400, "INVALID_PARAMETER_VALUE", "--allow-artifact-location")})

	a = apptest.Start(t, apptest.SQLite, func(c *cli.Config) { c.AllowArtifactLocation = []string{"s3://team/mlflow/"} })
	a.Check(t, []apptest.Case{
		create("x", "s3://team/mlflow/x", 200),
		{Name: "stored location", User: "viewer", Method: "GET", Path: "/p/BAL/api/2.0/mlflow/experiments/get-by-name?experiment_name=x",
			Status: 200, Contains: []string{`"artifact_location":"s3://team/mlflow/x"`}},
		create("y", "s3://team/other", 400, "s3://team/mlflow/"),
	})

	// The probe's escapes of the allow-list, which an MLflow client resolves
	// to the allowed folder's parent; internal/tracking's
	// TestArtifactLocationForms and FuzzArtifactLocation hold the rest.
	a = apptest.Start(t, apptest.SQLite, func(c *cli.Config) { c.AllowArtifactLocation = []string{"file:///srv/allowed/", "s3://team/ml"} })
	var cases []apptest.Case
	for i, loc := range []string{"file:///srv/allowed/..?a", "file:///srv/allowed/..#a", "file:///srv/allowed/%2e%2e?a", "s3://team/ml/..?a", "file:///srv/allowed/%252e%252e/x"} {
		cases = append(cases, create("escape"+strconv.Itoa(i), loc, 400, "INVALID_PARAMETER_VALUE"))
	}
	a.Check(t, append(cases, create("inside", "file:///srv/allowed/team-a", 200)))
}
