package httpapi_test

import (
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/apptest"
	"github.com/trellisml/trellis/internal/work"
)

// TestDecisionAPI decides experiments: the rules per outcome, the
// follow-up items, the hypothesis log in its three formats and the
// experiment board.
func TestDecisionAPI(t *testing.T) { apptest.Backends(t, testDecisionAPI) }

func testDecisionAPI(t *testing.T, b apptest.Backend) {
	a := apptest.Start(t, b)
	const p = "/api/v1/projects/BAL"
	var exp work.Item
	a.MustCall("editor", "POST", p+"/items", `{"kind":"experiment","title":"Mosaic","hypothesis":"We believe mosaic raises recall","time_box":"2d"}`, &exp)
	decide := p + "/items/" + exp.Key + "/decision"
	a.Check(t, []apptest.Case{
		{Name: "abandon without reason", User: "editor", Method: "POST", Path: decide, Body: `{"outcome":"abandon","verdict":"refuted"}`, Status: 400, Field: "reason"},
		{Name: "viewer decides", User: "viewer", Method: "POST", Path: decide, Body: `{"outcome":"abandon","verdict":"refuted","reason":"r"}`, Status: 403},
	})
	var dr struct {
		Decision work.Decision
		FollowUp *work.Item `json:"follow_up"`
	}
	a.MustCall("editor", "POST", decide, `{"outcome":"productionize","verdict":"supported","evidence":["https://example.com/run/1"]}`, &dr)
	if dr.FollowUp == nil || dr.FollowUp.Kind != work.KindDevelopment || dr.Decision.FollowUp != dr.FollowUp.Key || dr.Decision.DecidedBy != "editor" {
		t.Fatalf("productionize %+v", dr)
	}
	var follow work.Item
	a.MustCall("viewer", "GET", p+"/items/"+dr.FollowUp.Key, "", &follow)
	if len(follow.Links) != 1 || follow.Links[0].Type != "follow_up_of" || follow.Links[0].Key != exp.Key {
		t.Fatalf("follow-up links %+v", follow.Links)
	}
	a.Check(t, []apptest.Case{{Name: "second decision", User: "editor", Method: "POST", Path: decide, Body: `{"outcome":"abandon","verdict":"refuted","reason":"r"}`, Status: 409}})
	var exp2 work.Item
	a.MustCall("editor", "POST", p+"/items", `{"kind":"experiment","title":"Focal loss","hypothesis":"h2","time_box":"2d"}`, &exp2)
	a.Check(t, []apptest.Case{{Name: "more research without time box", User: "editor", Method: "POST", Path: p + "/items/" + exp2.Key + "/decision",
		Body: `{"outcome":"more_research","verdict":"inconclusive"}`, Status: 400, Field: "time_box"}})
	a.MustCall("editor", "POST", p+"/items/"+exp2.Key+"/decision", `{"outcome":"more_research","verdict":"inconclusive","time_box":"1w"}`, &dr)
	if dr.FollowUp == nil || dr.FollowUp.Kind != work.KindResearch || dr.FollowUp.TimeBox != "1w" {
		t.Fatalf("more research %+v", dr.FollowUp)
	}
	var log struct{ Decisions []work.Decision }
	a.MustCall("viewer", "GET", p+"/hypotheses?verdict=supported", "", &log)
	if len(log.Decisions) != 1 || log.Decisions[0].Item != exp.Key {
		t.Fatalf("log %+v", log)
	}
	bodies := a.Check(t, []apptest.Case{
		{Name: "csv", User: "viewer", Method: "GET", Path: p + "/hypotheses?format=csv", Status: 200},
		{Name: "markdown", User: "viewer", Method: "GET", Path: p + "/hypotheses?format=markdown", Status: 200,
			Contains: []string{"| " + exp.Key + " Mosaic | We believe mosaic raises recall | supported | productionize |"}},
		{Name: "bad format", User: "viewer", Method: "GET", Path: p + "/hypotheses?format=pdf", Status: 400, Field: "format"},
	})
	if csv := string(bodies[0]); !strings.HasPrefix(csv, "item,title,hypothesis,verdict") || strings.Count(csv, "\n") != 3 {
		t.Fatalf("csv %s", csv)
	}
	var eb work.Board
	a.MustCall("viewer", "GET", p+"/board?type=experiments", "", &eb)
	if len(eb.Columns) != 4 || len(eb.Columns[3].Items) != 2 {
		t.Fatalf("experiment board %+v", eb)
	}
}
