package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/client"
	"github.com/trellisml/trellis/internal/goal"
	"github.com/trellisml/trellis/internal/goal/speccheck"
)

// specItemFlags are the --project and --item flags of the commands that
// work on the spec attached to an item on the server.
type specItemFlags struct {
	remote
	project, item string
}

func (f *specItemFlags) register(cmd *cobra.Command) {
	f.flags(cmd, true)
	cmd.Flags().StringVarP(&f.project, "project", "p", "", "project key (default: the prefix of --item)")
	cmd.Flags().StringVar(&f.item, "item", "", "item key, e.g. BAL-7")
}

// resolve checks the flags and returns a client.
func (f *specItemFlags) resolve() (*client.Client, error) {
	if f.item == "" {
		return nil, usagef("--item KEY is required")
	}
	f.item = strings.ToUpper(f.item)
	if f.project == "" {
		if i := strings.LastIndexByte(f.item, '-'); i > 0 {
			f.project = f.item[:i]
		}
	}
	f.project = strings.ToUpper(f.project)
	if !strings.HasPrefix(f.item, f.project+"-") {
		return nil, usagef("--item %s is not an item of --project %s (keys look like %s-12)", f.item, f.project, f.project)
	}
	return f.client()
}

func specPushCmd() *cobra.Command {
	var f specItemFlags
	var name string
	cmd := &cobra.Command{
		Use:   "push FILE --project KEY --item KEY",
		Short: "Attach a spec to an item on the server (a new version when the text changed)",
		Long: "Upload a .feature file as the spec of an item. The server parses it first: a spec that does not\n" +
			"parse or uses an unknown step is refused with its file:line errors and the closest known steps\n" +
			"(exit 2). A changed text becomes a new version; the server checks its run-based scenarios at once,\n" +
			"and again whenever a run linked to the item finishes. Prints the version and the results.",
		Example: "  trellis spec push churn.feature --project BAL --item BAL-7\n" +
			"  trellis spec push specs/churn.feature --item BAL-7 --json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.resolve()
			if err != nil {
				return err
			}
			src, err := os.ReadFile(args[0])
			if err != nil {
				return usagef("%s: %v", args[0], pathReason(err))
			}
			if name == "" {
				name = filepath.Base(args[0])
			}
			out, err := c.PutSpec(cmd.Context(), f.project, f.item, name, src)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if f.asJSON {
				return printJSON(w, out)
			}
			if out.Created {
				fmt.Fprintf(w, "%s: spec %s is version %d\n", f.item, out.Spec.Name, out.Spec.Version)
			} else {
				fmt.Fprintf(w, "%s: spec %s unchanged, still version %d\n", f.item, out.Spec.Name, out.Spec.Version)
			}
			return writeSpecResults(w, out)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&name, "name", "", "the spec's file name on the server (default: FILE's base name)")
	return cmd
}

func specShowCmd() *cobra.Command {
	var f specItemFlags
	var version int
	var check bool
	cmd := &cobra.Command{
		Use:   "show --project KEY --item KEY [--version N]",
		Short: "Show an item's spec on the server and the latest result of each scenario",
		Long: "Without --version: the latest version and the latest result of each scenario (with --check, the\n" +
			"server checks it first). With --version N: the text of that version.\n" +
			"Exit status: 0 no scenario failed, 1 a scenario failed or could not be checked, 2 usage.",
		Example: "  trellis spec show --project BAL --item BAL-7\n" +
			"  trellis spec show --item BAL-7 --check --json\n" +
			"  trellis spec show --item BAL-7 --version 2 > churn-v2.feature",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.resolve()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if cmd.Flags().Changed("version") {
				if version < 1 {
					return usagef("--version must be a number from 1")
				}
				v, err := c.SpecVersion(cmd.Context(), f.project, f.item, version)
				if err != nil {
					return err
				}
				if f.asJSON {
					return printJSON(w, v)
				}
				_, err = io.WriteString(w, v.Text)
				return err
			}
			var out *goal.ItemSpec
			if check {
				out, err = c.CheckSpec(cmd.Context(), f.project, f.item)
			} else {
				out, err = c.Spec(cmd.Context(), f.project, f.item)
			}
			if err != nil {
				return err
			}
			if f.asJSON {
				err = printJSON(w, out)
			} else {
				fmt.Fprintf(w, "%s: spec %s version %d by %s, %s\n", f.item, out.Spec.Name, out.Spec.Version, out.Spec.Author, when(out.Spec.CreatedAt))
				err = writeSpecResults(w, out)
			}
			if err != nil {
				return err
			}
			if s := out.Summary; s.Failed+s.Errors > 0 {
				return fmt.Errorf("%d of %d checked %s did not pass", s.Failed+s.Errors, s.Checked(), plural(s.Checked(), "scenario", "scenarios"))
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&version, "version", 0, "print the text of this version")
	cmd.Flags().BoolVar(&check, "check", false, "have the server check the spec now")
	return cmd
}

func specVersionsCmd() *cobra.Command {
	var f specItemFlags
	cmd := &cobra.Command{
		Use:     "versions --project KEY --item KEY",
		Short:   "List the versions of an item's spec on the server",
		Example: "  trellis spec versions --project BAL --item BAL-7",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.resolve()
			if err != nil {
				return err
			}
			vs, err := c.SpecVersions(cmd.Context(), f.project, f.item)
			if err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"versions": vs})
			}
			rows := make([][]string, len(vs))
			for i, v := range vs {
				rows[i] = []string{strconv.Itoa(v.Version), v.Name, v.Author, when(v.CreatedAt)}
			}
			return table(cmd.OutOrStdout(), "VERSION\tNAME\tAUTHOR\tCREATED", rows)
		},
	}
	f.register(cmd)
	return cmd
}

// writeSpecResults prints one row per scenario: where it is, its outcome,
// the run it read and why it did not pass, then an "N passed, N failed"
// line.
func writeSpecResults(w io.Writer, s *goal.ItemSpec) error {
	rows := make([][]string, len(s.Results))
	for i, r := range s.Results {
		line := strconv.Itoa(r.Line)
		if r.RowLine != 0 {
			line += "/" + strconv.Itoa(r.RowLine)
		}
		run := "-"
		if r.RunID != "" {
			run = r.RunID[:min(8, len(r.RunID))]
		}
		detail := r.Message
		if detail == "" {
			var ms []string
			for _, c := range r.Checks {
				if c.Measured != nil {
					ms = append(ms, fmt.Sprintf("%s %s (%s %s)", c.Metric, speccheck.FormatNumber(*c.Measured), c.Comparator, speccheck.FormatNumber(c.Threshold)))
				}
			}
			detail = strings.Join(ms, "; ")
		}
		rows[i] = []string{line, r.Scenario, strings.ReplaceAll(string(r.Outcome), "_", " "), run, detail}
	}
	if err := table(w, "LINE\tSCENARIO\tOUTCOME\tRUN\tDETAIL", rows); err != nil {
		return err
	}
	sum := s.Summary
	noData := ""
	if sum.NoData > 0 {
		noData = fmt.Sprintf(", %d no data", sum.NoData)
	}
	_, err := fmt.Fprintf(w, "%d passed, %d failed, %d errors%s, %d skipped (checked %s)\n", sum.Passed, sum.Failed, sum.Errors, noData, sum.Skipped, when(sum.CheckedAt))
	return err
}
