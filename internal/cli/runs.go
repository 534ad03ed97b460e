package cli

import (
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/client"
)

// projectFlag adds the --project flag the tracking commands share.
func projectFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVarP(p, "project", "p", os.Getenv("TRELLIS_PROJECT"), "project key (env TRELLIS_PROJECT)")
}

func needProject(p string) error {
	if p == "" {
		return usagef("--project is required (or set TRELLIS_PROJECT)")
	}
	return nil
}

func msTime(v int64) string {
	if v == 0 {
		return ""
	}
	return time.UnixMilli(v).Local().Format("2006-01-02 15:04")
}

func kvMap(kvs []client.KV) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

func metricMap(ms []client.Metric) map[string]string {
	m := make(map[string]string, len(ms))
	for _, x := range ms {
		m[x.Key] = strings.Trim(string(x.Value), `"`)
	}
	return m
}

func runsCmd() *cobra.Command {
	cmd := group("runs", "List, show, compare and link tracking runs")

	var lr remote
	var project, filter string
	var experiments, orderBy []string
	var max int
	list := &cobra.Command{
		Use:   "list",
		Short: "List runs of a project, filtered with the MLflow search language",
		Example: "  trellis runs list -p BAL\n" +
			"  trellis runs list -p BAL --filter \"metrics.loss < 0.3 AND params.lr = '0.01'\" --order-by 'metrics.loss ASC' --json\n" +
			"  trellis runs list -p BAL --filter \"datasets.name IN ('train', 'eval') AND datasets.context = 'training'\"",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needProject(project); err != nil {
				return err
			}
			c, err := lr.client()
			if err != nil {
				return err
			}
			ids := experiments
			if len(ids) == 0 {
				if ids, err = c.ExperimentIDs(cmd.Context(), project); err != nil {
					return err
				}
			}
			runs, next, err := c.SearchRuns(cmd.Context(), project, client.RunSearch{ExperimentIDs: ids, Filter: filter, OrderBy: orderBy, MaxResults: max})
			if err != nil {
				return err
			}
			if lr.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"runs": runs, "next_page_token": next})
			}
			rows := make([][]string, 0, len(runs))
			for _, r := range runs {
				ms := metricMap(r.Data.Metrics)
				keys := make([]string, 0, len(ms))
				for k := range ms {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				var parts []string
				for _, k := range keys[:min(len(keys), 4)] {
					parts = append(parts, k+"="+ms[k])
				}
				rows = append(rows, []string{r.Info.RunID, r.Info.RunName, r.Info.ExperimentID, r.Info.Status, msTime(r.Info.StartTime), strings.Join(parts, " ")})
			}
			if err := table(cmd.OutOrStdout(), "RUN\tNAME\tEXPERIMENT\tSTATUS\tSTARTED\tMETRICS", rows); err != nil {
				return err
			}
			if next != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "more runs: raise --max (now %d) or narrow --filter\n", max)
			}
			return nil
		},
	}
	lr.flags(list, true)
	projectFlag(list, &project)
	list.Flags().StringVar(&filter, "filter", "", "MLflow search filter, plus OR and parentheses")
	list.Flags().StringSliceVar(&experiments, "experiment", nil, "experiment ids (default: all active experiments)")
	list.Flags().StringSliceVar(&orderBy, "order-by", nil, "order keys like 'metrics.loss DESC'")
	list.Flags().IntVar(&max, "max", 100, "most runs to list (up to 50000)")

	var sr remote
	var sproject string
	show := &cobra.Command{
		Use:     "show RUN_ID",
		Short:   "Show a run: info, params, tags, latest metrics, datasets and linked items",
		Example: "  trellis runs show -p BAL 0f3a...\n  trellis runs show -p BAL 0f3a... --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needProject(sproject); err != nil {
				return err
			}
			c, err := sr.client()
			if err != nil {
				return err
			}
			r, err := c.Run(cmd.Context(), sproject, args[0])
			if err != nil {
				return err
			}
			items, err := c.RunItems(cmd.Context(), sproject, args[0])
			if err != nil {
				return err
			}
			if sr.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"run": r, "items": items})
			}
			w := cmd.OutOrStdout()
			i := r.Info
			fmt.Fprintf(w, "%s  %s\nexperiment %s · %s · %s · started %s", i.RunID, i.RunName, i.ExperimentID, i.Status, i.UserID, msTime(i.StartTime))
			if i.EndTime != 0 {
				fmt.Fprintf(w, " · ended %s", msTime(i.EndTime))
			}
			fmt.Fprintf(w, "\nartifacts %s\n", i.ArtifactURI)
			section := func(title string, m map[string]string) {
				if len(m) == 0 {
					return
				}
				fmt.Fprintf(w, "\n%s\n", title)
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				rows := make([][]string, len(keys))
				for n, k := range keys {
					rows[n] = []string{"  " + k, m[k]}
				}
				_ = table(w, "", rows)
			}
			section("PARAMS", kvMap(r.Data.Params))
			section("METRICS (latest)", metricMap(r.Data.Metrics))
			section("TAGS", kvMap(r.Data.Tags))
			if ins := r.Inputs.DatasetInputs; len(ins) > 0 {
				fmt.Fprintf(w, "\nDATASETS\n")
				rows := make([][]string, len(ins))
				for n, in := range ins {
					rows[n] = []string{"  " + in.Dataset.Name, in.Dataset.Digest, in.Dataset.SourceType, kvMap(in.Tags)["mlflow.data.context"]}
				}
				_ = table(w, "", rows)
			}
			if len(items) > 0 {
				var ks []string
				for _, l := range items {
					ks = append(ks, l.Item)
				}
				fmt.Fprintf(w, "\nITEMS %s\n", strings.Join(ks, ", "))
			}
			return nil
		},
	}
	sr.flags(show, true)
	projectFlag(show, &sproject)

	var cr remote
	var cproject string
	var diffOnly bool
	compare := &cobra.Command{
		Use:     "compare RUN_ID RUN_ID...",
		Short:   "Compare 2–20 runs side by side: params, latest metrics and tags",
		Example: "  trellis runs compare -p BAL 0f3a... 9b21... --diff",
		Args:    cobra.RangeArgs(2, 20),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needProject(cproject); err != nil {
				return err
			}
			c, err := cr.client()
			if err != nil {
				return err
			}
			var runs []*client.Run
			for _, id := range args {
				r, err := c.Run(cmd.Context(), cproject, id)
				if err != nil {
					return err
				}
				runs = append(runs, r)
			}
			if cr.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"runs": runs})
			}
			header := "KEY"
			for _, r := range runs {
				header += "\t" + r.Info.RunName
			}
			var rows [][]string
			add := func(prefix string, get func(*client.Run) map[string]string) {
				keys := map[string]bool{}
				vals := make([]map[string]string, len(runs))
				for n, r := range runs {
					vals[n] = get(r)
					for k := range vals[n] {
						keys[k] = true
					}
				}
				sorted := make([]string, 0, len(keys))
				for k := range keys {
					sorted = append(sorted, k)
				}
				sort.Strings(sorted)
				for _, k := range sorted {
					row := []string{prefix + k}
					same := true
					for n := range runs {
						row = append(row, vals[n][k])
						if vals[n][k] != vals[0][k] {
							same = false
						}
					}
					if !diffOnly || !same {
						rows = append(rows, row)
					}
				}
			}
			add("params.", func(r *client.Run) map[string]string { return kvMap(r.Data.Params) })
			add("metrics.", func(r *client.Run) map[string]string { return metricMap(r.Data.Metrics) })
			add("tags.", func(r *client.Run) map[string]string { return kvMap(r.Data.Tags) })
			return table(cmd.OutOrStdout(), header, rows)
		},
	}
	cr.flags(compare, true)
	projectFlag(compare, &cproject)
	compare.Flags().BoolVar(&diffOnly, "diff", false, "show only keys whose values differ")

	var kr remote
	var kproject string
	var remove bool
	link := &cobra.Command{
		Use:     "link RUN_ID ITEM_KEY",
		Short:   "Link a run to a backlog item by hand (or --remove the link)",
		Example: "  trellis runs link -p BAL 0f3a... BAL-12\n  trellis runs link -p BAL 0f3a... BAL-12 --remove",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needProject(kproject); err != nil {
				return err
			}
			c, err := kr.client()
			if err != nil {
				return err
			}
			if remove {
				if err := c.UnlinkRunItem(cmd.Context(), kproject, args[0], args[1]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "unlinked %s from %s\n", args[0], args[1])
				return nil
			}
			if err := c.LinkRunItem(cmd.Context(), kproject, args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "linked %s to %s\n", args[0], args[1])
			return nil
		},
	}
	kr.flags(link, false)
	projectFlag(link, &kproject)
	link.Flags().BoolVar(&remove, "remove", false, "remove the link instead")

	cmd.AddCommand(list, show, compare, link)
	return cmd
}

