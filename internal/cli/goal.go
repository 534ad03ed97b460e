package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/client"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/trellis"
)

// goalTarget is the --project and --item flags shared by the goal
// commands: an item's goals, or the project's own without --item.
type goalTarget struct {
	project, item string
}

func (t *goalTarget) flags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&t.project, "project", "p", "", "project key (env TRELLIS_PROJECT; default: the prefix of --item)")
	cmd.Flags().StringVar(&t.item, "item", "", "item key, e.g. BAL-3 (without it: the project's own goals)")
}

// resolve returns the project key and the item key (empty for the
// project's own goals).
func (t *goalTarget) resolve() (string, string, error) {
	key, err := projectOf(t.project, t.item)
	return key, strings.ToUpper(t.item), err
}

// asUsage turns a 400 answer into a usage error (exit 2) naming the field.
func asUsage(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status == 400 {
		return usagef("%s", ce.Message)
	}
	return err
}

func goalCmd() *cobra.Command {
	cmd := group("goal", "List, add, edit, remove and evaluate the goals of items and projects")
	cmd.Long = "A goal is a measurable criterion: a metric, a comparator (at least, at most, more than, less than,\n" +
		"exactly) and a threshold, optionally for a class or slice, on a dataset version. Goals attach to\n" +
		"items and to projects; every run linked to the item (or, for project goals, every run of the\n" +
		"project) that logs the goal's metric is evaluated: met, not met, no data or undefined from the\n" +
		"latest run, with the best value so far and its run."

	var lr remote
	var lt goalTarget
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the goals of an item, or the project's own goals",
		Example: "  trellis goal list --item BAL-3\n  trellis goal list --project BAL --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			project, item, err := lt.resolve()
			if err != nil {
				return err
			}
			c, err := lr.client()
			if err != nil {
				return err
			}
			gs, err := c.Goals(cmd.Context(), project, item)
			if err != nil {
				return asUsage(err)
			}
			if lr.asJSON {
				return printJSON(cmd.OutOrStdout(), gs)
			}
			rows := make([][]string, len(gs))
			for i, g := range gs {
				ds := strings.TrimSpace(g.Dataset + " " + g.DatasetVersion)
				rows[i] = []string{g.ID, g.Text, dash(ds), dash(g.Note)}
			}
			return table(cmd.OutOrStdout(), "ID\tGOAL\tDATASET\tNOTE", rows)
		},
	}
	lr.flags(list, true)
	lt.flags(list)

	var ar remote
	var at goalTarget
	var g goal.Goal
	add := &cobra.Command{
		Use:   `add "METRIC COMPARATOR NUMBER"`,
		Short: "Add a goal to an item, or to the project without --item",
		Long: "The goal is a sentence: the metric as it is logged, a comparator (at least, at most, more than,\n" +
			"less than, exactly, or >=, <=, >, <, =) and a number; 80% means 0.8. With --class the goal reads\n" +
			"METRIC.CLASS (f1.spam), with --slice METRIC[.CLASS].SLICE: the names trellis spec check logs.",
		Example: "  trellis goal add --item BAL-3 \"accuracy at least 0.9\" --dataset reviews --version v2 --note 'held-out split'\n" +
			"  trellis goal add --item BAL-3 \"f1 at least 80%\" --class spam\n" +
			"  trellis goal add --project BAL \"latency_ms < 50\" --experiment serving-bench",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			project, item, err := at.resolve()
			if err != nil {
				return err
			}
			parsed, err := goal.ParseGoal(args[0])
			if err != nil {
				return usagef("%s", trellis.ErrorMessage(err))
			}
			parsed.Class, parsed.Slice, parsed.Dataset, parsed.DatasetVersion, parsed.Note = g.Class, g.Slice, g.Dataset, g.DatasetVersion, g.Note
			parsed.Experiment, parsed.RunTag = g.Experiment, g.RunTag
			c, err := ar.client()
			if err != nil {
				return err
			}
			sg, err := c.AddGoal(cmd.Context(), project, item, parsed)
			if err != nil {
				return asUsage(err)
			}
			if ar.asJSON {
				return printJSON(cmd.OutOrStdout(), sg)
			}
			on := project
			if sg.Item != "" {
				on = sg.Item
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added goal %s to %s: %s\n", sg.ID, on, sg.Text)
			return nil
		},
	}
	ar.flags(add, true)
	at.flags(add)
	add.Flags().StringVar(&g.Class, "class", "", "the class the goal is about, e.g. spam")
	add.Flags().StringVar(&g.Slice, "slice", "", "the slice of the data the goal is about")
	add.Flags().StringVar(&g.Dataset, "dataset", "", "the dataset's name")
	add.Flags().StringVar(&g.DatasetVersion, "version", "", "the dataset's version")
	add.Flags().StringVar(&g.Experiment, "experiment", "", "judge the goal on the runs of this tracking experiment (a project goal needs it or --run-tag)")
	add.Flags().StringVar(&g.RunTag, "run-tag", "", "judge the goal on the runs tagged KEY=VALUE")
	add.Flags().StringVar(&g.Note, "note", "", "a note")

	var edr remote
	var eproject string
	var eg goal.Goal
	edit := &cobra.Command{
		Use:   `edit ID ["METRIC COMPARATOR NUMBER"]`,
		Short: "Change a goal by id: its sentence, class, slice, dataset, version or note",
		Long: "A new sentence (as for goal add) replaces the metric, comparator and threshold; each flag given\n" +
			"replaces that field, and an empty value clears it (--slice ''). Fields not given stay as they\n" +
			"are. trellis goal list shows the ids.",
		Example: "  trellis goal edit -p BAL 0193f5c2-… \"accuracy at least 85%\" --note 'raised after review'\n" +
			"  trellis goal edit -p BAL 0193f5c2-… --dataset reviews --version v3\n" +
			"  trellis goal edit -p BAL 0193f5c2-… --slice ''",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			project, err := projectOf(eproject, "")
			if err != nil {
				return err
			}
			upd, err := goalUpdate(cmd, args[1:], eg)
			if err != nil {
				return err
			}
			c, err := edr.client()
			if err != nil {
				return err
			}
			sg, err := c.UpdateGoal(cmd.Context(), project, args[0], upd)
			var ce *client.Error
			if errors.As(err, &ce) && ce.Status == 404 {
				return fmt.Errorf("no goal %s in project %s (trellis goal list shows the ids)", args[0], project)
			}
			if err != nil {
				return asUsage(err)
			}
			if edr.asJSON {
				return printJSON(cmd.OutOrStdout(), sg)
			}
			on := project
			if sg.Item != "" {
				on = sg.Item
			}
			fmt.Fprintf(cmd.OutOrStdout(), "updated goal %s of %s: %s\n", sg.ID, on, sg.Text)
			return nil
		},
	}
	edr.flags(edit, true)
	edit.Flags().StringVarP(&eproject, "project", "p", "", "project key (env TRELLIS_PROJECT)")
	edit.Flags().StringVar(&eg.Class, "class", "", "the class the goal is about ('' clears it)")
	edit.Flags().StringVar(&eg.Slice, "slice", "", "the slice of the data the goal is about ('' clears it)")
	edit.Flags().StringVar(&eg.Dataset, "dataset", "", "the dataset's name ('' clears it)")
	edit.Flags().StringVar(&eg.DatasetVersion, "version", "", "the dataset's version ('' clears it)")
	edit.Flags().StringVar(&eg.Experiment, "experiment", "", "the tracking experiment whose runs judge the goal ('' clears it)")
	edit.Flags().StringVar(&eg.RunTag, "run-tag", "", "the run tag KEY=VALUE whose runs judge the goal ('' clears it)")
	edit.Flags().StringVar(&eg.Note, "note", "", "a note ('' clears it)")

	var rr remote
	var rproject string
	rm := &cobra.Command{
		Use:     "rm ID...",
		Short:   "Remove goals by id (trellis goal list shows the ids)",
		Example: "  trellis goal rm --project BAL 0193f5c2-…",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			project, err := projectOf(rproject, "")
			if err != nil {
				return err
			}
			c, err := rr.client()
			if err != nil {
				return err
			}
			for _, id := range args {
				if err := c.DeleteGoal(cmd.Context(), project, id); err != nil {
					return asUsage(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed goal %s\n", id)
			}
			return nil
		},
	}
	rr.flags(rm, false)
	rm.Flags().StringVarP(&rproject, "project", "p", "", "project key (env TRELLIS_PROJECT)")

	var er remote
	var et goalTarget
	eval := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate the goals of an item, or the project's own goals, against the runs",
		Long: "Each goal is judged on the latest run that logged its metric (runs linked to the item; for the\n" +
			"project's own goals, every run of the project): met, not met, no data or undefined, with the\n" +
			"best value so far and its run.\n" +
			"Exit status: 0 every goal met, 1 any goal not met or without data, 2 usage.",
		Example: "  trellis goal eval --item BAL-3\n  trellis goal eval --project BAL --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			project, item, err := et.resolve()
			if err != nil {
				return err
			}
			c, err := er.client()
			if err != nil {
				return err
			}
			ev, err := c.GoalEvaluation(cmd.Context(), project, item)
			if err != nil {
				return asUsage(err)
			}
			on := project
			if ev.Item != "" {
				on = ev.Item
			}
			heading := fmt.Sprintf("%s: %d %s, %d %s", on, len(ev.Goals), plural(len(ev.Goals), "goal", "goals"), ev.Runs, plural(ev.Runs, "run", "runs"))
			return printEvaluation(cmd.OutOrStdout(), heading, ev, er.asJSON)
		},
	}
	er.flags(eval, true)
	et.flags(eval)

	cmd.AddCommand(list, add, edit, rm, eval)
	return cmd
}

