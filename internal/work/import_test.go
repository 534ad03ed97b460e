package work_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// jiraExport is a Jira CSV export as Jira writes it: a BOM, repeated
// Labels columns, a custom field for story points, quoted cells with
// commas, quotes and line breaks.
const jiraExport = "\ufeffSummary,Issue key,Issue id,Issue Type,Status,Priority,Assignee,Reporter,Labels,Labels,Description,Custom field (Story Points),Sprint\n" +
	"Serve the model,ML-1,10001,Story,In Review,Blocker,Bob,ada,serving,api,\"Behind the \"\"gateway\"\",\nwith auth\",5.0,S1\n" +
	"Fix eval leak,ML-2,10002,Bug,Resolved,Minor,,ada,,,,1,\n" +
	"Read papers,ML-3,10003,Spike,To Do,Medium,ada,ada,learning,,,,\n"

// importRows prints a result's refusals as line:field.
func importRows(res *work.ImportResult) string {
	var out []string
	for _, e := range res.Errors {
		out = append(out, fmt.Sprintf("%d:%s", e.Line, e.Field))
	}
	return strings.Join(out, " ")
}

// manyRows is a header and n development rows.
func manyRows(n int) string {
	var b strings.Builder
	b.WriteString("kind,title\n")
	for i := range n {
		fmt.Fprintf(&b, "development,row %d\n", i)
	}
	return b.String()
}

func TestImportCSV(t *testing.T) { storetest.Backends(t, testImportCSV) }

