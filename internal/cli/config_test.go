package cli_test

import (
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/cli"
)

// TestConfigAllowArtifactLocation checks that --allow-artifact-location is
// validated and shown by trellis config. internal/mlflowapi's
// TestArtifactLocationRule checks the rule it sets.
func TestConfigAllowArtifactLocation(t *testing.T) {
	t.Setenv("TRELLIS_ALLOW_ARTIFACT_LOCATION", "s3://team/mlflow/, file:///mnt/shared")
	if code, out, _ := runCLI(t, "", "config"); code != 0 || !strings.Contains(out, "allow-artifact-location") || !strings.Contains(out, "s3://team/mlflow/,file:///mnt/shared") {
		t.Fatalf("config: %d %s", code, out)
	}
	if code, _, errOut := runCLI(t, "", "config", "--allow-artifact-location", "mlflow-artifacts:/1"); code != cli.ExitUsage || !strings.Contains(errOut, "manages itself") {
		t.Fatalf("bad prefix: %d %s", code, errOut)
	}
}

// TestConfigTrustedProxy checks that --trusted-proxy takes CIDRs and bare
// addresses, refuses anything else, and defaults to none.
// internal/server's TestTrustedProxy checks what it does.
func TestConfigTrustedProxy(t *testing.T) {
	t.Setenv("TRELLIS_TRUSTED_PROXY", "")
	if code, out, _ := runCLI(t, "", "config"); code != 0 || !strings.Contains(out, "trusted-proxy           (none") {
		t.Fatalf("config: %d %s", code, out)
	}
	t.Setenv("TRELLIS_TRUSTED_PROXY", "10.0.0.0/8, 192.0.2.7")
	if code, out, _ := runCLI(t, "", "config"); code != 0 || !strings.Contains(out, "10.0.0.0/8,192.0.2.7") {
		t.Fatalf("config: %d %s", code, out)
	}
	if code, _, errOut := runCLI(t, "", "config", "--trusted-proxy", "proxy.example.com"); code != cli.ExitUsage || !strings.Contains(errOut, "--trusted-proxy") {
		t.Fatalf("bad proxy: %d %s", code, errOut)
	}
}
