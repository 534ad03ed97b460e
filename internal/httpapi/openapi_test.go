package httpapi

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes fails when the route table and openapi.json
// drift: every route is documented with its access rule, and every
// documented operation is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                       `json:"openapi"`
		Paths   map[string]map[string]map[string]interface{} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	api := New(Options{})
	routed := map[string]string{}
	for _, rt := range api.Routes() {
		if rt.Method == "" {
			continue // the JSON 404 catch-all
		}
		routed[strings.ToLower(rt.Method)+" "+rt.Pattern] = rt.Access.String()
		if rt.ReadOnly {
			routed[strings.ToLower(rt.Method)+" "+rt.Pattern] += " read-only"
		}
	}
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			access, _ := op["x-trellis-access"].(string)
			if ro, _ := op["x-trellis-read-only"].(bool); ro {
				access += " read-only"
			}
			documented[method+" "+path] = access
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s documents no responses", method, path)
			}
		}
	}
	var problems []string
	for k, access := range routed {
		switch doc, ok := documented[k]; {
		case !ok:
			problems = append(problems, "routed but not documented: "+k)
		case doc != access:
			problems = append(problems, "access of "+k+": routed "+access+", documented "+doc)
		}
	}
	for k := range documented {
		if _, ok := routed[k]; !ok {
			problems = append(problems, "documented but not routed: "+k)
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
}
