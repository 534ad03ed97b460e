package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/tracking"
	"github.com/trellisml/trellis/internal/trellis"
)

// Config is the server and admin configuration. It is loaded once —
// flags over TRELLIS_* environment variables over defaults — validated, and
// passed explicitly.
type Config struct {
	Addr      string `json:"addr"`
	DataDir   string `json:"data_dir"`
	DB        string `json:"db"`
	Artifacts string `json:"artifacts"`
	BaseURL   string `json:"base_url"`
	LogFormat string `json:"log_format"`
	SyncFull  bool   `json:"sync_full"`
	// AllowArtifactLocation lists the URI prefixes a client may point a
	// tracking experiment's artifact_location at; empty denies every one,
	// so by default all artifacts go through this server's store.
	AllowArtifactLocation []string `json:"allow_artifact_location"`
	// TrustedProxies lists the CIDRs of reverse proxies whose
	// X-Forwarded-For names the client; by default none, and the client is
	// the connection's peer (otherwise a client could claim any address
	// and escape the sign-in throttle).
	TrustedProxies []string `json:"trusted_proxies"`

	trustedProxies []netip.Prefix // TrustedProxies parsed by resolve
}

// storeFlags registers the flags every command that opens the store takes.
func (c *Config) storeFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.DataDir, "data-dir", envOr("TRELLIS_DATA_DIR", "./trellis-data"), "directory for the SQLite database and artifacts (env TRELLIS_DATA_DIR)")
	f.StringVar(&c.DB, "db", env("TRELLIS_DB"), "SQLite file path, postgres:// URL or libpq key=value string (env TRELLIS_DB; default DATA_DIR/trellis.db)")
	f.BoolVar(&c.SyncFull, "sync-full", env("TRELLIS_SYNC_FULL") == "1", "SQLite synchronous=FULL: survive power loss at the cost of an fsync per commit (env TRELLIS_SYNC_FULL=1)")
}

// serveFlags registers the flags of trellis serve.
func (c *Config) serveFlags(cmd *cobra.Command) {
	c.storeFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&c.Addr, "addr", envOr("TRELLIS_ADDR", "127.0.0.1:8420"), "listen address (env TRELLIS_ADDR)")
	f.StringVar(&c.Artifacts, "artifacts", env("TRELLIS_ARTIFACTS"), "artifact storage: a directory, or s3://bucket/prefix (env TRELLIS_ARTIFACTS; default DATA_DIR/artifacts)")
	f.StringVar(&c.BaseURL, "base-url", env("TRELLIS_BASE_URL"), "external URL of this server, for links and the setup URL (env TRELLIS_BASE_URL; default http://ADDR)")
	f.StringVar(&c.LogFormat, "log-format", envOr("TRELLIS_LOG_FORMAT", "text"), "log format: text or json (env TRELLIS_LOG_FORMAT)")
	f.StringSliceVar(&c.AllowArtifactLocation, "allow-artifact-location", splitList(env("TRELLIS_ALLOW_ARTIFACT_LOCATION")),
		"URI prefixes, comma-separated, that MLflow clients may set as a tracking experiment's artifact_location, e.g. s3://team-bucket/mlflow/ (env TRELLIS_ALLOW_ARTIFACT_LOCATION; default none: artifacts always go through this server)")
	f.StringSliceVar(&c.TrustedProxies, "trusted-proxy", splitList(env("TRELLIS_TRUSTED_PROXY")),
		"CIDRs, comma-separated, of reverse proxies whose X-Forwarded-For header names the client, e.g. 10.0.0.0/8 (env TRELLIS_TRUSTED_PROXY; default none: the client is the connection's peer)")
}

// splitList splits a comma-separated environment value, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// resolve fills derived defaults and validates.
func (c *Config) resolve() error {
	if c.DataDir == "" {
		return usagef("--data-dir must not be empty")
	}
	if c.DB == "" {
		c.DB = filepath.Join(c.DataDir, "trellis.db")
	}
	if c.Artifacts == "" {
		c.Artifacts = filepath.Join(c.DataDir, "artifacts")
	}
	if c.LogFormat != "" && c.LogFormat != "text" && c.LogFormat != "json" {
		return usagef("--log-format must be text or json, not %q", c.LogFormat)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--base-url must be an absolute http(s) URL, not %q", c.BaseURL)
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	for _, p := range c.AllowArtifactLocation {
		if err := tracking.CheckArtifactLocationPrefix(p); err != nil {
			return usagef("--allow-artifact-location: %s", trellis.ErrorMessage(err))
		}
	}
	c.trustedProxies = nil
	for _, v := range c.TrustedProxies {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return usagef("--trusted-proxy must list CIDRs such as 10.0.0.0/8 or addresses, not %q", v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.trustedProxies = append(c.trustedProxies, p.Masked())
	}
	return nil
}

// redacted returns the config safe to print: database passwords hidden.
func (c Config) redacted() Config {
	c.DB = store.RedactDSN(c.DB)
	if strings.HasPrefix(c.Artifacts, "s3://") {
		if u, err := url.Parse(c.Artifacts); err == nil {
			c.Artifacts = u.Redacted()
		}
	}
	return c
}

func (c *Config) logger(w io.Writer) *slog.Logger {
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func configCmd() *cobra.Command {
	var c Config
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "config",
		Short:   "Print the effective server configuration (secrets redacted)",
		Example: "  TRELLIS_DB=postgres://trellis:secret@db/trellis trellis config",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.resolve(); err != nil {
				return err
			}
			r := c.redacted()
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			w := cmd.OutOrStdout()
			allow := strings.Join(r.AllowArtifactLocation, ",")
			if allow == "" {
				allow = "(none: artifacts only through this server)"
			}
			proxies := strings.Join(r.TrustedProxies, ",")
			if proxies == "" {
				proxies = "(none: the client is the connection's peer)"
			}
			for _, kv := range [][2]string{{"addr", r.Addr}, {"data-dir", r.DataDir}, {"db", r.DB}, {"artifacts", r.Artifacts},
				{"base-url", r.BaseURL}, {"log-format", r.LogFormat}, {"sync-full", fmt.Sprint(r.SyncFull)}, {"allow-artifact-location", allow},
				{"trusted-proxy", proxies}} {
				fmt.Fprintf(w, "%-23s %s\n", kv[0], kv[1])
			}
			return nil
		},
	}
	c.serveFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