// goalUpdate builds the update of goal edit: the sentence, when given,
// sets the metric, comparator and threshold; each field flag given sets
// that field, even to "" (which clears it), and flags not given leave
// theirs alone. Errors: a usage error for a bad sentence or no change.
func goalUpdate(cmd *cobra.Command, sentence []string, flags goal.Goal) (goal.GoalUpdate, error) {
	var upd goal.GoalUpdate
	changed := false
	if len(sentence) == 1 {
		parsed, err := goal.ParseGoal(sentence[0])
		if err != nil {
			return upd, usagef("%s", trellis.ErrorMessage(err))
		}
		upd.Metric, upd.Comparator, upd.Threshold, changed = &parsed.Metric, &parsed.Comparator, &parsed.Threshold, true
	}
	for _, f := range []struct {
		name string
		dst  **string
		v    *string
	}{
		{"class", &upd.Class, &flags.Class}, {"slice", &upd.Slice, &flags.Slice}, {"dataset", &upd.Dataset, &flags.Dataset},
		{"version", &upd.DatasetVersion, &flags.DatasetVersion}, {"experiment", &upd.Experiment, &flags.Experiment},
		{"run-tag", &upd.RunTag, &flags.RunTag}, {"note", &upd.Note, &flags.Note},
	} {
		if cmd.Flags().Changed(f.name) {
			*f.dst, changed = f.v, true
		}
	}
	if !changed {
		return upd, usagef("nothing to change: give a goal sentence like \"accuracy at least 0.9\" or one of --class, --slice, --dataset, --version, --experiment, --run-tag, --note")
	}
	return upd, nil
}

