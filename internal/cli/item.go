package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/client"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
	"github.com/trellisml/trellis/internal/work"
)

// projectOf returns the project key: --project, else the prefix of an item
// key like BAL-12, else $TRELLIS_PROJECT.
func projectOf(flag, itemRef string) (string, error) {
	if flag != "" {
		return strings.ToUpper(flag), nil
	}
	if i := strings.LastIndex(itemRef, "-"); i > 0 {
		return strings.ToUpper(itemRef[:i]), nil
	}
	if p := os.Getenv("TRELLIS_PROJECT"); p != "" {
		return p, nil
	}
	return "", usagef("which project? pass --project KEY, an item key like BAL-12, or set TRELLIS_PROJECT")
}

// itemFields are the flags shared by item create and item edit.
type itemFields struct {
	title, description, status, priority, parent, phase, deliverable, timeBox, hypothesis, metrics, size, sprint, learning, stage string
	assignees, labels                                                                                                             []string
	points                                                                                                                        int
}

func (f *itemFields) flags(cmd *cobra.Command, edit bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.title, "title", "", "title")
	fl.StringVar(&f.description, "description", "", "description in Markdown ('-' reads stdin)")
	fl.StringVar(&f.status, "status", "", "workflow status, e.g. 'To do'")
	fl.StringVar(&f.priority, "priority", "", "none, low, medium, high or urgent")
	fl.StringSliceVar(&f.assignees, "assignee", nil, "assignee user name (repeatable)")
	fl.StringSliceVar(&f.labels, "label", nil, "label (repeatable)")
	fl.StringVar(&f.parent, "parent", "", "parent item key")
	fl.StringVar(&f.phase, "phase", "", "explore, prototype or productionize")
	fl.StringVar(&f.deliverable, "deliverable", "", "the deliverable, one line")
	fl.StringVar(&f.timeBox, "time-box", "", "time box: 4h, 2d, 3d, 1w or any N h/d/w")
	fl.StringVar(&f.hypothesis, "hypothesis", "", "experiment hypothesis: We believe X will Y, measured by Z")
	fl.StringVar(&f.metrics, "success-metrics", "", "experiment success metrics")
	fl.IntVar(&f.points, "points", 0, "story points (Fibonacci projects)")
	fl.StringVar(&f.size, "size", "", "T-shirt size XS–XL (T-shirt projects)")
	fl.StringVar(&f.sprint, "sprint", "", "sprint name or id")
	if edit {
		fl.StringVar(&f.learning, "learning", "", "the learning a research item closes with")
		fl.StringVar(&f.stage, "stage", "", "experiment stage: ideation, active, analysis or decision")
	}
}

