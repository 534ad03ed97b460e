package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/work"
)

// longLineSpec has a 70,000-byte line 4: the Gherkin parser's line scanner
// stops at 64 KiB, and this once panicked the parser (a 500).
var longLineSpec = "Feature: f\n  Scenario: s\n    Given the run \"x\"\n    Then metric \"" + strings.Repeat("a", 70000) + "\" should be at least 1\n"

// TestSpecsRefuseLongLines sends a spec with a line too long for the parser
// through every /api/v1 route that parses one: each answers 400 naming the
// field and the line, never 500, and nothing is stored.
func TestSpecsRefuseLongLines(t *testing.T) { apptest.Backends(t, testSpecsRefuseLongLines) }

func testSpecsRefuseLongLines(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	const p = "/api/v1/projects/BAL"
	var it work.Item
	a.MustCall("editor", "POST", p+"/items", `{"kind":"development","title":"Churn model"}`, &it)
	put, _ := json.Marshal(map[string]string{"name": "churn.feature", "text": longLineSpec})
	eval, _ := json.Marshal(map[string]string{"name": "churn.feature", "spec": longLineSpec})
	a.Check(t, []apptest.Case{
		{Name: "PUT spec", User: "editor", Method: "PUT", Path: p + "/items/" + it.Key + "/spec", Body: string(put),
			Status: 400, Field: "text", Contains: []string{"churn.feature:4: line is longer than"}},
		{Name: "no spec stored", User: "editor", Method: "GET", Path: p + "/items/" + it.Key + "/spec/versions", Status: 200, Contains: []string{`"versions":[]`}},
		{Name: "evaluate with a read token", User: "owner-read", Method: "POST", Path: p + "/goals/evaluate?item=" + it.Key, Body: string(eval),
			Status: 400, Field: "spec", Contains: []string{"churn.feature:4: line is longer than"}},
	})
}
