package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/trellisml/trellis/internal/auth"
)

// withStore resolves the config, opens and migrates the store, runs fn with
// the wired services, and closes the store: the frame of every admin command.
func withStore(cmd *cobra.Command, c *Config, fn func(*app) error) error {
	if err := c.resolve(); err != nil {
		return err
	}
	db, err := openStore(cmd.Context(), *c, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(wire(db, auth.DefaultHashParams, nil))
}

func migrateCmd() *cobra.Command {
	var c Config
	cmd := &cobra.Command{
		Use:     "migrate",
		Short:   "Apply pending store migrations (serve does this too)",
		Example: "  trellis migrate --db postgres://trellis@db/trellis",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, &c, func(a *app) error {
				cur, known, err := a.db.SchemaVersion(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "store %s is at schema version %d (this binary knows %d)\n", c.redacted().DB, cur, known)
				return nil
			})
		},
	}
	c.storeFlags(cmd)
	return cmd
}

func backupCmd() *cobra.Command {
	var c Config
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent snapshot of a live SQLite store and check its integrity",
		Long: "Write a consistent snapshot of the SQLite store to FILE while the server keeps running (VACUUM INTO),\n" +
			"then run PRAGMA integrity_check on the copy. PostgreSQL stores are backed up with pg_dump.",
		Example: "  trellis backup trellis-$(date +%F).db",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, &c, func(a *app) error {
				if err := a.db.Backup(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (integrity check ok)\n", args[0])
				return nil
			})
		},
	}
	c.storeFlags(cmd)
	return cmd
}

// readPassword reads a password from TRELLIS_PASSWORD, else from the
// terminal without echo (twice, when confirm is set), else one line of stdin.
func readPassword(stdin io.Reader, stderr io.Writer, prompt string, confirm bool) (string, error) {
	if p := os.Getenv("TRELLIS_PASSWORD"); p != "" {
		return p, nil
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if confirm {
			fmt.Fprint(stderr, "Repeat: ")
			again, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return "", err
			}
			if string(again) != string(b) {
				return "", usagef("the passwords do not match")
			}
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usagef("no password given: set TRELLIS_PASSWORD or pipe it on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func userCmd(stdin io.Reader) *cobra.Command {
	cmd := group("user", "Manage users directly in the store (admin commands)")

	var c Config
	var admin bool
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a user; the password comes from stdin or TRELLIS_PASSWORD",
		Example: "  trellis user create ada --admin            # prompts for the password\n" +
			"  TRELLIS_PASSWORD=... trellis user create bob",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(stdin, cmd.ErrOrStderr(), "Password for "+args[0]+": ", true)
			if err != nil {
				return err
			}
			return withStore(cmd, &c, func(a *app) error {
				u, err := a.auth.CreateUser(cmd.Context(), auth.NewUser{Name: args[0], Password: pw, Admin: admin})
				if err != nil {
					return err
				}
				kind := "user"
				if u.Admin {
					kind = "instance admin"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created %s %s\n", kind, u.Name)
				return nil
			})
		},
	}
	c.storeFlags(create)
	create.Flags().BoolVar(&admin, "admin", false, "make the user an instance admin")

	var pc Config
	var revoke bool
	setPassword := &cobra.Command{
		Use:   "set-password NAME",
		Short: "Set a user's password (ends their sessions); from stdin or TRELLIS_PASSWORD",
		Example: "  trellis user set-password ada\n" +
			"  trellis user set-password ada --revoke-tokens   # the account may be compromised",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(stdin, cmd.ErrOrStderr(), "New password for "+args[0]+": ", true)
			if err != nil {
				return err
			}
			return withStore(cmd, &pc, func(a *app) error {
				n, err := a.auth.SetPassword(cmd.Context(), args[0], auth.NewPassword{Password: pw, RevokeTokens: revoke})
				if err != nil {
					return err
				}
				if revoke {
					fmt.Fprintf(cmd.OutOrStdout(), "password of %s changed; their sessions have ended and %d API token(s) revoked\n", args[0], n)
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "password of %s changed; their sessions have ended (API tokens keep working; --revoke-tokens ends them)\n", args[0])
				}
				return nil
			})
		},
	}
	pc.storeFlags(setPassword)
	setPassword.Flags().BoolVar(&revoke, "revoke-tokens", false, "also revoke every API token of the user, at once")

	disable := func(use, short, done string, disabled bool) *cobra.Command {
		var dc Config
		sub := &cobra.Command{
			Use:     use + " NAME",
			Short:   short,
			Example: "  trellis user " + use + " bob",
			Args:    cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withStore(cmd, &dc, func(a *app) error {
					if err := a.auth.SetDisabled(cmd.Context(), args[0], disabled); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%sd %s; %s\n", use, args[0], done)
					return nil
				})
			},
		}
		dc.storeFlags(sub)
		return sub
	}
	cmd.AddCommand(create, setPassword, disable("disable", "Disable a user (ends their sessions and revokes their API tokens)", "their sessions have ended and their API tokens are revoked", true),
		disable("enable", "Enable a disabled user again (tokens from before the disable stay revoked)", "they sign in with their password and need new API tokens", false))
	return cmd
}