func readDescription(stdin io.Reader, d string) (string, error) {
	if d != "-" {
		return d, nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
	return string(b), err
}

func itemCmd(stdin io.Reader) *cobra.Command {
	cmd := group("item", "Create, list, show, edit, move and decide backlog items")

	var cr remote
	var cf itemFields
	var kind, project string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an item",
		Example: "  trellis item create -p BAL --kind development --title 'Serve model over HTTP' --points 5\n" +
			"  trellis item create -p BAL --kind experiment --title 'Mosaic augmentation' --time-box 2d \\\n" +
			"      --hypothesis 'We believe mosaic augmentation will raise recall, measured by recall@0.5 on balloons v3'",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(project, "")
			if err != nil {
				return err
			}
			c, err := cr.client()
			if err != nil {
				return err
			}
			desc, err := readDescription(stdin, cf.description)
			if err != nil {
				return err
			}
			it, err := c.CreateItem(cmd.Context(), key, work.NewItem{Kind: work.Kind(kind), Title: cf.title, Description: desc, Status: cf.status,
				Priority: cf.priority, Assignees: cf.assignees, Labels: cf.labels, Parent: cf.parent, Phase: cf.phase, Deliverable: cf.deliverable,
				TimeBox: cf.timeBox, Hypothesis: cf.hypothesis, SuccessMetrics: cf.metrics, Points: cf.points, Size: cf.size, Sprint: cf.sprint})
			if err != nil {
				return err
			}
			if cr.asJSON {
				return printJSON(cmd.OutOrStdout(), it)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s %s (%s, %s)\n", it.Key, it.Title, it.Kind, it.Status)
			return nil
		},
	}
	cr.flags(create, true)
	cf.flags(create, false)
	create.Flags().StringVar(&kind, "kind", "", "research, experiment, development or maintenance (required)")
	create.Flags().StringVarP(&project, "project", "p", "", "project key (env TRELLIS_PROJECT)")

	var lr remote
	var lproject, lkind, lstatus, lassignee, llabel, ltext, lsprint, lfilter string
	var limit int
	list := &cobra.Command{
		Use:     "list",
		Short:   "List items in backlog order",
		Example: "  trellis item list -p BAL --kind experiment\n  trellis item list -p BAL --sprint active --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(lproject, "")
			if err != nil {
				return err
			}
			c, err := lr.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if lfilter != "" {
				fs, err := c.Filters(cmd.Context(), key)
				if err != nil {
					return err
				}
				found := false
				for _, f := range fs {
					if f.Name == lfilter {
						if q, err = url.ParseQuery(f.Query); err != nil {
							return err
						}
						found = true
					}
				}
				if !found {
					return usagef("you have no saved filter %q in %s", lfilter, key)
				}
			}
			for k, v := range map[string]string{"kind": lkind, "status": lstatus, "assignee": lassignee, "label": llabel, "q": ltext, "sprint": lsprint} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			items, err := c.Items(cmd.Context(), key, q)
			if err != nil {
				return err
			}
			if lr.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"items": items})
			}
			rows := make([][]string, 0, len(items))
			for _, it := range items {
				rows = append(rows, []string{it.Key, string(it.Kind), it.Status, estimate(it), strings.Join(it.Assignees, ","), it.Title})
			}
			return table(cmd.OutOrStdout(), "KEY\tKIND\tSTATUS\tESTIMATE\tASSIGNEES\tTITLE", rows)
		},
	}
	lr.flags(list, true)
	list.Flags().StringVarP(&lproject, "project", "p", "", "project key (env TRELLIS_PROJECT)")
	list.Flags().StringVar(&lkind, "kind", "", "only this kind")
	list.Flags().StringVar(&lstatus, "status", "", "only this status")
	list.Flags().StringVar(&lassignee, "assignee", "", "only items assigned to this user")
	list.Flags().StringVar(&llabel, "label", "", "only items with this label")
	list.Flags().StringVarP(&ltext, "query", "q", "", "text in key, title or description")
	list.Flags().StringVar(&lsprint, "sprint", "", "sprint name or id, 'active', or 'none'")
	list.Flags().IntVar(&limit, "limit", 0, "at most this many items")
	list.Flags().StringVar(&lfilter, "filter", "", "start from one of your saved filters (by name)")

	var sr remote
	var sproject string
	show := &cobra.Command{
		Use:     "show KEY",
		Short:   "Show an item with its sub-tasks, links, goals, linked runs and spec status",
		Example: "  trellis item show BAL-12",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(sproject, args[0])
			if err != nil {
				return err
			}
			c, err := sr.client()
			if err != nil {
				return err
			}
			it, err := c.Item(cmd.Context(), key, args[0])
			if err != nil {
				return err
			}
			if sr.asJSON {
				return printJSON(cmd.OutOrStdout(), it)
			}
			printItem(cmd.OutOrStdout(), it)
			return printItemTracking(cmd.Context(), cmd.OutOrStdout(), c, key, it.Key)
		},
	}
	sr.flags(show, true)
	show.Flags().StringVarP(&sproject, "project", "p", "", "project key (default: from the item key)")

	var er remote
	var ef itemFields
	var eproject string
	edit := &cobra.Command{
		Use:     "edit KEY",
		Short:   "Change an item's fields; only the flags given change",
		Example: "  trellis item edit BAL-12 --points 8 --assignee ada --label serving\n  trellis item edit BAL-7 --description - < notes.md",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(eproject, args[0])
			if err != nil {
				return err
			}
			upd, err := ef.update(cmd, stdin)
			if err != nil {
				return err
			}
			c, err := er.client()
			if err != nil {
				return err
			}
			it, err := c.UpdateItem(cmd.Context(), key, args[0], upd)
			if err != nil {
				return err
			}
			if er.asJSON {
				return printJSON(cmd.OutOrStdout(), it)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "updated %s\n", it.Key)
			return nil
		},
	}
	er.flags(edit, true)
	ef.flags(edit, true)
	edit.Flags().StringVarP(&eproject, "project", "p", "", "project key (default: from the item key)")

	var mr remote
	var mproject, before, after, stage string
	move := &cobra.Command{
		Use:     "move KEY [STATUS]",
		Short:   "Move an item to a status, an experiment stage, or a place in the order",
		Example: "  trellis item move BAL-12 'In progress'\n  trellis item move BAL-9 --stage analysis\n  trellis item move BAL-3 --before BAL-1",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(mproject, args[0])
			if err != nil {
				return err
			}
			var upd work.ItemUpdate
			if len(args) == 2 {
				upd.Status = &args[1]
			}
			if stage != "" {
				upd.Stage = &stage
			}
			if before != "" {
				upd.Before = &before
			}
			if after != "" {
				upd.After = &after
			}
			if upd.Status == nil && upd.Stage == nil && upd.Before == nil && upd.After == nil {
				return usagef("give a STATUS, --stage, --before or --after")
			}
			c, err := mr.client()
			if err != nil {
				return err
			}
			it, err := c.UpdateItem(cmd.Context(), key, args[0], upd)
			if err != nil {
				return err
			}
			if mr.asJSON {
				return printJSON(cmd.OutOrStdout(), it)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is %s\n", it.Key, it.Status)
			return nil
		},
	}
	mr.flags(move, true)
	move.Flags().StringVarP(&mproject, "project", "p", "", "project key (default: from the item key)")
	move.Flags().StringVar(&stage, "stage", "", "experiment stage: ideation, active, analysis, decision")
	move.Flags().StringVar(&before, "before", "", "place before this item")
	move.Flags().StringVar(&after, "after", "", "place after this item")

	var dr remote
	var dproject string
	var din work.DecisionInput
	decide := &cobra.Command{
		Use:   "decide KEY",
		Short: "Decide an experiment: productionize, abandon or more research",
		Example: "  trellis item decide BAL-9 --outcome productionize --verdict supported --evidence https://trellis/p/BAL/runs/1\n" +
			"  trellis item decide BAL-10 --outcome abandon --verdict refuted --reason 'no gain on balloons v3'\n" +
			"  trellis item decide BAL-11 --outcome more_research --verdict inconclusive --time-box 1w",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(dproject, args[0])
			if err != nil {
				return err
			}
			c, err := dr.client()
			if err != nil {
				return err
			}
			d, err := c.Decide(cmd.Context(), key, args[0], din)
			if err != nil {
				return err
			}
			if dr.asJSON {
				return printJSON(cmd.OutOrStdout(), d)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "decided %s: %s (hypothesis %s)\n", d.Decision.Item, d.Decision.Outcome, d.Decision.Verdict)
			if d.FollowUp != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "follow-up %s %s\n", d.FollowUp.Key, d.FollowUp.Title)
			}
			return nil
		},
	}
	dr.flags(decide, true)
	decide.Flags().StringVarP(&dproject, "project", "p", "", "project key (default: from the item key)")
	decide.Flags().StringVar(&din.Outcome, "outcome", "", "productionize, abandon or more_research (required)")
	decide.Flags().StringVar(&din.Verdict, "verdict", "", "supported, refuted or inconclusive (required)")
	decide.Flags().StringVar(&din.Reason, "reason", "", "why (required to abandon)")
	decide.Flags().StringSliceVar(&din.Evidence, "evidence", nil, "evidence link (repeatable)")
	decide.Flags().StringVar(&din.TimeBox, "time-box", "", "time box of the follow-up research item (more_research)")
	decide.Flags().StringVar(&din.Title, "title", "", "title of the follow-up item")

	var cmr remote
	var cmproject, body string
	comment := &cobra.Command{
		Use:     "comment KEY",
		Short:   "Comment on an item in Markdown; @name notifies a project member",
		Example: "  trellis item comment BAL-12 --body 'Latency is fine now, @ben can you review?'\n  trellis item comment BAL-12 --body - < notes.md",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(cmproject, args[0])
			if err != nil {
				return err
			}
			text, err := readDescription(stdin, body)
			if err != nil {
				return err
			}
			c, err := cmr.client()
			if err != nil {
				return err
			}
			cm, err := c.AddComment(cmd.Context(), key, args[0], text)
			if err != nil {
				return err
			}
			if cmr.asJSON {
				return printJSON(cmd.OutOrStdout(), cm)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "commented on %s", args[0])
			if len(cm.Mentions) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "; mentioned %s", strings.Join(cm.Mentions, ", "))
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	cmr.flags(comment, true)
	comment.Flags().StringVarP(&cmproject, "project", "p", "", "project key (default: from the item key)")
	comment.Flags().StringVar(&body, "body", "", "the comment in Markdown ('-' reads stdin)")

	var scr remote
	var scproject string
	search := &cobra.Command{
		Use:     "search WORDS...",
		Short:   "Full-text search over keys, titles, descriptions and comments",
		Example: "  trellis item search -p BAL focal loss",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(scproject, "")
			if err != nil {
				return err
			}
			c, err := scr.client()
			if err != nil {
				return err
			}
			items, err := c.Search(cmd.Context(), key, strings.Join(args, " "))
			if err != nil {
				return err
			}
			if scr.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"items": items})
			}
			rows := make([][]string, 0, len(items))
			for _, it := range items {
				rows = append(rows, []string{it.Key, string(it.Kind), it.Status, it.Title})
			}
			return table(cmd.OutOrStdout(), "KEY\tKIND\tSTATUS\tTITLE", rows)
		},
	}
	scr.flags(search, true)
	search.Flags().StringVarP(&scproject, "project", "p", "", "project key (env TRELLIS_PROJECT)")

	cmd.AddCommand(create, list, show, edit, move, decide, comment, search)
	return cmd
}

