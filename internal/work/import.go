package work

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// MaxImportRows bounds one CSV import.
const MaxImportRows = 5000

// ImportFields are the item fields a CSV column can map to.
var ImportFields = []string{"kind", "title", "description", "status", "priority", "assignees", "labels", "points", "size",
	"time_box", "hypothesis", "success_metrics", "phase", "deliverable", "sprint", "learning", "key"}

// JiraMapping maps item fields to the columns of a Jira CSV export. A field
// lists alternatives: Jira names custom fields "Custom field (Story Points)".
var JiraMapping = map[string][]string{
	"title": {"Summary"}, "kind": {"Issue Type"}, "status": {"Status"}, "priority": {"Priority"}, "assignees": {"Assignee"},
	"labels": {"Labels"}, "description": {"Description"}, "points": {"Story Points", "Custom field (Story Points)", "Custom field (Story point estimate)"},
	"sprint": {"Sprint"}, "key": {"Issue key"},
}

// jiraKinds maps Jira issue types to item kinds.
var jiraKinds = map[string]Kind{"story": KindDevelopment, "task": KindDevelopment, "sub-task": KindDevelopment, "subtask": KindDevelopment,
	"improvement": KindDevelopment, "new feature": KindDevelopment, "epic": KindDevelopment, "bug": KindMaintenance,
	"spike": KindResearch, "research": KindResearch, "experiment": KindExperiment}

var jiraPriorities = map[string]string{"highest": "urgent", "blocker": "urgent", "critical": "urgent", "high": "high", "major": "high",
	"medium": "medium", "low": "low", "minor": "low", "lowest": "low", "trivial": "low"}

// ImportRowError is one refused row: its line in the file, the field and why.
type ImportRowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// ImportResult reports an import: what was created, or every refused row
// (and then nothing was created).
type ImportResult struct {
	Imported int              `json:"imported"`
	Keys     []string         `json:"keys"`
	Errors   []ImportRowError `json:"errors"`
}

// ImportOptions choose how CSV columns become item fields.
type ImportOptions struct {
	// Jira reads a Jira export: its column names, issue types, statuses
	// and priorities.
	Jira bool
	// Columns maps item fields to column headers and overrides the
	// defaults (a field's own name, or Jira's column).
	Columns map[string]string
}

// ImportCSV imports a backlog from CSV into an authorized project. Every row
// is validated by the same rules as CreateItem first; if any row is refused
// the result lists every refusal with its line and nothing is imported.
// Otherwise all rows are created in one transaction. Items imported in a
// done status count their Definition of Done as met: they were finished
// elsewhere. Errors: EINVALID for a file that cannot be read as CSV or a
// bad mapping.
func (s *Service) ImportCSV(ctx context.Context, proj *project.Project, r io.Reader, opts ImportOptions) (*ImportResult, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, trellis.Invalid("file", "the CSV file is empty; it needs a header row")
		}
		return nil, trellis.Invalid("file", "cannot read the CSV header: %v", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	cols, err := importColumns(header, opts)
	if err != nil {
		return nil, err
	}
	ic, err := s.loadItemCtx(ctx, proj)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Keys: []string{}, Errors: []ImportRowError{}}
	var items []*Item
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A row that is not CSV has no fields to ask FieldPos about.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			res.Errors = append(res.Errors, ImportRowError{Line: line, Message: "not valid CSV: " + err.Error()})
			break // the rest of the file cannot be trusted
		}
		if len(items)+len(res.Errors) >= MaxImportRows {
			return nil, trellis.Invalid("file", "at most %d rows per import; split the file", MaxImportRows)
		}
		line, _ := cr.FieldPos(0)
		in, err := rowToItem(rec, cols, opts.Jira, ic)
		if err == nil {
			var it *Item
			if it, err = s.buildItem(ctx, proj, ic, p.User.Name, in); err == nil {
				items = append(items, it)
				continue
			}
		}
		res.Errors = append(res.Errors, ImportRowError{Line: line, Field: trellis.ErrorField(err), Message: sentenceOf(trellis.ErrorMessage(err))})
	}
	if len(res.Errors) > 0 {
		return res, nil
	}
	if len(items) == 0 {
		return nil, trellis.Invalid("file", "the CSV file has a header but no rows")
	}
	if err := s.store.CreateItems(ctx, items); err != nil {
		return nil, err
	}
	var sprints []string
	for _, it := range items {
		res.Keys = append(res.Keys, project.ItemKey(proj.Key, it.Number))
		sprints = append(sprints, it.SprintID)
	}
	res.Imported = len(items)
	return res, s.recordSprint(ctx, proj, sprints...)
}