func testImportCSV(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	sp := mustSprint(t, e, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-06"})
	if _, err := e.ws.StartSprint(e.ctx, e.p, "S1"); err != nil {
		t.Fatal(err)
	}
	e.now = at("2026-03-03", 9)
	res, err := e.ws.ImportCSV(e.ctx, e.p, strings.NewReader(jiraExport), work.ImportOptions{Jira: true})
	if err != nil || res.Imported != 3 || !slices.Equal(res.Keys, []string{"BAL-1", "BAL-2", "BAL-3"}) || len(res.Errors) != 0 {
		t.Fatalf("jira import: %+v %v", res, err)
	}
	serve, fix, read := mustGet(t, e, "BAL-1"), mustGet(t, e, "BAL-2"), mustGet(t, e, "BAL-3")
	if serve.Kind != work.KindDevelopment || serve.Title != "Serve the model" || serve.Status != "In review" || serve.Priority != "urgent" ||
		serve.Points != 5 || !slices.Equal(serve.Labels, []string{"api", "serving"}) || !slices.Equal(serve.Assignees, []string{"bob"}) ||
		serve.Description != "Behind the \"gateway\",\nwith auth\n\n_Imported from ML-1._" || serve.SprintID != sp.ID ||
		!serve.StartedAt.Equal(e.now) || !serve.DoneAt.IsZero() || serve.CreatedBy != "ada" {
		t.Errorf("story %+v", serve)
	}
	// Imported done: its Definition of Done counts as met.
	if fix.Kind != work.KindMaintenance || fix.Status != "Done" || fix.Priority != "low" || fix.Points != 1 || !fix.DoneAt.Equal(e.now) ||
		!slices.Equal(fix.DoDChecked, work.DefaultDoD[work.KindMaintenance]) || fix.SprintID != "" || len(fix.Assignees) != 0 {
		t.Errorf("bug %+v", fix)
	}
	if read.Kind != work.KindResearch || read.Status != "To do" || read.Priority != "medium" || !slices.Equal(read.Labels, []string{"learning"}) {
		t.Errorf("spike %+v", read)
	}
	// The active sprint recorded the story that came into it.
	if got, want := mustDays(t, e, sp.ID), "2026-03-02 0/0, 2026-03-03 5/0"; got != want {
		t.Errorf("sprint days %q, want %q", got, want)
	}

	// Our own column names, in any case; several labels and assignees in one cell.
	res, err = e.ws.ImportCSV(e.ctx, e.p, strings.NewReader("KIND,Title,labels,assignees,time_box,hypothesis,key,phase\n"+
		"Experiment, Mosaic ,\"cv, aug  data\",@ada bob,2d,We believe mosaic helps,X-7,Explore\n"), work.ImportOptions{})
	if err != nil || res.Imported != 1 {
		t.Fatalf("own columns: %+v %v", res, err)
	}
	if got := mustGet(t, e, res.Keys[0]); got.Kind != work.KindExperiment || got.Title != "Mosaic" || !slices.Equal(got.Labels, []string{"aug", "cv", "data"}) ||
		!slices.Equal(got.Assignees, []string{"ada", "bob"}) || got.TimeBox != "2d" || got.Stage != work.StageIdeation || got.Phase != "explore" ||
		got.Description != "_Imported from X-7._" {
		t.Errorf("own columns %+v", got)
	}
	// Columns mapped by hand.
	res, err = e.ws.ImportCSV(e.ctx, e.p, strings.NewReader("Type,Headline,title\nresearch,Survey,not this\n"),
		work.ImportOptions{Columns: map[string]string{"kind": "Type", "title": "Headline"}})
	if err != nil || res.Imported != 1 || mustGet(t, e, res.Keys[0]).Title != "Survey" {
		t.Fatalf("mapped: %+v %v", res, err)
	}
	if n := mustCount(t, e); n != 5 {
		t.Fatalf("%d items after the imports, want 5", n)
	}

	// Refused files and mappings name the field; refused rows their line
	// (a quoted line break counts) and field. Neither writes anything.
	for _, c := range []struct {
		name, csv string
		opts      work.ImportOptions
		field     string // of the error
		rows      string // of the result
	}{
		{name: "empty", csv: "", field: "file"},
		{name: "header only", csv: "kind,title\n", field: "file"},
		{name: "broken header", csv: "\"kind,title\nx,y\n", field: "file"},
		{name: "a BOM alone", csv: "\ufeff", field: "mapping"},
		{name: "no title column", csv: "name,what\nx,y\n", field: "mapping"},
		{name: "no kind column", csv: "title\nx\n", field: "mapping"},
		{name: "own columns as Jira", csv: "kind,title\ndevelopment,x\n", opts: work.ImportOptions{Jira: true}, field: "mapping"},
		{name: "unknown field", csv: "kind,title\nx,y\n", opts: work.ImportOptions{Columns: map[string]string{"colour": "kind"}}, field: "mapping"},
		{name: "missing column", csv: "kind,title\nx,y\n", opts: work.ImportOptions{Columns: map[string]string{"title": "Headline"}}, field: "mapping"},
		{name: "too many rows", csv: manyRows(work.MaxImportRows + 1), field: "file"},
		{name: "bad rows", csv: "kind,title,points,description\ndevelopment,Fine,3,\"two\nlines\"\nstory,Unknown kind,,\n" +
			"development,Off scale,4,\nexperiment,No hypothesis,,\n,No kind,,\n", rows: "4:kind 5:points 6:hypothesis 7:kind"},
		{name: "huge cells", csv: "kind,title,description\ndevelopment," + strings.Repeat("t", 301) + ",\nresearch,x," + strings.Repeat("d", 100001) + "\n",
			rows: "2:title 3:description"},
		{name: "unknown names", csv: "kind,title,status,priority,assignees,sprint,labels,time_box\n" +
			"development,a,Blocked,,,,,\ndevelopment,b,,soon,,,,\ndevelopment,c,,,dan,,,\ndevelopment,d,,,,S9,,\ndevelopment,e,,,,,two words!,\nresearch,f,,,,,,2 days\n",
			rows: "2:status 3:priority 4:assignees 5:sprint 6:labels 7:time_box"},
		{name: "Jira words", csv: "Summary,Issue Type,Story Points,Status\na,Saga,,\nb,Story,2.5,\nc,Story,-1,\nd,Story,1e3,\ne,Bug,,Blocked\n",
			opts: work.ImportOptions{Jira: true}, rows: "2:kind 3:points 4:points 5:points 6:status"},
		{name: "not valid CSV stops the import", csv: "kind,title\ndevelopment,\"open\nresearch,x\"y\n", rows: "3:"},
	} {
		before := mustCount(t, e)
		res, err := e.ws.ImportCSV(e.ctx, e.p, strings.NewReader(c.csv), c.opts)
		switch {
		case c.field != "":
			if res != nil || trellis.ErrorCode(err) != trellis.EINVALID || trellis.ErrorField(err) != c.field {
				t.Errorf("%s: %+v %v, want %s naming %q", c.name, res, err, trellis.EINVALID, c.field)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case importRows(res) != c.rows || res.Imported != 0 || len(res.Keys) != 0:
			t.Errorf("%s: rows %q imported %d, want %q and none", c.name, importRows(res), res.Imported, c.rows)
		}
		if n := mustCount(t, e); n != before {
			t.Errorf("%s: %d items after a refused import, want %d", c.name, n, before)
		}
	}
}

// FuzzImportCSV feeds ImportCSV any bytes, as a Jira export or in our own
// columns, into one SQLite store. Whatever it is given, ImportCSV must not
// panic and must either refuse it (an EINVALID naming the file or the
// mapping, or row errors each with its line, writing nothing) or create
// exactly the items it reports.
func FuzzImportCSV(f *testing.F) {
	for _, seed := range []string{
		jiraExport,
		"kind,title\ndevelopment,Serve\n",
		"kind,title,points,labels,assignees,status\ndevelopment,\"a, b\",3,\"x,y\",\"ada, bob\",Done\nresearch,\"quoted \"\"title\"\"\",,,,\n",
		"kind,title,description\nmaintenance,m,\"line one\r\nline two\"\n",
		"Summary,Issue Type,Status,Priority\nx,Bug,Closed,Trivial\ny,Experiment,Open,Highest\n",
		"\ufeffkind,title\r\nresearch,BOM and CRLF\r\n",
		"kind,title\nstory,bad kind\n",
		"name,what\nx,y\n",
		"",
		"kind,title\n",
		"kind\n\n\n",
		"kind,title\ndevelopment,\"never closed\n",
		"kind,title\ndevelopment,ragged,extra,cells\nresearch\n",
		"kind,title\nresearch,\xff\xfe invalid UTF-8\n",
		// A long row; the cell limits themselves are in TestImportCSV: a
		// 100 kB seed makes each new input's minimization take seconds.
		"kind,title,description\ndevelopment," + strings.Repeat("t", 301) + "," + strings.Repeat("long ", 400) + "\n",
		"kind,title\n" + strings.Repeat("maintenance,row\n", 50),
		"kind,title,sprint,points\ndevelopment,x,S1,5\ndevelopment,y,S9,5\n",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	e := newEnv(f, storetest.OpenSQLite(f))
	mustSprint(f, e, work.NewSprint{Name: "S1", StartsOn: "2026-03-02", EndsOn: "2026-03-06"})
	f.Fuzz(func(t *testing.T, data []byte, jira bool) {
		before := mustCount(t, e)
		res, err := e.ws.ImportCSV(e.ctx, e.p, strings.NewReader(string(data)), work.ImportOptions{Jira: jira})
		after := mustCount(t, e)
		if err != nil {
			if field := trellis.ErrorField(err); trellis.ErrorCode(err) != trellis.EINVALID || (field != "file" && field != "mapping") || res != nil {
				t.Fatalf("error %v (code %q, field %q), result %+v; want EINVALID naming file or mapping", err, trellis.ErrorCode(err), field, res)
			}
			if after != before {
				t.Fatalf("a refused import went from %d to %d items", before, after)
			}
			return
		}
		if len(res.Errors) > 0 {
			if res.Imported != 0 || len(res.Keys) != 0 || after != before {
				t.Fatalf("refused rows yet imported %d (%v), items %d to %d", res.Imported, res.Keys, before, after)
			}
			for _, re := range res.Errors {
				if re.Line < 2 || re.Message == "" || (re.Field != "" && !slices.Contains(work.ImportFields, re.Field)) {
					t.Fatalf("row error %+v: want a line after the header, a message and an import field", re)
				}
			}
			return
		}
		if res.Imported == 0 || res.Imported != len(res.Keys) || after != before+res.Imported {
			t.Fatalf("imported %d, keys %v, items %d to %d", res.Imported, res.Keys, before, after)
		}
		for _, k := range res.Keys {
			if it := mustGet(t, e, k); strings.TrimSpace(it.Title) == "" || !slices.Contains(work.Kinds, it.Kind) {
				t.Fatalf("imported %+v", it)
			}
		}
	})
}

// Regression: ImportCSV called csv.Reader.FieldPos(0) before it checked
// Read's error, and panicked when the first cell of a row was not valid
// CSV (found by FuzzImportCSV).
func TestImportCSVBadFirstCell(t *testing.T) { storetest.Backends(t, testImportCSVBadFirstCell) }

func testImportCSVBadFirstCell(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	for _, csv := range []string{"kind,title\n\"never closed\n", "kind,title\nbare\"quote,x\n"} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("import %q panicked: %v", csv, r)
				}
			}()
			res, err := e.ws.ImportCSV(e.ctx, e.p, strings.NewReader(csv), work.ImportOptions{})
			if err != nil || importRows(res) != "2:" {
				t.Errorf("import %q: %+v %v, want a row error on line 2", csv, res, err)
			}
		}()
	}
}

// Regression: text that is not UTF-8, or holds NUL, passed every field
// rule; SQLite stored it and PostgreSQL refused it with an internal error,
// so the two backends disagreed and a PostgreSQL user saw a 500.
func TestImportCSVNotUTF8(t *testing.T) { storetest.Backends(t, testImportCSVNotUTF8) }

func testImportCSVNotUTF8(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	res, err := e.ws.ImportCSV(e.ctx, e.p, strings.NewReader("kind,title,description\nresearch,fine,ok\nresearch,\xff\xfe,x\nresearch,nul,a\x00b\n"), work.ImportOptions{})
	if err != nil || importRows(res) != "3:title 4:description" {
		t.Errorf("import: %+v %v, want row errors 3:title 4:description", res, err)
	}
	if n := mustCount(t, e); n != 0 {
		t.Errorf("%d items after a refused import", n)
	}
}
