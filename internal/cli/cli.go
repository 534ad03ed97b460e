// Package cli is the trellis command line: the server, the admin commands
// that open the store directly, and the client commands that talk to a
// server's JSON API. It is the only package that wires concrete types
// together.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/client"
	"github.com/trellisml/trellis/internal/trellis"
)

// version is set at build time with -ldflags "-X .../internal/cli.version=v1.2.3".
var version = "dev"

// Exit codes, for scripts and CI.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // the command ran and failed (or a check failed)
	ExitUsage   = 2 // bad usage or bad input
)

// usageError marks errors that are the caller's input, not a failure.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// Main runs the command line with args (without the program name) and
// returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "trellis:", err)
	return exitCode(err)
}

func exitCode(err error) int {
	var ue usageError
	var ce *client.Error
	switch {
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ce):
		if ce.Status == 400 || ce.Status == 413 {
			return ExitUsage
		}
		return ExitFailure
	case trellis.ErrorCode(err) == trellis.EINVALID:
		return ExitUsage
	}
	return ExitFailure
}

func newRoot(stdin io.Reader) *cobra.Command {
	root := &cobra.Command{
		Use:           "trellis",
		Short:         "Plan, run, measure and hand off ML work",
		Long:          "Trellis joins an ML-aware backlog with MLflow-compatible experiment tracking, goals and acceptance specs.\nRun 'trellis serve' to start the server.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		serveCmd(),
		migrateCmd(),
		backupCmd(),
		userCmd(stdin),
		configCmd(),
		versionCmd(),
		loginCmd(stdin),
		logoutCmd(),
		tokenCmd(),
		projectCmd(),
		specCmd(),
		goalCmd(),
		itemCmd(stdin), sprintCmd(), importCmd(),
		runsCmd(),
		artifactsCmd(),
	)
	// Unknown subcommands and bad arguments are usage errors.
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	return root
}

// wrapArgs turns cobra's argument-count errors into usage errors.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		args := c.Args
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// Version returns the build's version string.
func Version() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		return v + " " + bi.GoVersion
	}
	return v
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version",
		Example: "  trellis version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "trellis", Version())
			return nil
		},
	}
}

// group returns a command that only holds subcommands; run on its own or
// with an unknown subcommand it is a usage error rather than silent help.
func group(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				_ = cmd.Help()
				return usagef("%s needs a subcommand", cmd.CommandPath())
			}
			return usagef("unknown command %q for %q; see '%s --help'", args[0], cmd.CommandPath(), cmd.CommandPath())
		},
	}
}

func env(name string) string { return os.Getenv(name) }
