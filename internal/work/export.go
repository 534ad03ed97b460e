package work

import (
	"encoding/csv"
	"fmt"
	"github.com/trellisml/trellis/internal/project"
	"io"
	"strings"
)

// csvSafe defuses cells a spreadsheet would run as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteHypothesisCSV writes the hypothesis log as CSV with a header row.
func WriteHypothesisCSV(w io.Writer, ds []*Decision) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"item", "title", "hypothesis", "verdict", "outcome", "reason", "evidence", "goal_results", "follow_up", "decided_by", "decided_at"})
	for _, d := range ds {
		row := []string{d.Item, d.Title, d.Hypothesis, d.Verdict, d.Outcome, d.Reason, strings.Join(d.Evidence, " "), strings.Join(d.GoalResults, "; "), d.FollowUp, d.DecidedBy,
			d.DecidedAt.Format("2006-01-02T15:04:05Z")}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// mdCell makes s safe inside one Markdown table cell.
func mdCell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return strings.TrimSpace(s)
}

// WriteHypothesisMarkdown writes the hypothesis log as a Markdown document
// with one table, ready to paste into a sprint review.
func WriteHypothesisMarkdown(w io.Writer, proj *project.Project, ds []*Decision) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Hypothesis log: %s\n\n", mdCell(proj.Name))
	if len(ds) == 0 {
		b.WriteString("No experiment has been decided yet.\n")
	} else {
		b.WriteString("| Item | Hypothesis | Verdict | Outcome | Reason | Evidence | Goals | Follow-up | Decided |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, d := range ds {
			fmt.Fprintf(&b, "| %s %s | %s | %s | %s | %s | %s | %s | %s | %s by %s |\n", d.Item, mdCell(d.Title), mdCell(d.Hypothesis), d.Verdict,
				strings.ReplaceAll(d.Outcome, "_", " "), mdCell(d.Reason), mdCell(strings.Join(d.Evidence, ", ")), mdCell(strings.Join(d.GoalResults, "; ")), d.FollowUp,
				d.DecidedAt.Format("2006-01-02"), d.DecidedBy)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
