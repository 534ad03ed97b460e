package web

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// runsPageSize is how many runs one page of the runs table shows; the
// table is paged on the server so it stays fast at 100,000 runs.
const runsPageSize = 50

type runsView struct {
	layout
	Experiments []*tracking.Experiment
	Experiment  string // selected experiment id, "" for all
	Name        string // the quick search: part of a run's name
	Filter      string
	FilterError string
	Order       string
	Columns     []string // chosen columns: metrics.x, params.y, tags.z
	Runs        []runRow
	Next        string // page token of the next page
	Query       url.Values
}

type runRow struct {
	Run   *tracking.Run
	Cells []string
	// The runs table's own: the run's name (its id when it has none), the
	// start in short and in full, its tracking experiment's name, the keys
	// of the items it links to and the cells with their kind.
	Name, Started, StartedFull string
	Experiment                 string
	Items                      []string
	Values                     []runCell
}

// runCell is one metric, param or tag cell of the runs table; a metric's
// is a number, aligned and never wrapped.
type runCell struct {
	Text   string
	Metric bool
}

// runsPage lists a project's runs: pick an experiment, filter with the
// search language (errors shown under the box), sort by a column, page.
func (ui *UI) runsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	q := r.URL.Query()
	v := &runsView{layout: ui.base(r, "Runs · "+proj.Name, "runs").wide(), Experiment: q.Get("experiment"), Filter: q.Get("filter"),
		Name: strings.TrimSpace(q.Get("name")), Order: q.Get("order"), Query: q}
	var err error
	if v.Experiments, _, err = ui.track.SearchExperiments(ctx, proj, tracking.SearchInput{OrderBy: []string{"name"}, MaxResults: 1000}); err != nil {
		return err
	}
	ids := []string{v.Experiment}
	if v.Experiment == "" {
		ids = ids[:0]
		for _, e := range v.Experiments {
			ids = append(ids, strconv.FormatInt(e.ID, 10))
		}
	}
	filter, err := withRunName(v.Filter, v.Name)
	var runs []*tracking.Run
	if err == nil {
		in := tracking.SearchRunsInput{ExperimentIDs: ids, SearchInput: tracking.SearchInput{Filter: filter, MaxResults: runsPageSize, PageToken: q.Get("page")}}
		if v.Order != "" {
			in.OrderBy = []string{v.Order}
		}
		runs, v.Next, err = ui.track.SearchRuns(ctx, proj, in)
	}
	switch {
	case trellis.ErrorCode(err) == trellis.EINVALID:
		v.FilterError = trellis.ErrorMessage(err)
	case err != nil:
		return err
	}
	v.Columns = chosenColumns(q.Get("columns"), runs)
	names := make(map[int64]string, len(v.Experiments))
	for _, e := range v.Experiments {
		names[e.ID] = e.Name
	}
	now := time.Now()
	runIDs := make([]string, len(runs))
	for i, run := range runs {
		runIDs[i] = run.Info.ID
	}
	items, err := ui.track.RunsItems(ctx, proj, runIDs)
	if err != nil {
		return err
	}
	for _, run := range runs {
		row := runRow{Run: run, Name: run.Info.Name, Experiment: names[run.Info.ExperimentID], Items: items[run.Info.ID]}
		if row.Name == "" {
			row.Name = run.Info.ID[:min(12, len(run.Info.ID))]
		}
		if run.Info.StartTime != 0 {
			start := time.UnixMilli(run.Info.StartTime).Local()
			row.Started, row.StartedFull = shortTime(start, now), start.Format("2 Jan 2006 15:04")
		}
		for _, c := range v.Columns {
			row.Values = append(row.Values, runCell{Text: cell(run, c), Metric: strings.HasPrefix(c, "metrics.")})
		}
		v.Runs = append(v.Runs, row)
	}
	status := http.StatusOK
	if v.FilterError != "" {
		status = http.StatusBadRequest
	}
	return ui.render(w, status, "runs", v)
}

// withRunName adds the quick name search to the filter: runs whose name
// holds name, in any case. The filter is checked on its own first, so its
// errors name its own columns.
func withRunName(filter, name string) (string, error) {
	if name == "" {
		return filter, nil
	}
	if _, err := tracking.ParseFilter(filter); err != nil {
		return "", err
	}
	like := "attributes.run_name ILIKE '%" + strings.ReplaceAll(name, "'", "''") + "%'"
	if strings.TrimSpace(filter) == "" {
		return like, nil
	}
	return "(" + filter + ") AND " + like, nil
}

