package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/project"
)

func projectCmd() *cobra.Command {
	cmd := group("project", "List, create and show projects")

	var lr remote
	var archived bool
	list := &cobra.Command{
		Use:     "list",
		Short:   "List your projects",
		Example: "  trellis project list\n  trellis project list --archived --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lr.client()
			if err != nil {
				return err
			}
			ps, err := c.Projects(cmd.Context(), archived)
			if err != nil {
				return err
			}
			if lr.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"projects": ps})
			}
			rows := make([][]string, 0, len(ps))
			for _, p := range ps {
				state := ""
				if p.Archived {
					state = "archived"
				}
				rows = append(rows, []string{p.Key, p.Name, string(p.Role), state})
			}
			return table(cmd.OutOrStdout(), "KEY\tNAME\tROLE\tSTATE", rows)
		},
	}
	lr.flags(list, true)
	list.Flags().BoolVar(&archived, "archived", false, "include archived projects")

	var cr remote
	var name, description string
	create := &cobra.Command{
		Use:     "create KEY",
		Short:   "Create a project; you become its admin",
		Example: "  trellis project create BAL --name 'Balloon detector'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cr.client()
			if err != nil {
				return err
			}
			if name == "" {
				name = args[0]
			}
			p, err := c.CreateProject(cmd.Context(), project.NewProject{Key: args[0], Name: name, Description: description})
			if err != nil {
				return err
			}
			if cr.asJSON {
				return printJSON(cmd.OutOrStdout(), p)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created project %s (%s)\n", p.Key, p.Name)
			return nil
		},
	}
	cr.flags(create, true)
	create.Flags().StringVar(&name, "name", "", "project name (default: the key)")
	create.Flags().StringVar(&description, "description", "", "description (Markdown)")

	var sr remote
	show := &cobra.Command{
		Use:     "show KEY",
		Short:   "Show a project and its members",
		Example: "  trellis project show BAL",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := sr.client()
			if err != nil {
				return err
			}
			p, err := c.Project(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			ms, err := c.Members(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if sr.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"project": p, "members": ms})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s  %s\nrole: %s  archived: %v  created: %s\n", p.Key, p.Name, p.Role, p.Archived, when(p.CreatedAt))
			if p.Description != "" {
				fmt.Fprintf(w, "\n%s\n", p.Description)
			}
			fmt.Fprintln(w)
			rows := make([][]string, 0, len(ms))
			for _, m := range ms {
				rows = append(rows, []string{m.UserName, string(m.Role), when(m.AddedAt)})
			}
			return table(w, "MEMBER\tROLE\tADDED", rows)
		},
	}
	sr.flags(show, true)
	cmd.AddCommand(list, create, show)
	return cmd
}
