package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

func testImportCSV(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	must[*work.Sprint](t)(ws.CreateSprint(ctx, p, work.NewSprint{Name: "Sprint 3", StartsOn: "2026-03-02", EndsOn: "2026-03-13"}))
	jira := "Summary,Issue key,Issue Type,Status,Priority,Assignee,Labels,Labels,Description,Custom field (Story Points),Sprint\n" +
		"Serve model,ML-1,Story,In Progress,High,bob,serving,api,\"Multi\nline\",5.0,Sprint 3\n" +
		"Fix eval,ML-2,Bug,Done,Lowest,,,,,1,\n" +
		"Read papers,ML-3,Spike,To Do,Medium,ada,learning,,,,\n"
	res, err := ws.ImportCSV(ctx, p, strings.NewReader(jira), work.ImportOptions{Jira: true})
	if err != nil || len(res.Errors) != 0 || res.Imported != 3 {
		t.Fatalf("jira import: %+v %v", res, err)
	}
	serve := must[*work.Item](t)(ws.Item(ctx, p, res.Keys[0]))
	if serve.Kind != work.KindDevelopment || serve.Status != "In progress" || serve.Priority != "high" || serve.Points != 5 ||
		fmt.Sprint(serve.Labels) != "[api serving]" || serve.Description != "Multi\nline\n\n_Imported from ML-1._" || serve.SprintID == "" || serve.Assignees[0] != "bob" {
		t.Fatalf("imported %+v", serve)
	}
	fix := must[*work.Item](t)(ws.Item(ctx, p, res.Keys[1]))
	if fix.Kind != work.KindMaintenance || fix.Status != "Done" || fix.Priority != "low" {
		t.Fatalf("imported bug %+v", fix)
	}
	// Bad rows: each reported with its line (the multi-line cell counts),
	// and nothing is imported.
	bad := "kind,title,points,description\n" +
		"development,Fine,3,\"two\nlines\"\n" +
		"story,Unknown kind,,\n" +
		"development,Off scale,4,\n" +
		"experiment,No hypothesis,,\n"
	res, err = ws.ImportCSV(ctx, p, strings.NewReader(bad), work.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, e := range res.Errors {
		got = append(got, fmt.Sprintf("%d:%s", e.Line, e.Field))
	}
	if fmt.Sprint(got) != "[4:kind 5:points 6:hypothesis]" || res.Imported != 0 {
		t.Fatalf("row errors %v", got)
	}
	if n := len(must[[]*work.Item](t)(ws.Items(ctx, p, work.ItemFilter{}))); n != 3 {
		t.Fatalf("a refused import created items: %d", n)
	}
	for _, c := range []struct {
		csv   string
		opts  work.ImportOptions
		field string
	}{
		{"", work.ImportOptions{}, "file"},
		{"kind,title\n", work.ImportOptions{}, "file"},
		{"name,what\nx,y\n", work.ImportOptions{}, "mapping"},
		{"kind,title\nx,y\n", work.ImportOptions{Columns: map[string]string{"colour": "kind"}}, "mapping"},
	} {
		_, err := ws.ImportCSV(ctx, p, strings.NewReader(c.csv), c.opts)
		if trellis.ErrorField(err) != c.field {
			t.Errorf("import %q: %v, want field %s", c.csv, err, c.field)
		}
	}
	// A column mapped by hand.
	res = must[*work.ImportResult](t)(ws.ImportCSV(ctx, p, strings.NewReader("Type,Headline\nresearch,Survey\n"),
		work.ImportOptions{Columns: map[string]string{"kind": "Type", "title": "Headline"}}))
	if res.Imported != 1 {
		t.Fatalf("mapped import %+v", res)
	}
}
