package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/work"
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
	next := link(w.Body.String(), `<span class="col-kind">metrics.</span>loss`)
	if !strings.Contains(next, "order=metrics.loss+DESC") || !strings.Contains(next, "filter=params.odd") {
		t.Fatalf("sort link %q", next)
	}
	w = e.get(next, root)
	wantStatus(t, w, http.StatusOK)
	if got := rowsOf(w.Body.String()); len(got) != 27 || got[0] != "run-53" || got[26] != "run-01" {
		t.Errorf("by loss descending = %v", got)
	}
	w = e.get(link(w.Body.String(), `<span class="col-kind">metrics.</span>loss ↓`), root)
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

// TestItemRuns logs runs through the tracking service, linked to an item
// by name, by tag and by hand, and finds them on the item page (newest
// first, with their shared metrics) and the item on each run page.
func TestItemRuns(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("root", true)
	p := e.mustProject(s, "BAL", "Balloons")
	ctx := e.ctx(s)
	it, err := e.work.CreateItem(ctx, p, work.NewItem{Kind: work.KindExperiment, Title: "Focal loss", Hypothesis: "We believe focal loss will raise recall, measured by recall@0.5"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.work.CreateItem(ctx, p, work.NewItem{Kind: work.KindExperiment, Title: "Mosaic", Hypothesis: "We believe mosaic will raise recall, measured by recall@0.5"})
	if err != nil {
		t.Fatal(err)
	}

	// Empty state: tells how to link runs.
	w := e.get("/p/BAL/items/"+it.Key, s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `id="runs-title">Runs<`, "No runs linked", "<code>trellis.item="+it.Key+"</code>", "trellis runs link -p BAL RUN_ID "+it.Key)

	exp, err := e.track.CreateExperiment(ctx, p, "detector", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	expID := "1"
	if exp.ID != 1 {
		t.Fatalf("experiment id = %d", exp.ID)
	}
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).UnixMilli()
	logRun := func(name string, hour int64, tags []tracking.Tag, metrics map[string]float64) *tracking.Run {
		t.Helper()
		r, err := e.track.CreateRun(ctx, p, tracking.NewRun{ExperimentID: expID, Name: name, StartTime: base + hour*3600_000, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		var b tracking.Batch
		for k, v := range metrics {
			b.Metrics = append(b.Metrics, tracking.Metric{Key: k, Value: v, Timestamp: base, Step: 0})
		}
		if err := e.track.LogBatch(ctx, p, r.Info.ID, b); err != nil {
			t.Fatal(err)
		}
		return r
	}
	byName := logRun(it.Key+" gamma 2", 1, nil, map[string]float64{"recall": 0.79, "loss": 0.31, "only_here": 7})
	byTag := logRun("gamma 5", 3, []tracking.Tag{{Key: tracking.TagItem, Value: it.Key}}, map[string]float64{"recall": 0.77, "loss": 0.35})
	byHand := logRun("gamma 1", 2, nil, map[string]float64{"recall": 0.74, "loss": 0.4})
	if _, err := e.track.LinkItem(ctx, p, byHand.Info.ID, it.Key); err != nil {
		t.Fatal(err)
	}
	unrelated := logRun(other.Key+" mosaic", 4, nil, map[string]float64{"recall": 0.9})

	w = e.get("/p/BAL/items/"+it.Key, s)
	wantStatus(t, w, http.StatusOK)
	checkPage(t, w)
	body := w.Body.String()
	wantBody(t, w, `href="/p/BAL/runs/`+byName.Info.ID+`">`+it.Key+` gamma 2</a>`, `href="/p/BAL/runs/`+byTag.Info.ID+`">gamma 5</a>`,
		`href="/p/BAL/runs/`+byHand.Info.ID+`">gamma 1</a>`, `<th scope="col">loss</th><th scope="col">recall</th><th scope="col">only_here</th>`,
		"<td>0.79</td>", "<td>0.35</td>", "RUNNING", "Compare these runs", "/p/BAL/runs/compare?run=")
	wantNoBody(t, w, "No runs linked", unrelated.Info.ID)
	// Newest first: gamma 5 (hour 3), gamma 1 (hour 2), gamma 2 (hour 1).
	i5, i1, i2 := strings.Index(body, ">gamma 5<"), strings.Index(body, ">gamma 1<"), strings.Index(body, " gamma 2<")
	if i5 < 0 || i5 > i1 || i1 > i2 {
		t.Errorf("runs not newest first: gamma 5 at %d, gamma 1 at %d, gamma 2 at %d", i5, i1, i2)
	}

	// The Runs table link shows exactly the item's runs.
	w = e.get("/p/BAL/items/"+it.Key, s)
	start := strings.Index(w.Body.String(), `<a href="/p/BAL/runs?filter=`)
	if start < 0 {
		t.Fatal("no link to the Runs table")
	}
	href := w.Body.String()[start+len(`<a href="`):]
	href = html.UnescapeString(href[:strings.Index(href, `"`)])
	w = e.get(href, s)
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, byName.Info.ID, byTag.Info.ID, byHand.Info.ID)
	wantNoBody(t, w, unrelated.Info.ID)

	// Each run page links back to the item page.
	for _, r := range []*tracking.Run{byName, byTag, byHand} {
		w = e.get("/p/BAL/runs/"+r.Info.ID, s)
		wantStatus(t, w, http.StatusOK)
		wantBody(t, w, `<a class="key" href="/p/BAL/items/`+it.Key+`">`+it.Key+`</a>`)
	}
}
