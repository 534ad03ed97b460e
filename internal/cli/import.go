package cli

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/work"
)

// progressReader reports upload progress on one terminal line.
type progressReader struct {
	r          io.Reader
	w          io.Writer
	read, size int64
	last       int
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	if p.size > 0 {
		pct := int(100 * p.read / p.size)
		if pct != p.last {
			p.last = pct
			bar := strings.Repeat("#", pct/5) + strings.Repeat(".", 20-pct/5)
			fmt.Fprintf(p.w, "\ruploading [%s] %3d%%", bar, pct)
		}
	}
	return n, err
}

func importCmd() *cobra.Command {
	cmd := group("import", "Import a backlog from a file")
	var r remote
	var project, mapping string
	var maps []string
	csvCmd := &cobra.Command{
		Use:   "csv FILE",
		Short: "Import items from CSV; every row is checked first and a refused row imports nothing",
		Long: "Import items from a CSV file. Columns are named like item fields (" + strings.Join(work.ImportFields, ", ") + "),\n" +
			"or --mapping jira reads a Jira export (Summary, Issue Type, Status, Priority, Assignee, Labels, Description,\n" +
			"Story Points, Sprint). --map FIELD=COLUMN maps one column by hand. If any row is refused, each refusal is\n" +
			"listed with its line number and nothing is imported (exit code 2).",
		Example: "  trellis import csv backlog.csv --project BAL\n  trellis import csv jira-export.csv --project BAL --mapping jira --map title=Summary",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := projectOf(project, "")
			if err != nil {
				return err
			}
			q := url.Values{}
			if mapping != "" {
				q.Set("mapping", mapping)
			}
			for _, m := range maps {
				f, col, ok := strings.Cut(m, "=")
				if !ok || f == "" || col == "" {
					return usagef("--map must be FIELD=COLUMN, not %q", m)
				}
				q.Set("map."+f, col)
			}
			f, err := os.Open(args[0])
			if err != nil {
				return usagef("%v", err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			body := &progressReader{r: f, w: cmd.ErrOrStderr(), size: st.Size(), last: -1}
			a, err := c.ImportCSV(cmd.Context(), key, body, st.Size(), q)
			fmt.Fprintln(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if r.asJSON {
				if err := printJSON(cmd.OutOrStdout(), a); err != nil {
					return err
				}
			}
			if len(a.Errors) > 0 {
				if !r.asJSON {
					w := cmd.OutOrStdout()
					for _, e := range a.Errors {
						field := ""
						if e.Field != "" {
							field = " (" + e.Field + ")"
						}
						fmt.Fprintf(w, "%s:%d%s: %s\n", args[0], e.Line, field, e.Message)
					}
				}
				return usagef("%d rows refused; nothing was imported", len(a.Errors))
			}
			if !r.asJSON {
				fmt.Fprintf(cmd.OutOrStdout(), "imported %d items: %s\n", a.Imported, summarizeKeys(a.Keys))
			}
			return nil
		},
	}
	r.flags(csvCmd, true)
	csvCmd.Flags().StringVarP(&project, "project", "p", "", "project key (env TRELLIS_PROJECT)")
	csvCmd.Flags().StringVar(&mapping, "mapping", "", "column names: trellis (default) or jira")
	csvCmd.Flags().StringSliceVar(&maps, "map", nil, "FIELD=COLUMN (repeatable)")
	cmd.AddCommand(csvCmd)
	return cmd
}

func summarizeKeys(keys []string) string {
	if len(keys) <= 3 {
		return strings.Join(keys, ", ")
	}
	return keys[0] + " … " + keys[len(keys)-1]
}
