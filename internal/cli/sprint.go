package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/work"
)

func sprintCmd() *cobra.Command {
	cmd := group("sprint", "Create sprints, plan items into them, start, close and show them")
	var project string
	addProject := func(c *cobra.Command) {
		c.Flags().StringVarP(&project, "project", "p", "", "project key (env TRELLIS_PROJECT)")
	}

	var cr remote
	var in work.NewSprint
	var capacity []string
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a sprint (name, dates, goal, capacity); add items to it with sprint plan",
		Example: "  trellis sprint create 'Sprint 7' -p BAL --starts 2026-03-02 --ends 2026-03-13 --goal 'Recall 0.8' --capacity ada=13 --capacity bob=10",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(project, "")
			if err != nil {
				return err
			}
			in.Name, in.Capacity = args[0], map[string]int{}
			for _, kv := range capacity {
				name, v, ok := strings.Cut(kv, "=")
				n, err := strconv.Atoi(v)
				if !ok || err != nil {
					return usagef("--capacity must be USER=POINTS, not %q", kv)
				}
				in.Capacity[name] = n
			}
			c, err := cr.client()
			if err != nil {
				return err
			}
			sp, err := c.CreateSprint(cmd.Context(), key, in)
			if err != nil {
				return err
			}
			if cr.asJSON {
				return printJSON(cmd.OutOrStdout(), sp)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "planned sprint %q (%s – %s)\n", sp.Name, sp.StartsAt.Format("2006-01-02"), sp.EndsAt.Format("2006-01-02"))
			return nil
		},
	}
	cr.flags(create, true)
	addProject(create)
	create.Flags().StringVar(&in.StartsOn, "starts", "", "first day, YYYY-MM-DD (required)")
	create.Flags().StringVar(&in.EndsOn, "ends", "", "last day, YYYY-MM-DD (required)")
	create.Flags().StringVar(&in.Goal, "goal", "", "sprint goal")
	create.Flags().StringSliceVar(&capacity, "capacity", nil, "member capacity as USER=POINTS (repeatable)")

	var pr remote
	var add []string
	plan := &cobra.Command{
		Use:     "plan SPRINT",
		Short:   "Add items to an existing sprint (see sprint create) and show its load against capacity and the allocation guideline",
		Example: "  trellis sprint plan 'Sprint 7' -p BAL --add BAL-12 --add BAL-14",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(project, "")
			if err != nil {
				return err
			}
			c, err := pr.client()
			if err != nil {
				return err
			}
			for _, ref := range add {
				if _, err := c.UpdateItem(cmd.Context(), key, ref, work.ItemUpdate{Sprint: &args[0]}); err != nil {
					return fmt.Errorf("%s: %w", ref, err)
				}
			}
			p, err := c.SprintPlan(cmd.Context(), key, args[0])
			if err != nil {
				return err
			}
			if pr.asJSON {
				return printJSON(cmd.OutOrStdout(), p)
			}
			printPlan(cmd.OutOrStdout(), p)
			return nil
		},
	}
	pr.flags(plan, true)
	addProject(plan)
	plan.Flags().StringSliceVar(&add, "add", nil, "item key to add to the sprint (repeatable)")

	var shr remote
	show := &cobra.Command{
		Use:     "show SPRINT",
		Short:   "Show a sprint's plan, load and warnings",
		Example: "  trellis sprint show 'Sprint 7' -p BAL",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(project, "")
			if err != nil {
				return err
			}
			c, err := shr.client()
			if err != nil {
				return err
			}
			p, err := c.SprintPlan(cmd.Context(), key, args[0])
			if err != nil {
				return err
			}
			if shr.asJSON {
				return printJSON(cmd.OutOrStdout(), p)
			}
			printPlan(cmd.OutOrStdout(), p)
			return nil
		},
	}
	shr.flags(show, true)
	addProject(show)

	var lr remote
	list := &cobra.Command{
		Use:     "list",
		Short:   "List a project's sprints",
		Example: "  trellis sprint list -p BAL",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(project, "")
			if err != nil {
				return err
			}
			c, err := lr.client()
			if err != nil {
				return err
			}
			sps, err := c.Sprints(cmd.Context(), key)
			if err != nil {
				return err
			}
			if lr.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"sprints": sps})
			}
			rows := [][]string{}
			for _, sp := range sps {
				rows = append(rows, []string{sp.Name, sp.State, sp.StartsAt.Format("2006-01-02"), sp.EndsAt.Format("2006-01-02"), sp.Goal})
			}
			return table(cmd.OutOrStdout(), "NAME\tSTATE\tSTARTS\tENDS\tGOAL", rows)
		},
	}
	lr.flags(list, true)
	addProject(list)

	var sr remote
	start := &cobra.Command{
		Use:     "start SPRINT",
		Short:   "Start a planned sprint",
		Example: "  trellis sprint start 'Sprint 7' -p BAL",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(project, "")
			if err != nil {
				return err
			}
			c, err := sr.client()
			if err != nil {
				return err
			}
			sp, err := c.StartSprint(cmd.Context(), key, args[0])
			if err != nil {
				return err
			}
			if sr.asJSON {
				return printJSON(cmd.OutOrStdout(), sp)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sprint %q is active\n", sp.Name)
			return nil
		},
	}
	sr.flags(start, true)
	addProject(start)

	var clr remote
	var moveTo string
	closeC := &cobra.Command{
		Use:     "close SPRINT",
		Short:   "Close the active sprint; unfinished items go to the next sprint or the backlog",
		Example: "  trellis sprint close 'Sprint 7' -p BAL --move-to next",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(project, "")
			if err != nil {
				return err
			}
			c, err := clr.client()
			if err != nil {
				return err
			}
			sp, err := c.CloseSprint(cmd.Context(), key, args[0], moveTo)
			if err != nil {
				return err
			}
			if clr.asJSON {
				return printJSON(cmd.OutOrStdout(), sp)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "closed sprint %q; unfinished items moved to %s\n", sp.Name, sp.Snapshot.MovedTo)
			rows := [][]string{}
			for _, cat := range work.Categories {
				rows = append(rows, []string{cat, strconv.Itoa(sp.Snapshot.Committed[cat]), strconv.Itoa(sp.Snapshot.Done[cat])})
			}
			return table(w, "CATEGORY\tCOMMITTED\tDONE", rows)
		},
	}
	clr.flags(closeC, true)
	addProject(closeC)
	closeC.Flags().StringVar(&moveTo, "move-to", "backlog", "where unfinished items go: next or backlog")

	cmd.AddCommand(create, plan, show, list, start, closeC)
	return cmd
}