// defaultColumns is how many metric and param columns the runs table
// shows when none are chosen: as many as fit beside the run's own columns
// at 1,400 px.
const defaultColumns = 6

// chosenColumns returns the columns the user asked for, else the metric
// and param keys of the runs shown (at most defaultColumns).
func chosenColumns(asked string, runs []*tracking.Run) []string {
	if asked != "" {
		var cols []string
		for _, c := range strings.Split(asked, ",") {
			if c = strings.TrimSpace(c); c != "" && len(cols) < 20 {
				cols = append(cols, c)
			}
		}
		return cols
	}
	seen := map[string]bool{}
	var metrics, params []string
	for _, r := range runs {
		for _, m := range r.Metrics {
			if !seen["metrics."+m.Key] {
				seen["metrics."+m.Key] = true
				metrics = append(metrics, "metrics."+m.Key)
			}
		}
		for _, p := range r.Params {
			if !seen["params."+p.Key] {
				seen["params."+p.Key] = true
				params = append(params, "params."+p.Key)
			}
		}
	}
	sort.Strings(metrics)
	sort.Strings(params)
	cols := append(metrics, params...)
	return cols[:min(len(cols), defaultColumns)]
}

func cell(r *tracking.Run, col string) string {
	entity, key, _ := strings.Cut(col, ".")
	switch entity {
	case "metrics":
		for _, m := range r.Metrics {
			if m.Key == key {
				return formatValue(m.Value)
			}
		}
	case "params":
		for _, p := range r.Params {
			if p.Key == key {
				return p.Value
			}
		}
	case "tags":
		for _, t := range r.Tags {
			if t.Key == key {
				return t.Value
			}
		}
	}
	return ""
}

func formatValue(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "∞"
	case math.IsInf(f, -1):
		return "−∞"
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

type runView struct {
	layout
	Run       *tracking.Run
	ExpName   string // the run's tracking experiment
	Items     []tracking.ItemLink
	Metrics   []metricRow
	Children  []*tracking.Run
	Parent    string
	Artifacts *artifactsView
}

type metricRow struct {
	Key   string
	Value string
	Step  int64
}

// runPage shows one run: its info, params, metrics with charts, tags, the
// items it links to, nested runs and its artifacts (?dir= lists a
// directory, ?file= previews a file).
func (ui *UI) runPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	run, err := ui.track.Run(ctx, proj, r.PathValue("run"))
	if err != nil {
		return err
	}
	v := &runView{layout: ui.base(r, run.Info.Name+" · Runs · "+proj.Name, "runs"), Run: run}
	if v.Items, err = ui.track.RunItems(ctx, proj, run.Info.ID); err != nil {
		return err
	}
	exp, err := ui.track.Experiment(ctx, proj, strconv.FormatInt(run.Info.ExperimentID, 10))
	if err != nil {
		return err
	}
	v.ExpName = exp.Name
	for _, m := range run.Metrics {
		v.Metrics = append(v.Metrics, metricRow{Key: m.Key, Value: formatValue(m.Value), Step: m.Step})
	}
	for _, t := range run.Tags {
		if t.Key == tracking.TagParentRun {
			v.Parent = t.Value
		}
	}
	if v.Children, err = ui.track.ChildRuns(ctx, proj, run, 100); err != nil {
		return err
	}
	q := r.URL.Query()
	if v.Artifacts, err = ui.artifacts(r, proj, run, q.Get("dir"), q.Get("file")); err != nil {
		return err
	}
	return ui.render(w, http.StatusOK, "run", v)
}

// runMetricJSON serves a downsampled metric series for the run page's
// charts: arrays of step, min, max and mean per bucket, for uPlot.
func (ui *UI) runMetricJSON(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	q := r.URL.Query()
	buckets := 1000
	if s := q.Get("buckets"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return trellis.Invalid("buckets", "buckets must be a number")
		}
		buckets = n
	}
	var start, end *int64
	for name, dst := range map[string]**int64{"start": &start, "end": &end} {
		if s := q.Get(name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return trellis.Invalid(name, "%s must be a step number", name)
			}
			*dst = &n
		}
	}
	bs, err := ui.track.ChartSeries(ctx, proj, r.PathValue("run"), q.Get("key"), start, end, buckets)
	if err != nil {
		return err
	}
	out := struct {
		Step []int64   `json:"step"`
		Min  []float64 `json:"min"`
		Max  []float64 `json:"max"`
		Mean []float64 `json:"mean"`
	}{Step: []int64{}, Min: []float64{}, Max: []float64{}, Mean: []float64{}}
	for _, b := range bs {
		if math.IsInf(b.Min, 0) || math.IsInf(b.Max, 0) || math.IsNaN(b.Mean) || math.IsInf(b.Mean, 0) {
			continue // JSON has no infinities; the table shows them
		}
		out.Step = append(out.Step, b.FirstStep)
		out.Min, out.Max, out.Mean = append(out.Min, b.Min), append(out.Max, b.Max), append(out.Mean, b.Mean)
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}

