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
