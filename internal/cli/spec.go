package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/trellisml/trellis/internal/client"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
)

func specCmd() *cobra.Command {
	cmd := group("spec", "Check acceptance specs written in Gherkin")
	cmd.AddCommand(specCheckCmd(), specStepsCmd(), specGoalsCmd(), specPushCmd(), specShowCmd(), specVersionsCmd())
	return cmd
}

func specStepsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "steps",
		Short: "List the Gherkin steps specs can use",
		Long: "List the step vocabulary. N is a number or a percentage (80% is 0.8), \"...\" a quoted\n" +
			"string; every 'should be' step takes at least, at most, more than, less than or exactly.",
		Example: "  trellis spec steps",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, s := range speccheck.Vocabulary() {
				fmt.Fprintln(cmd.OutOrStdout(), s)
			}
			return nil
		},
	}
}

// progressMinSize is the smallest input file that gets a progress bar:
// smaller ones load in well under a second.
const progressMinSize = 32 << 20

type specCheckFlags struct {
	tags, junit, labels, predictions string
	asJSON                           bool
	run, server, project, item       string
	report                           bool
}

func specCheckCmd() *cobra.Command {
	var f specCheckFlags
	cmd := &cobra.Command{
		Use:   "check FILE|DIR ...",
		Short: "Check Gherkin acceptance specs against labels and predictions",
		Long: "Parse the .feature files (directories are searched recursively), bind their steps to\n" +
			"Trellis's step vocabulary (see docs/SPECS.md), score the predictions and check every\n" +
			"Then step. Prints each scenario and step with the measured value next to the threshold.\n" +
			"Exit status: 0 all scenarios passed, 1 a check failed, 2 a parse or input error.",
		Example: "  trellis spec check examples/specs\n" +
			"  trellis spec check specs/ --tags '@smoke and not @slow' --junit spec-results.xml\n" +
			"  trellis spec check spam.feature --labels test/labels.csv --predictions out/predictions.jsonl --json",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSpecCheck(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.tags, "tags", "", "only scenarios matching a tag expression, e.g. '@smoke and not @slow'")
	fl.StringVar(&f.junit, "junit", "", "also write JUnit XML to this file")
	fl.BoolVar(&f.asJSON, "json", false, "print the report as JSON instead of text")
	fl.StringVar(&f.labels, "labels", "", "labels file to use instead of the ones the specs name")
	fl.StringVar(&f.predictions, "predictions", "", "predictions file to use instead of the ones the specs name")
	fl.StringVar(&f.run, "run", "", "run id whose metrics the run-based steps check (needs a server)")
	fl.StringVar(&f.server, "server", "", "server URL for run-based steps (env TRELLIS_SERVER)")
	fl.BoolVar(&f.report, "report-to-server", false, "log the computed metrics and results as a run linked to --item (needs a server)")
	fl.StringVar(&f.project, "project", "", "project key, with --report-to-server")
	fl.StringVar(&f.item, "item", "", "item key, with --report-to-server")
	return cmd
}

func runSpecCheck(cmd *cobra.Command, args []string, f specCheckFlags) error {
	tags, err := speccheck.ParseTagExpr(f.tags)
	if err != nil {
		return usagef("--tags: %v", err)
	}
	if f.report && (f.project == "" || f.item == "") {
		return usagef("--report-to-server needs --project KEY and --item KEY")
	}
	// The server links a run to an item of its own project only, so a
	// mismatch would log a run no item ever shows.
	if f.report && !strings.HasPrefix(f.item, f.project+"-") {
		return usagef("--item %s is not an item of --project %s (keys look like %s-12)", f.item, f.project, f.project)
	}
	// Run-based steps and --report-to-server use the server from the flag,
	// TRELLIS_SERVER or the saved login; file-based specs need none.
	cc, err := loadClientConfig()
	if err != nil {
		return err
	}
	server := firstNonEmpty(f.server, os.Getenv("TRELLIS_SERVER"), cc.Server)
	token := firstNonEmpty(os.Getenv("TRELLIS_TOKEN"), cc.Token)
	if server == "" && (f.run != "" || f.report) {
		flag := "--run"
		if f.report {
			flag = "--report-to-server"
		}
		return usagef("%s needs a Trellis server: pass --server or set TRELLIS_SERVER", flag)
	}
	var mlflow *client.MLflowClient
	if server != "" {
		mlflow = client.NewMLflowClient(server, f.project, token)
	}
	files, err := featureFiles(args)
	if err != nil {
		return err
	}
	var specs []*speccheck.Spec
	var errs speccheck.Errors
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, &speccheck.InputError{File: path, Msg: err.Error()})
			continue
		}
		sp, err := speccheck.ParseSpec(path, src)
		if err != nil {
			if es, ok := err.(speccheck.Errors); ok {
				errs = append(errs, es...)
			} else {
				errs = append(errs, &speccheck.InputError{File: path, Msg: err.Error()})
			}
			continue
		}
		specs = append(specs, sp)
	}
	if len(errs) > 0 {
		return usageError{errs}
	}
	opts := speccheck.Options{Labels: f.labels, Predictions: f.predictions, Tags: tags, RunID: f.run}
	if mlflow != nil {
		opts.Runs = mlflow
	}
	bars := newProgress(cmd.ErrOrStderr())
	if bars != nil {
		opts.Progress = bars.update
	}
	rep := speccheck.NewChecker(opts).Check(cmd.Context(), specs)
	if bars != nil {
		bars.finish()
	}
	out := cmd.OutOrStdout()
	if f.asJSON {
		err = rep.WriteJSON(out)
	} else {
		err = rep.WriteText(out)
	}
	if err != nil {
		return err
	}
	if f.junit != "" {
		var buf bytes.Buffer
		if err := rep.WriteJUnit(&buf); err != nil {
			return err
		}
		if err := os.WriteFile(f.junit, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	if f.report {
		if err := reportToServer(cmd, mlflow, f, files, rep); err != nil {
			return err
		}
	}
	switch rep.ExitCode() {
	case ExitUsage:
		return usagef("%d %s could not be checked: input errors above", rep.Errors, plural(rep.Errors, "scenario", "scenarios"))
	case ExitFailure:
		return fmt.Errorf("%d of %d %s failed", rep.Failed, rep.Passed+rep.Failed, plural(rep.Passed+rep.Failed, "scenario", "scenarios"))
	}
	if rep.Passed == 0 {
		fmt.Fprintln(cmd.ErrOrStderr(), "trellis: no scenarios matched")
	}
	return nil
}

// specExperiment is the experiment --report-to-server logs its runs in,
// and specReportArtifact the run's artifact holding the JSON report.
const (
	specExperiment     = "trellis spec check"
	specReportArtifact = "trellis-spec/report.json"
)

// reportToServer logs the check as a finished run linked to the item, so
// each iteration's check is a point on the item's progress chart.
func reportToServer(cmd *cobra.Command, c *client.MLflowClient, f specCheckFlags, files []string, rep *speccheck.Report) error {
	metrics, err := rep.MetricsToLog()
	if err != nil {
		return usagef("--report-to-server: %v", err)
	}
	ctx := cmd.Context()
	now := time.Now()
	exp, err := c.ExperimentID(ctx, specExperiment)
	if err != nil {
		return fmt.Errorf("--report-to-server: %w", err)
	}
	tags := map[string]string{
		"trellis.item":       f.item,
		"trellis.spec.files": strings.Join(files, ", "),
		"mlflow.source.name": "trellis spec check",
		"mlflow.source.type": "LOCAL",
	}
	id, artifacts, err := c.CreateRun(ctx, exp, "spec check "+f.item+" "+now.UTC().Format("2006-01-02 15:04:05"), now.Add(-rep.Duration), tags)
	if err != nil {
		return fmt.Errorf("--report-to-server: %w", err)
	}
	if err := c.LogMetrics(ctx, id, now, metrics, map[string]string{"trellis.spec.result": fmt.Sprintf("%d passed, %d failed", rep.Passed, rep.Failed)}); err != nil {
		return fmt.Errorf("--report-to-server: run %s: %w", id, err)
	}
	// The full report (every step with its measured value) goes with the
	// run as an artifact; the metrics above are what charts plot.
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return err
	}
	switch err := c.UploadArtifact(ctx, artifacts, specReportArtifact, buf.Bytes()); {
	case errors.Is(err, client.ErrNoArtifactProxy):
		fmt.Fprintf(cmd.ErrOrStderr(), "trellis: run %s: %v; %s not uploaded\n", id, err, specReportArtifact)
	case err != nil:
		return fmt.Errorf("--report-to-server: run %s: %w", id, err)
	}
	if err := c.FinishRun(ctx, id, "FINISHED", time.Now()); err != nil {
		return fmt.Errorf("--report-to-server: run %s: %w", id, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "logged run %s with %d metrics for item %s in project %s\n", id, len(metrics), f.item, f.project)
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// featureFiles expands the arguments: files as given, directories to the
// .feature files under them, sorted, each once.
func featureFiles(args []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, usagef("%s: %v", a, pathReason(err))
		}
		if !st.IsDir() {
			add(a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".feature") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, usagef("%s: %v", a, err)
		}
		if len(found) == 0 {
			return nil, usagef("%s: no .feature files", a)
		}
		sort.Strings(found)
		for _, p := range found {
			add(p)
		}
	}
	return files, nil
}