// sortLink is a column header link. Href is a whole relative URL ("?...")
// because html/template query-escapes anything placed after a literal "?"
// in an attribute, which turned "&" and "=" into %26 and %3D.
type sortLink struct {
	Href  string
	Kind  string // "metrics.", "params." or "tags.", set small above a column's key
	Label string
	Arrow string
}

// sortArgs builds a column header link: sorting by key descending first,
// then ascending on the second click, keeping the other query values.
func sortArgs(v *runsView, key, label string) sortLink {
	q := url.Values{}
	for k, vs := range v.Query {
		if k != "order" && k != "page" {
			q[k] = vs
		}
	}
	l := sortLink{Label: label}
	if entity, name, ok := strings.Cut(label, "."); ok && label == key && (entity == "metrics" || entity == "params" || entity == "tags") {
		l.Kind, l.Label = entity+".", name
	}
	if !strings.Contains(key, ".") {
		key = "attributes." + key
	}
	switch v.Order {
	case key + " DESC":
		q.Set("order", key+" ASC")
		l.Arrow = " ↓"
	case key + " ASC":
		q.Set("order", key+" DESC")
		l.Arrow = " ↑"
	default:
		q.Set("order", key+" DESC")
	}
	l.Href = "?" + q.Encode()
	return l
}

// pageQuery is the next page's link: a whole relative URL, for the reason
// sortLink gives.
func pageQuery(q url.Values, token string) string {
	n := url.Values{}
	for k, vs := range q {
		n[k] = vs
	}
	n.Set("page", token)
	return "?" + n.Encode()
}

type compareView struct {
	layout
	Runs     []*tracking.Run
	DiffOnly bool
	Rows     []compareRow
	Charts   []compareChart
}

type compareRow struct {
	Key    string
	Values []string
	Differ bool
}

type compareChart struct {
	Key    string
	Series string // JSON: [{"name":..., "url":...}]
}

// comparePage shows 2–20 runs side by side: params, latest metrics and
// tags (optionally only the keys that differ) and one overlaid chart per
// metric.
func (ui *UI) comparePage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	proj := route.ProjectFrom(ctx)
	ids := r.URL.Query()["run"]
	if len(ids) < 2 || len(ids) > 20 {
		return trellis.Invalid("run", "choose between 2 and 20 runs to compare")
	}
	v := &compareView{layout: ui.base(r, "Compare runs · "+proj.Name, "runs").wide(), DiffOnly: r.URL.Query().Get("diff") == "1"}
	for _, id := range ids {
		run, err := ui.track.Run(ctx, proj, id)
		if err != nil {
			return err
		}
		v.Runs = append(v.Runs, run)
	}
	for _, col := range compareKeys(v.Runs) {
		row := compareRow{Key: col}
		for _, run := range v.Runs {
			row.Values = append(row.Values, cell(run, col))
			if row.Values[len(row.Values)-1] != row.Values[0] {
				row.Differ = true
			}
		}
		if !v.DiffOnly || row.Differ {
			v.Rows = append(v.Rows, row)
		}
		if key, ok := strings.CutPrefix(col, "metrics."); ok {
			type series struct {
				Name string `json:"name"`
				URL  string `json:"url"`
			}
			var ss []series
			for _, run := range v.Runs {
				ss = append(ss, series{run.Info.Name, "/p/" + proj.Key + "/runs/" + run.Info.ID + "/metric.json?key=" + url.QueryEscape(key)})
			}
			b, _ := json.Marshal(ss)
			v.Charts = append(v.Charts, compareChart{Key: key, Series: string(b)})
		}
	}
	return ui.render(w, http.StatusOK, "compare", v)
}

