package server_test

import (
	"net/http"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/route"
)

// TestEveryRouteIsGuarded walks every registered route of the whole
// program: each has a valid rule, and each non-public one refuses an
// anonymous caller.
func TestEveryRouteIsGuarded(t *testing.T) { apptest.Backends(t, testEveryRouteIsGuarded) }

func testEveryRouteIsGuarded(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	routes := a.Server.Routes()
	if len(routes) < 20 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	for _, rt := range routes {
		if !rt.Access.Valid() {
			t.Errorf("%s %s has no authorization rule", rt.Method, rt.Pattern)
			continue
		}
		if rt.Access == route.Public {
			continue
		}
		method := rt.Method
		if method == "" {
			method = "GET"
		}
		status, _ := a.Do("", method, apptest.Concrete(rt.Pattern), nil)
		switch {
		case rt.Surface == "web" && method == "GET":
			if status != http.StatusSeeOther {
				t.Errorf("anonymous %s %s (web) = %d, want 303 to /login", method, rt.Pattern, status)
			}
		case status != http.StatusUnauthorized:
			t.Errorf("anonymous %s %s = %d, want 401", method, rt.Pattern, status)
		}
	}
}

// TestAccessMatrix asks every surface as each fixture user (and
// anonymously) and checks the status each gets.
func TestAccessMatrix(t *testing.T) { apptest.Backends(t, testAccessMatrix) }

func testAccessMatrix(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	type row struct {
		method, path, body string
		want               map[string]int // user -> status
	}
	rows := []row{
		{"GET", "/api/v1/projects/BAL", "", map[string]int{"": 401, "viewer": 200, "editor": 200, "owner": 200, "other": 404, "root": 200}},
		{"GET", "/api/v1/projects/NOPE", "", map[string]int{"owner": 404, "root": 404}},
		{"PATCH", "/api/v1/projects/BAL", `{"description":"d"}`, map[string]int{"": 401, "viewer": 403, "editor": 403, "owner": 200, "owner-read": 403, "other": 404, "root": 200}},
		{"GET", "/api/v1/projects/BAL/members", "", map[string]int{"": 401, "viewer": 200, "other": 404, "owner-read": 200}},
		{"PUT", "/api/v1/projects/BAL/members/viewer", `{"role":"viewer"}`, map[string]int{"": 401, "viewer": 403, "editor": 403, "owner": 200, "other": 404, "root": 200}},
		{"DELETE", "/api/v1/projects/BAL/members/nobody", "", map[string]int{"viewer": 403, "other": 404, "owner": 404}},
		{"POST", "/api/v1/projects/CAT/archive", "", map[string]int{"owner": 404, "viewer": 404}},
		{"GET", "/api/v1/me", "", map[string]int{"": 401, "viewer": 200, "owner-read": 200}},
		{"POST", "/api/v1/tokens", `{"name":"x"}`, map[string]int{"": 401, "viewer": 201, "owner-read": 403}},
		{"POST", "/api/v1/users", `{"name":"u1","password":"` + apptest.Password + `"}`, map[string]int{"": 401, "owner": 403, "viewer": 403}},
		{"PATCH", "/api/v1/users/viewer", `{"disabled":false}`, map[string]int{"owner": 403, "root": 200}},
		{"POST", "/api/v1/projects", `{"key":"NEW","name":"n"}`, map[string]int{"": 401, "owner-read": 403}},
		{"GET", "/metrics", "", map[string]int{"": 401, "owner": 403, "root": 200}},
		{"GET", "/healthz", "", map[string]int{"": 200}},
		{"GET", "/readyz", "", map[string]int{"": 200}},
		{"GET", "/api/v1/openapi.json", "", map[string]int{"": 200}},
		{"GET", "/api/2.0/mlflow/experiments/search", "", map[string]int{"": 401, "viewer": 200, "root": 400}},
		{"GET", "/api/2.0/mlflow/no/such/endpoint", "", map[string]int{"": 401, "viewer": 404}},
		{"POST", "/p/BAL/api/2.0/mlflow/runs/create", `{}`, map[string]int{"": 401, "viewer": 403, "other": 404, "owner-read": 403, "editor": 200}},
		{"GET", "/p/BAL/api/2.0/mlflow-artifacts/artifacts", "", map[string]int{"": 401, "other": 404}},
		// A read-only search: project viewers and read tokens, on both mounts.
		{"POST", "/p/BAL/api/2.0/mlflow/logged-models/search", `{"experiment_ids":["1"]}`, map[string]int{"": 401, "viewer": 200, "owner-read": 200, "editor": 200, "other": 404}},
		{"POST", "/api/2.0/mlflow/logged-models/search", `{"experiment_ids":["1"]}`, map[string]int{"": 401, "viewer": 200, "owner-read": 200}},
		{"GET", "/p/BAL/settings", "", map[string]int{"": 303, "viewer": 200, "other": 404, "root": 200}},
		{"GET", "/projects", "", map[string]int{"": 303, "viewer": 200}},
	}
	var cases []apptest.Case
	for _, r := range rows {
		for user, want := range r.want {
			cases = append(cases, apptest.Case{User: user, Method: r.method, Path: r.path, Body: r.body, Status: want})
		}
	}
	// A project-scoped MLflow call from a non-member is RESOURCE_DOES_NOT_EXIST,
	// from a member the endpoint-level answer: the key does not leak.
	cases = append(cases,
		apptest.Case{Name: "non-member MLflow answer", User: "other", Method: "GET", Path: "/p/BAL/api/2.0/mlflow/experiments/search", Status: 404, Contains: []string{`"RESOURCE_DOES_NOT_EXIST"`}},
		apptest.Case{Name: "anonymous MLflow answer", Method: "GET", Path: "/api/2.0/mlflow/experiments/search", Status: 401, Contains: []string{`"error_code":"UNAUTHENTICATED"`}})
	a.Check(t, cases)
}