func pathReason(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// progress draws one bar per big input file, only when stderr is a
// terminal, so CI logs and pipes stay clean.
type progress struct {
	w    io.Writer
	bars map[string]*progressbar.ProgressBar
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{w: w, bars: map[string]*progressbar.ProgressBar{}}
}

func (p *progress) update(file string, read, size int64) {
	if size < progressMinSize {
		return
	}
	b, ok := p.bars[file]
	if !ok {
		b = progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("reading "+filepath.Base(file)),
			progressbar.OptionShowBytes(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100_000_000),
		)
		p.bars[file] = b
	}
	_ = b.Set64(read)
}

func (p *progress) finish() {
	for _, b := range p.bars {
		_ = b.Finish()
	}
}

func specGoalsCmd() *cobra.Command {
	var r remote
	var project, item string
	cmd := &cobra.Command{
		Use:   "goals FILE --project KEY --item KEY",
		Short: "Evaluate a spec's goals against the runs linked to an item on the server",
		Long: "Every distinct Then check of the spec is a goal. The server judges each against the runs\n" +
			"linked to the item: met, not met, no data or undefined from the latest run that logged the\n" +
			"metric, with the best value so far and its run.\n" +
			"Exit status: 0 every goal met, 1 any goal not met or without data, 2 a bad spec or usage.",
		Example: "  trellis spec goals churn.feature --project BAL --item BAL-7\n" +
			"  trellis spec goals churn.feature --project BAL --item BAL-7 --json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if project == "" || item == "" {
				return usagef("goals needs --project KEY and --item KEY")
			}
			src, err := os.ReadFile(args[0])
			if err != nil {
				return usagef("%s: %v", args[0], pathReason(err))
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			ev, err := c.EvaluateGoals(cmd.Context(), project, item, args[0], src)
			if err != nil {
				var ce *client.Error
				if errors.As(err, &ce) && ce.Status == 400 {
					return usagef("%s", ce.Message)
				}
				return err
			}
			heading := fmt.Sprintf("%s: %d linked %s", ev.Item, ev.Runs, plural(ev.Runs, "run", "runs"))
			return printEvaluation(cmd.OutOrStdout(), heading, ev, r.asJSON)
		},
	}
	r.flags(cmd, true)
	cmd.Flags().StringVar(&project, "project", "", "project key")
	cmd.Flags().StringVar(&item, "item", "", "item key, e.g. BAL-7")
	return cmd
}

// observation formats a goal's value and the run (first 8 hex digits)
// that logged it.
func observation(o *goal.ObservationJSON) string {
	switch {
	case o == nil:
		return "-"
	case o.Value == nil:
		return "undefined (" + o.Undefined + ") run " + o.RunID[:min(8, len(o.RunID))]
	}
	return speccheck.FormatNumber(*o.Value) + " run " + o.RunID[:min(8, len(o.RunID))]
}
