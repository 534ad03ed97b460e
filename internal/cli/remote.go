package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/client"
)

// clientConfig is what `trellis login` remembers.
type clientConfig struct {
	Server string `json:"server"`
	User   string `json:"user"`
	Token  string `json:"token"`
}

// clientConfigPath is $TRELLIS_CLIENT_CONFIG, else trellis/config.json in
// the user's config directory.
func clientConfigPath() (string, error) {
	if p := os.Getenv("TRELLIS_CLIENT_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config dir: %w", err)
	}
	return filepath.Join(dir, "trellis", "config.json"), nil
}

func loadClientConfig() (clientConfig, error) {
	var cc clientConfig
	path, err := clientConfigPath()
	if err != nil {
		return cc, err
	}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return cc, err
	}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &cc); err != nil {
			return cc, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return cc, nil
}

// saveClientConfig writes the config with mode 0600: it holds a token.
func saveClientConfig(cc clientConfig) (string, error) {
	path, err := clientConfigPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(cc, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// remote holds the connection flags of client commands.
type remote struct {
	server string
	asJSON bool
}

func (r *remote) flags(cmd *cobra.Command, listing bool) {
	cmd.Flags().StringVar(&r.server, "server", "", "server URL (env TRELLIS_SERVER; default: the one from trellis login)")
	if listing {
		cmd.Flags().BoolVar(&r.asJSON, "json", false, "print JSON")
	}
}

// client returns an API client: flags over TRELLIS_SERVER/TRELLIS_TOKEN over
// the saved login.
func (r *remote) client() (*client.Client, error) {
	cc, err := loadClientConfig()
	if err != nil {
		return nil, err
	}
	server := firstNonEmpty(r.server, os.Getenv("TRELLIS_SERVER"), cc.Server)
	token := firstNonEmpty(os.Getenv("TRELLIS_TOKEN"), cc.Token)
	if server == "" {
		return nil, usagef("no server: run 'trellis login --server URL' or set TRELLIS_SERVER")
	}
	if token == "" {
		return nil, usagef("not logged in: run 'trellis login --server %s' or set TRELLIS_TOKEN", server)
	}
	return client.New(server, token), nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func table(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func loginCmd(stdin io.Reader) *cobra.Command {
	var server, user, expires string
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to a server and store an API token for the CLI",
		Long: "Sign in with your user name and password (prompted, or from stdin or TRELLIS_PASSWORD), create an API\n" +
			"token for this machine and store the server and token in your config directory (file mode 0600).",
		Example: "  trellis login --server http://127.0.0.1:8420 --user ada",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := url.Parse(server)
			if server == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("--server must be a URL like http://127.0.0.1:8420")
			}
			if user == "" {
				return usagef("--user is required")
			}
			pw, err := readPassword(stdin, cmd.ErrOrStderr(), "Password for "+user+": ", false)
			if err != nil {
				return err
			}
			host, _ := os.Hostname()
			created, err := client.NewWithPassword(server, user, pw).CreateToken(cmd.Context(), "cli on "+host, auth.ScopeWrite, expires)
			if err != nil {
				return err
			}
			path, err := saveClientConfig(clientConfig{Server: strings.TrimRight(server, "/"), User: user, Token: created.Secret})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "logged in to %s as %s; token %s… saved in %s\n", server, user, created.Token.Prefix, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", os.Getenv("TRELLIS_SERVER"), "server URL (env TRELLIS_SERVER)")
	cmd.Flags().StringVar(&user, "user", os.Getenv("USER"), "user name")
	cmd.Flags().StringVar(&expires, "expires", "90d", "token lifetime: 90d, 12h or never")
	return cmd
}

func logoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "logout",
		Short:   "Revoke the CLI's token and forget it",
		Example: "  trellis logout",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, err := loadClientConfig()
			if err != nil {
				return err
			}
			if cc.Token == "" {
				fmt.Fprintln(cmd.OutOrStdout(), "not logged in")
				return nil
			}
			c := client.New(cc.Server, cc.Token)
			if ts, err := c.Tokens(cmd.Context()); err == nil {
				for _, t := range ts {
					if strings.HasPrefix(cc.Token, t.Prefix) {
						_ = c.RevokeToken(cmd.Context(), t.ID)
					}
				}
			}
			if _, err := saveClientConfig(clientConfig{Server: cc.Server}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "logged out of %s\n", cc.Server)
			return nil
		},
	}
}

func tokenCmd() *cobra.Command {
	cmd := group("token", "Manage your API tokens")

	var cr remote
	var name, scope, expires string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token; the secret is printed once",
		Example: "  trellis token create --name ci --scope read --expires 90d\n" +
			"  export MLFLOW_TRACKING_TOKEN=$(trellis token create --name training --json | jq -r .secret)",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cr.client()
			if err != nil {
				return err
			}
			out, err := c.CreateToken(cmd.Context(), name, auth.Scope(scope), expires)
			if err != nil {
				return err
			}
			if cr.asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.Secret)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %q (%s, expires %s); this is the only time the secret is shown\n", out.Token.Name, out.Token.Scope, when(out.Token.ExpiresAt))
			return nil
		},
	}
	cr.flags(create, true)
	create.Flags().StringVar(&name, "name", "", "token name (required)")
	create.Flags().StringVar(&scope, "scope", "write", "read or write")
	create.Flags().StringVar(&expires, "expires", "90d", "lifetime: 90d, 12h or never")

	var lr remote
	list := &cobra.Command{
		Use:     "list",
		Short:   "List your API tokens with their last use",
		Example: "  trellis token list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lr.client()
			if err != nil {
				return err
			}
			ts, err := c.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			if lr.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"tokens": ts})
			}
			rows := make([][]string, 0, len(ts))
			for _, t := range ts {
				rows = append(rows, []string{t.ID, t.Name, string(t.Scope), t.Prefix + "…", when(t.CreatedAt), when(t.ExpiresAt), when(t.LastUsedAt)})
			}
			return table(cmd.OutOrStdout(), "ID\tNAME\tSCOPE\tPREFIX\tCREATED\tEXPIRES\tLAST USED", rows)
		},
	}
	lr.flags(list, true)

	var rr remote
	revoke := &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke one of your tokens",
		Example: "  trellis token revoke 0190f3c2-...",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := rr.client()
			if err != nil {
				return err
			}
			if err := c.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "revoked", args[0])
			return nil
		},
	}
	rr.flags(revoke, false)
	cmd.AddCommand(create, list, revoke)
	return cmd
}
