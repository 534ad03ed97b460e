package web

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/tracking"
)

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