func artifactsCmd() *cobra.Command {
	cmd := group("artifacts", "List and download a run's artifacts")

	var lr remote
	var project string
	ls := &cobra.Command{
		Use:     "ls RUN_ID [PATH]",
		Short:   "List a run's artifacts",
		Example: "  trellis artifacts ls -p BAL 0f3a...\n  trellis artifacts ls -p BAL 0f3a... model --json",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needProject(project); err != nil {
				return err
			}
			c, err := lr.client()
			if err != nil {
				return err
			}
			p := ""
			if len(args) == 2 {
				p = args[1]
			}
			files, root, err := c.Artifacts(cmd.Context(), project, args[0], p)
			if err != nil {
				return err
			}
			if lr.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"root_uri": root, "files": files})
			}
			rows := make([][]string, 0, len(files))
			for _, f := range files {
				size := fmt.Sprint(f.FileSize)
				if f.IsDir {
					size = "dir"
				}
				rows = append(rows, []string{f.Path, size})
			}
			return table(cmd.OutOrStdout(), "PATH\tSIZE", rows)
		},
	}
	lr.flags(ls, true)
	projectFlag(ls, &project)

	var gr remote
	var gproject, out string
	get := &cobra.Command{
		Use:     "get RUN_ID PATH",
		Short:   "Download one artifact (to --out, default the file's name; - for stdout)",
		Example: "  trellis artifacts get -p BAL 0f3a... model/metrics.json\n  trellis artifacts get -p BAL 0f3a... notes.txt --out -",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needProject(gproject); err != nil {
				return err
			}
			c, err := gr.client()
			if err != nil {
				return err
			}
			r, err := c.Run(cmd.Context(), gproject, args[0])
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			if out != "-" {
				name := out
				if name == "" {
					name = path.Base(args[1])
				}
				f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
				if err := c.DownloadArtifact(cmd.Context(), gproject, r.Info.ArtifactURI, args[1], w); err != nil {
					os.Remove(name)
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", name)
				return f.Close()
			}
			return c.DownloadArtifact(cmd.Context(), gproject, r.Info.ArtifactURI, args[1], w)
		},
	}
	gr.flags(get, false)
	projectFlag(get, &gproject)
	get.Flags().StringVarP(&out, "out", "o", "", "file to write (must not exist); - for stdout")

	cmd.AddCommand(ls, get)
	return cmd
}