func printPlan(w io.Writer, p *work.SprintPlan) {
	sp := p.Sprint
	fmt.Fprintf(w, "%s (%s) %s – %s\n", sp.Name, sp.State, sp.StartsAt.Format("2006-01-02"), sp.EndsAt.Format("2006-01-02"))
	if sp.Goal != "" {
		fmt.Fprintf(w, "goal: %s\n", sp.Goal)
	}
	fmt.Fprintf(w, "load %d of capacity %d points\n\n", p.Load, p.Capacity)
	rows := [][]string{}
	for _, c := range p.Categories {
		flag := ""
		if c.Off {
			flag = "off guideline"
		}
		rows = append(rows, []string{c.Category, strconv.Itoa(c.Points), fmt.Sprintf("%.0f%%", c.Percent), fmt.Sprintf("%d%%", c.Guideline), flag})
	}
	_ = table(w, "CATEGORY\tPOINTS\tSHARE\tGUIDELINE\t", rows)
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if len(p.Items) > 0 {
		fmt.Fprintln(w)
		rows = rows[:0]
		for _, it := range p.Items {
			rows = append(rows, []string{it.Key, string(it.Kind), it.Status, estimate(it), it.Title})
		}
		_ = table(w, "KEY\tKIND\tSTATUS\tESTIMATE\tTITLE", rows)
	}
}