// update builds an ItemUpdate from the flags the user gave.
func (f *itemFields) update(cmd *cobra.Command, stdin io.Reader) (work.ItemUpdate, error) {
	var u work.ItemUpdate
	fl := cmd.Flags()
	str := map[string]**string{"title": &u.Title, "status": &u.Status, "priority": &u.Priority, "parent": &u.Parent, "phase": &u.Phase,
		"deliverable": &u.Deliverable, "time-box": &u.TimeBox, "hypothesis": &u.Hypothesis, "success-metrics": &u.SuccessMetrics,
		"size": &u.Size, "sprint": &u.Sprint, "learning": &u.Learning, "stage": &u.Stage}
	vals := map[string]string{"title": f.title, "status": f.status, "priority": f.priority, "parent": f.parent, "phase": f.phase,
		"deliverable": f.deliverable, "time-box": f.timeBox, "hypothesis": f.hypothesis, "success-metrics": f.metrics, "size": f.size,
		"sprint": f.sprint, "learning": f.learning, "stage": f.stage}
	changed := false
	for name, dst := range str {
		if fl.Changed(name) {
			v := vals[name]
			*dst, changed = &v, true
		}
	}
	if fl.Changed("description") {
		d, err := readDescription(stdin, f.description)
		if err != nil {
			return u, err
		}
		u.Description, changed = &d, true
	}
	if fl.Changed("points") {
		u.Points, changed = &f.points, true
	}
	if fl.Changed("assignee") {
		u.Assignees, changed = &f.assignees, true
	}
	if fl.Changed("label") {
		u.Labels, changed = &f.labels, true
	}
	if !changed {
		return u, usagef("nothing to change: give at least one field flag (see --help)")
	}
	return u, nil
}