// dash stands in for an empty table cell.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printEvaluation prints an evaluation as JSON or as a table under heading,
// and fails (exit 1) unless every goal is met, so CI can gate on it.
func printEvaluation(out io.Writer, heading string, ev *goal.EvaluationJSON, asJSON bool) error {
	var err error
	if asJSON {
		err = printJSON(out, ev)
	} else {
		fmt.Fprintln(out, heading)
		rows := make([][]string, len(ev.Goals))
		for i, g := range ev.Goals {
			rows[i] = []string{g.Text, string(g.Status), observation(g.Latest), observation(g.Best)}
		}
		err = table(out, "GOAL\tSTATUS\tLATEST\tBEST", rows)
	}
	if err != nil {
		return err
	}
	if msg := evaluationShortfall(ev); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// evaluationShortfall says why an evaluation is not all met, or "": the
// goals not met, and apart from them those without data (a goal with no
// run to judge is not a missed goal), as "1 of 3 goals not met, 2 goals
// have no data".
func evaluationShortfall(ev *goal.EvaluationJSON) string {
	unmet, noData := 0, 0
	for _, g := range ev.Goals {
		switch g.Status {
		case goal.Met:
		case goal.NoData:
			noData++
		default:
			unmet++
		}
	}
	var parts []string
	if unmet > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d %s not met", unmet, len(ev.Goals), plural(len(ev.Goals), "goal", "goals")))
	}
	if noData > 0 {
		parts = append(parts, fmt.Sprintf("%d %s no data", noData, plural(noData, "goal has", "goals have")))
	}
	return strings.Join(parts, ", ")
}
