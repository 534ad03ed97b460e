package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/tracking"
)

// TestRunsTable follows the runs table's own links: a column header sorts
// by it (then the other way), the filter survives sorting, the next-page
// link pages on, and a bad filter is answered inline naming its column.
func TestRunsTable(t *testing.T) {
	e := newEnv(t)
	root := e.mustUser("root", true)
	p := e.mustProject(root, "BAL", "Balloons")
	ctx := e.ctx(root)
	for i := range 55 {
		r, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "0", Name: fmt.Sprintf("run-%02d", i), StartTime: int64(1000 + i)})
		if err != nil {
			t.Fatal(err)
		}
		b := tracking.Batch{Metrics: []tracking.Metric{{Key: "loss", Value: float64(i) / 100}},
			Params: []tracking.Param{{Key: "odd", Value: fmt.Sprint(i%2 == 1)}}}
		if err := e.track.LogBatch(ctx, p, r.Info.ID, b); err != nil {
			t.Fatal(err)
		}
	}
	names := regexp.MustCompile(`>(run-\d\d)</a>`)
	rowsOf := func(body string) []string {
		var out []string
		for _, m := range names.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	link := func(body, text string) string {
		t.Helper()
		m := regexp.MustCompile(`<a href="([^"]*)">` + regexp.QuoteMeta(text)).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no link %q", text)
		}
		return "/p/BAL/runs" + html.UnescapeString(m[1])
	}

	w := e.get("/p/BAL/runs?filter="+strings.ReplaceAll("params.odd = 'true'", " ", "+"), root)
	wantStatus(t, w, http.StatusOK)
	if got := rowsOf(w.Body.String()); len(got) != 27 || got[0] != "run-53" {
		t.Fatalf("filtered rows = %v", got)
	}
	// Sort by the metric column: descending first, then ascending.
	next := link(w.Body.String(), "metrics.loss")
	if !strings.Contains(next, "order=metrics.loss+DESC") || !strings.Contains(next, "filter=params.odd") {
		t.Fatalf("sort link %q", next)
	}
	w = e.get(next, root)
	wantStatus(t, w, http.StatusOK)
	if got := rowsOf(w.Body.String()); len(got) != 27 || got[0] != "run-53" || got[26] != "run-01" {
		t.Errorf("by loss descending = %v", got)
	}
	w = e.get(link(w.Body.String(), "metrics.loss ↓"), root)
	if got := rowsOf(w.Body.String()); len(got) != 27 || got[0] != "run-01" {
		t.Errorf("by loss ascending = %v", got)
	}

	// Paging: 50 on the first page, the last 5 on the next.
	w = e.get("/p/BAL/runs?order=attributes.start_time+ASC", root)
	first := rowsOf(w.Body.String())
	if len(first) != 50 || first[0] != "run-00" {
		t.Fatalf("first page = %v", first)
	}
	w = e.get(link(w.Body.String(), "Next page"), root)
	wantStatus(t, w, http.StatusOK)
	if got := rowsOf(w.Body.String()); strings.Join(got, ",") != "run-50,run-51,run-52,run-53,run-54" {
		t.Errorf("second page = %v", got)
	}
	wantNoBody(t, w, "Next page")

	// A bad filter: 400, the message under the box, naming the column.
	w = e.get("/p/BAL/runs?filter=metrics.loss+%3C", root)
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `id="filter-error" role="alert">Invalid filter at column`, `aria-invalid="true"`, `value="metrics.loss &lt;"`)
}

// TestRunsTableDatasetFilter filters the runs table by the datasets the
// runs logged, and shows a bad datasets. key inline with its column.
func TestRunsTableDatasetFilter(t *testing.T) {
	e := newEnv(t)
	root := e.mustUser("root", true)
	p := e.mustProject(root, "BAL", "Balloons")
	ctx := e.ctx(root)
	for i, name := range []string{"train", "eval", ""} {
		r, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: "0", Name: fmt.Sprintf("run-%02d", i), StartTime: int64(1000 + i)})
		if err != nil {
			t.Fatal(err)
		}
		if name == "" {
			continue
		}
		in := tracking.DatasetInput{Dataset: tracking.Dataset{Name: name, Digest: "d" + name, SourceType: "local", Source: "{}"},
			Tags: []tracking.Tag{{Key: tracking.TagDataContext, Value: name + "ing"}}}
		if err := e.track.LogInputs(ctx, p, r.Info.ID, []tracking.DatasetInput{in}); err != nil {
			t.Fatal(err)
		}
	}
	w := e.get("/p/BAL/runs?filter="+url.QueryEscape("datasets.context = 'training' OR datasets.name IN ('eval')"), root)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, ">run-00</a>", ">run-01</a>", `id="filter-help"`)
	wantNoBody(t, w, ">run-02</a>")
	w = e.get("/p/BAL/runs?filter="+url.QueryEscape("datasets.name != 'train'"), root)
	wantBody(t, w, ">run-01</a>")
	wantNoBody(t, w, ">run-00</a>", ">run-02</a>")

	w = e.get("/p/BAL/runs?filter="+url.QueryEscape("tags.a = 'b' AND datasets.source = 'x'"), root)
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, `Invalid filter at column 18: invalid dataset key &#34;source&#34;; valid keys are name, digest, context`)
}