func estimate(it *work.Item) string {
	switch {
	case it.Size != "":
		return it.Size
	case it.Points > 0:
		return strconv.Itoa(it.Points) + " pts"
	case it.TimeBox != "":
		return it.TimeBox
	}
	return "-"
}

func printItem(w io.Writer, it *work.Item) {
	fmt.Fprintf(w, "%s  %s\n%s · %s", it.Key, it.Title, it.Kind, it.Status)
	if it.Stage != "" {
		fmt.Fprintf(w, " · stage %s", it.Stage)
	}
	fmt.Fprintf(w, " · priority %s · estimate %s\n", it.Priority, estimate(it))
	for _, kv := range [][2]string{{"assignees", strings.Join(it.Assignees, ", ")}, {"labels", strings.Join(it.Labels, ", ")},
		{"parent", it.Parent}, {"phase", it.Phase}, {"deliverable", it.Deliverable}, {"hypothesis", it.Hypothesis},
		{"success metrics", it.SuccessMetrics}, {"learning", it.Learning}} {
		if kv[1] != "" {
			fmt.Fprintf(w, "%s: %s\n", kv[0], kv[1])
		}
	}
	if it.TimeBoxExpired {
		fmt.Fprintln(w, "TIME BOX EXPIRED: decide what happens next")
	}
	if it.Description != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(it.Description, "\n"))
	}
	if len(it.SubTasks) > 0 {
		fmt.Fprintln(w, "\nsub-tasks:")
		for _, s := range it.SubTasks {
			fmt.Fprintf(w, "  %s  [%s] %s\n", s.Key, s.Status, s.Title)
		}
	}
	if len(it.Links) > 0 {
		fmt.Fprintln(w, "\nlinks:")
		for _, l := range it.Links {
			fmt.Fprintf(w, "  %s %s  %s\n", linkVerb(l), l.Key, l.Title)
		}
	}
}