func sentenceOf(msg string) string {
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

// importColumns maps each item field to the indexes of its columns (Jira
// exports repeat Labels and Sprint columns).
func importColumns(header []string, opts ImportOptions) (map[string][]int, error) {
	want := map[string][]string{}
	for _, f := range ImportFields {
		want[f] = []string{f}
	}
	if opts.Jira {
		for f, names := range JiraMapping {
			want[f] = names
		}
	}
	for f, col := range opts.Columns {
		if !slices.Contains(ImportFields, f) {
			return nil, trellis.Invalid("mapping", "cannot map a column to %q; fields are %s", f, strings.Join(ImportFields, ", "))
		}
		if !slices.Contains(header, col) {
			return nil, trellis.Invalid("mapping", "the file has no column %q (for %s)", col, f)
		}
		want[f] = []string{col}
	}
	cols := map[string][]int{}
	for f, names := range want {
		for i, h := range header {
			if slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, h) }) {
				cols[f] = append(cols[f], i)
			}
		}
	}
	if len(cols["title"]) == 0 {
		return nil, trellis.Invalid("mapping", "no column holds the title (%s); map one", strings.Join(want["title"], " or "))
	}
	if len(cols["kind"]) == 0 {
		return nil, trellis.Invalid("mapping", "no column holds the kind (%s); map one", strings.Join(want["kind"], " or "))
	}
	return cols, nil
}

// rowToItem reads one record into a NewItem, translating Jira's words.
func rowToItem(rec []string, cols map[string][]int, jira bool, ic *itemCtx) (NewItem, error) {
	get := func(f string) string {
		for _, i := range cols[f] {
			if i < len(rec) && strings.TrimSpace(rec[i]) != "" {
				return strings.TrimSpace(rec[i])
			}
		}
		return ""
	}
	all := func(f string) []string {
		var out []string
		for _, i := range cols[f] {
			if i < len(rec) {
				out = append(out, strings.Fields(strings.ReplaceAll(rec[i], ",", " "))...)
			}
		}
		return out
	}
	in := NewItem{Title: get("title"), Description: get("description"), Status: get("status"), Priority: strings.ToLower(get("priority")),
		Labels: all("labels"), Size: get("size"), TimeBox: get("time_box"), Hypothesis: get("hypothesis"), SuccessMetrics: get("success_metrics"),
		Phase: strings.ToLower(get("phase")), Deliverable: get("deliverable"), Sprint: get("sprint"), Learning: get("learning")}
	if k := get("key"); k != "" {
		// Keep the trail back to the other tracker.
		in.Description = strings.TrimSpace(in.Description + "\n\n_Imported from " + k + "._")
	}
	kind := get("kind")
	if jira {
		k, ok := jiraKinds[strings.ToLower(kind)]
		if !ok {
			return in, trellis.Invalid("kind", "issue type %q has no kind; use Story, Task, Bug, Spike or Experiment", kind)
		}
		kind = string(k)
		if pr, ok := jiraPriorities[in.Priority]; ok {
			in.Priority = pr
		}
		in.Status = jiraStatus(in.Status, ic.statuses)
		if a := get("assignees"); a != "" {
			in.Assignees = []string{strings.ToLower(a)}
		}
	} else {
		in.Assignees = all("assignees")
	}
	in.Kind = Kind(strings.ToLower(kind))
	if in.Kind == "" {
		return in, trellis.Invalid("kind", "kind is empty")
	}
	if v := get("points"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f != math.Trunc(f) || f < 0 || f > 1000 {
			return in, trellis.Invalid("points", "points must be a whole number; not %q", v)
		}
		in.Points = int(f)
	}
	if st, ok := statusByName(ic.statuses, in.Status); ok && st.Category == CategoryDone {
		in.DoDChecked = ic.dod[in.Kind]
	}
	return in, nil
}

// jiraStatus maps a Jira status onto the workflow: the same name if the
// workflow has it, else by Jira's usual meaning.
func jiraStatus(s string, ss []Status) string {
	if s == "" {
		return ""
	}
	if st, ok := statusByName(ss, s); ok {
		return st.Name
	}
	cat := CategoryTodo
	switch strings.ToLower(s) {
	case "in progress", "in development", "in review", "review", "testing", "in testing":
		cat = CategoryDoing
	case "done", "closed", "resolved", "released":
		cat = CategoryDone
	case "to do", "open", "backlog", "selected for development", "new":
	default:
		return s // unknown: let the status rule name it
	}
	for _, st := range ss {
		if st.Category == cat {
			return st.Name
		}
	}
	return fmt.Sprint(s)
}