// compareKeys lists every params., metrics. and tags. key of the runs.
func compareKeys(runs []*tracking.Run) []string {
	seen := map[string]bool{}
	var params, metrics, tags []string
	add := func(list *[]string, k string) {
		if !seen[k] {
			seen[k] = true
			*list = append(*list, k)
		}
	}
	for _, r := range runs {
		for _, p := range r.Params {
			add(&params, "params."+p.Key)
		}
		for _, m := range r.Metrics {
			add(&metrics, "metrics."+m.Key)
		}
		for _, t := range r.Tags {
			add(&tags, "tags."+t.Key)
		}
	}
	sort.Strings(params)
	sort.Strings(metrics)
	sort.Strings(tags)
	return append(append(params, metrics...), tags...)
}

// itemRunsShown bounds the runs an item page lists; the Runs page shows
// the rest through the link below the table.
const itemRunsShown = 50

// itemRunsMetrics bounds the metric columns of an item's runs table.
const itemRunsMetrics = 4

// itemRuns is the Runs section of an item page.
type itemRuns struct {
	Enabled bool // tracking is wired in
	Linked  int  // runs linked to the item, active or deleted
	Runs    []runRow
	Columns []string // metric keys
	// RunsURL opens the shown runs in the Runs table; CompareURL compares
	// them (2–20 runs).
	RunsURL, CompareURL string
}

// searchChunk is how many run ids one run_id IN (...) filter names; 500
// quoted ids keep the filter well under the search language's limits.
const searchChunk = 500

// itemRunsOf finds the active runs of active experiments linked to an item
// (as goal evaluation counts them), newest first, at most itemRunsShown,
// with the latest value of the metrics they share most.
func (ui *UI) itemRunsOf(ctx context.Context, proj *project.Project, key string) (itemRuns, error) {
	ir := itemRuns{Enabled: ui.track != nil}
	if ui.track == nil {
		return ir, nil
	}
	links, err := ui.track.ItemRuns(ctx, proj, key)
	if err != nil || len(links) == 0 {
		return ir, err
	}
	ir.Linked = len(links)
	exps, _, err := ui.track.SearchExperiments(ctx, proj, tracking.SearchInput{MaxResults: tracking.MaxResults})
	if err != nil {
		return ir, err
	}
	var expIDs []string
	for _, e := range exps {
		expIDs = append(expIDs, strconv.FormatInt(e.ID, 10))
	}
	var runs []*tracking.Run
	for start := 0; start < len(links); start += searchChunk {
		chunk := links[start:min(start+searchChunk, len(links))]
		rs, _, err := ui.track.SearchRuns(ctx, proj, tracking.SearchRunsInput{ExperimentIDs: expIDs,
			SearchInput: tracking.SearchInput{Filter: runIDFilter(chunk), OrderBy: []string{"attributes.start_time DESC"}, MaxResults: itemRunsShown}})
		if err != nil {
			return ir, err
		}
		runs = append(runs, rs...)
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Info.StartTime > runs[j].Info.StartTime })
	runs = runs[:min(len(runs), itemRunsShown)]
	ir.Columns = sharedMetrics(runs, itemRunsMetrics)
	ids := url.Values{}
	for _, r := range runs {
		row := runRow{Run: r}
		for _, c := range ir.Columns {
			row.Cells = append(row.Cells, cell(r, "metrics."+c))
		}
		ir.Runs = append(ir.Runs, row)
		ids.Add("run", r.Info.ID)
	}
	if len(runs) > 0 {
		shown := make([]tracking.ItemLink, len(runs))
		for i, r := range runs {
			shown[i].RunID = r.Info.ID
		}
		ir.RunsURL = "/p/" + proj.Key + "/runs?" + url.Values{"filter": {runIDFilter(shown)}}.Encode()
	}
	if len(runs) >= 2 && len(runs) <= 20 {
		ir.CompareURL = "/p/" + proj.Key + "/runs/compare?" + ids.Encode()
	}
	return ir, nil
}

func runIDFilter(links []tracking.ItemLink) string {
	quoted := make([]string, len(links))
	for i, l := range links {
		quoted[i] = "'" + l.RunID + "'"
	}
	return "attributes.run_id IN (" + strings.Join(quoted, ", ") + ")"
}

// sharedMetrics picks at most n metric keys: those most runs have, ties
// broken by name, so the columns compare like with like.
func sharedMetrics(runs []*tracking.Run, n int) []string {
	count := map[string]int{}
	for _, r := range runs {
		for _, m := range r.Metrics {
			count[m.Key]++
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys[:min(len(keys), n)]
}