// linkVerb says how an item relates to the linked one, read from the item
// shown: "followed up by BAL-24" on the decided experiment, "follow-up of
// BAL-16" on its follow-up.
func linkVerb(l work.Link) string {
	in := l.Direction == "in"
	switch l.Type {
	case work.LinkFollowUpOf:
		if in {
			return "followed up by"
		}
		return "follow-up of"
	case work.LinkBlocks:
		if in {
			return "blocked by"
		}
		return "blocks"
	}
	return strings.ReplaceAll(l.Type, "_", " ")
}

// maxShownRuns bounds the linked runs item show names; the rest are counted.
const maxShownRuns = 10

// printItemTracking prints what the tracking side knows of an item: its
// goals with their status, the runs linked to it (newest first, by name)
// and the status of its spec.
func printItemTracking(ctx context.Context, w io.Writer, c *client.Client, project, item string) error {
	ev, err := c.GoalEvaluation(ctx, project, item)
	if err != nil {
		return err
	}
	if len(ev.Goals) > 0 {
		met := 0
		rows := make([][]string, len(ev.Goals))
		for i, g := range ev.Goals {
			if g.Status == goal.Met {
				met++
			}
			rows[i] = []string{"  " + g.Text, string(g.Status), namedObservation(g.Latest), namedObservation(g.Best)}
		}
		fmt.Fprintf(w, "\ngoals (%d of %d met):\n", met, len(ev.Goals))
		if err := table(w, "  GOAL\tSTATUS\tLATEST\tBEST", rows); err != nil {
			return err
		}
	}
	links, err := c.ItemRuns(ctx, project, item)
	if err != nil {
		return err
	}
	if len(links) > 0 {
		runs := make([]*client.Run, 0, min(len(links), maxShownRuns))
		for _, l := range links[:min(len(links), maxShownRuns)] {
			r, err := c.Run(ctx, project, l.RunID)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		slices.SortFunc(runs, func(a, b *client.Run) int { return cmp.Compare(b.Info.StartTime, a.Info.StartTime) })
		rows := make([][]string, len(runs))
		for i, r := range runs {
			rows[i] = []string{"  " + dash(r.Info.RunName), r.Info.RunID, r.Info.Status, time.UnixMilli(r.Info.StartTime).UTC().Format("2006-01-02 15:04")}
		}
		fmt.Fprintf(w, "\nruns (%d linked):\n", len(links))
		if err := table(w, "  NAME\tRUN ID\tSTATUS\tSTARTED", rows); err != nil {
			return err
		}
		if len(links) > len(runs) {
			fmt.Fprintf(w, "  … and %d more (trellis runs list -p %s --filter \"tags.trellis.item = '%s'\" lists runs tagged with it)\n", len(links)-len(runs), project, item)
		}
	}
	sp, err := c.Spec(ctx, project, item)
	var ce *client.Error
	switch {
	case errors.As(err, &ce) && ce.Status == http.StatusNotFound:
		fmt.Fprintln(w, "\nspec: none attached (trellis spec push FILE --item "+item+")")
	case err != nil:
		return err
	default:
		fmt.Fprintf(w, "\nspec: %s version %d, %s\n", sp.Spec.Name, sp.Spec.Version, specStatus(sp.Summary))
	}
	return nil
}

// namedObservation is a goal's value with the name of the run it came
// from (short ids of runs started together look alike).
func namedObservation(o *goal.ObservationJSON) string {
	if o == nil || o.RunName == "" {
		return observation(o)
	}
	v := "undefined (" + o.Undefined + ")"
	if o.Value != nil {
		v = speccheck.FormatNumber(*o.Value)
	}
	return v + " (" + o.RunName + ")"
}

// specStatus summarises a spec's latest results in a line.
func specStatus(sum *goal.SpecSummary) string {
	if sum == nil {
		return "not checked yet"
	}
	status := strings.ReplaceAll(string(sum.Status()), "_", " ")
	return fmt.Sprintf("%s (%d passed, %d failed, %d errors, %d no data, %d skipped)", status, sum.Passed, sum.Failed, sum.Errors, sum.NoData, sum.Skipped)
}
