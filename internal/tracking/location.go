package tracking

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/trellis"
)

// ExperimentArtifactLocation returns where an experiment's artifacts live.
func ExperimentArtifactLocation(e *Experiment) string {
	if e.ArtifactLocation != "" {
		return e.ArtifactLocation
	}
	return "mlflow-artifacts:/" + strconv.FormatInt(e.ID, 10)
}

// MaxArtifactLocation bounds a client-chosen artifact_location.
const MaxArtifactLocation = 2048

// serverSchemes are the artifact URI schemes the server itself manages or
// resolves; a client may never choose them, nor may an operator allow them,
// because they would reach into other experiments' artifacts.
var serverSchemes = map[string]bool{"mlflow-artifacts": true, "runs": true, "models": true}

var schemeRE = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.\-]*):`)

// checkLocationURI applies the rules shared by allowed prefixes and chosen
// locations: an absolute URI with a scheme and something after it, no
// server-managed scheme, no '.' or '..' segment (escaped or not), no
// escaped slash, no backslash or control character.
func checkLocationURI(field, loc string) error {
	m := schemeRE.FindStringSubmatch(loc)
	switch {
	case len(loc) > MaxArtifactLocation:
		return trellis.Invalid(field, "%s is longer than %d characters", field, MaxArtifactLocation)
	case m == nil:
		return trellis.Invalid(field, "%s %q must be an absolute URI with a scheme, such as s3://bucket/prefix/", field, loc)
	case serverSchemes[strings.ToLower(m[1])]:
		return trellis.Invalid(field, "%s %q uses the %s: scheme, which this server manages itself", field, loc, m[1])
	case strings.Trim(loc[len(m[0]):], "/") == "":
		return trellis.Invalid(field, "%s %q names only a scheme; give a bucket, host or directory", field, loc)
	case strings.ContainsAny(loc, "\\\x00\r\n\t"):
		return trellis.Invalid(field, "%s %q contains a backslash or a control character", field, loc)
	}
	// Segments are checked decoded too: MLflow's client unescapes file:
	// URIs, so %2e%2e would climb out as surely as "..".
	for _, seg := range strings.Split(loc[len(m[0]):], "/") {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return trellis.Invalid(field, "%s %q has a malformed %%-escape", field, loc)
		}
		if seg == ".." || seg == "." || dec == ".." || dec == "." || strings.ContainsAny(dec, "/\\\x00") {
			return trellis.Invalid(field, "%s %q contains a '.' or '..' segment, or an escaped slash", field, loc)
		}
	}
	return nil
}

// CheckArtifactLocationPrefix validates an operator's allowed
// artifact_location prefix. Errors: EINVALID.
func CheckArtifactLocationPrefix(prefix string) error {
	return checkLocationURI("allow-artifact-location", prefix)
}

// underPrefix reports whether loc is prefix itself or below it: the
// prefix "s3://team" allows "s3://team/x" but not "s3://team-other".
func underPrefix(loc, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(loc, prefix) || loc == strings.TrimSuffix(prefix, "/")
	}
	return loc == prefix || strings.HasPrefix(loc, prefix+"/")
}

// checkArtifactLocation applies the operator's rule to a client-chosen
// artifact_location ("" is always fine: the server's own store).
func (s *Service) checkArtifactLocation(loc string) error {
	if loc == "" {
		return nil
	}
	if len(s.artifactPrefixes) == 0 {
		return trellis.Invalid("artifact_location", "artifact_location %q is not allowed: this server keeps artifacts itself and its operator allows no client-chosen location (trellis serve --allow-artifact-location PREFIX). Leave artifact_location empty.", loc)
	}
	if err := checkLocationURI("artifact_location", loc); err != nil {
		return err
	}
	for _, p := range s.artifactPrefixes {
		if underPrefix(loc, p) {
			return nil
		}
	}
	return trellis.Invalid("artifact_location", "artifact_location %q is not under a prefix the operator allows (%s); leave it empty to keep artifacts on this server.", loc, strings.Join(s.artifactPrefixes, ", "))
}

// ArtifactBlobPrefix is where the artifact proxy keeps what an
// mlflow-artifacts:/ URI names: "mlflow-artifacts:/1/<run>/artifacts/x"
// is the blob key "mlflow/1/<run>/artifacts/x".
const ArtifactBlobPrefix = "mlflow/"

// RunArtifactRoot returns the blob key under which a run's artifacts live,
// and false when the run keeps them outside this server's store. The key
// comes from the run record, never from a request, so a caller joining a
// cleaned relative path to it stays inside that run's artifacts.
func RunArtifactRoot(r *Run) (string, bool) {
	rest, ok := strings.CutPrefix(r.Info.ArtifactURI, "mlflow-artifacts:/")
	if !ok || rest == "" || strings.Contains(rest, "..") {
		return "", false
	}
	return ArtifactBlobPrefix + strings.Trim(rest, "/"), true
}
