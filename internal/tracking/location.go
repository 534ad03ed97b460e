package tracking

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

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

// maxUnescape bounds how many layers of %-escapes a location may carry
// (%252e is two); a deeper one is refused rather than guessed at.
const maxUnescape = 4

// location is an artifact location taken apart: the scheme in lower case,
// the authority exactly as written (an S3 bucket, a host) and the path with
// every layer of %-escapes decoded, without a trailing slash.
type location struct{ scheme, authority, path string }

// parseLocation applies the rules shared by allowed prefixes and chosen
// locations. A location is an absolute, hierarchical URI (scheme://host/path
// or file:/path) with something after the scheme, no server-managed scheme,
// no user info, no query, fragment or ';' parameters, and a path that
// stays the same path however many times a client decodes it: no escaped
// slash or backslash, no '.' or '..' segment (nor one made only of dots
// and spaces, which Windows trims to one), no empty segment but a trailing
// slash, no backslash, control character or invalid UTF-8, escaped or
// not. MLflow's client unescapes file: URIs and drops what follows '?',
// '#' or ';' (CVE-2023-6909, CVE-2024-1560), so each of these could
// otherwise name a folder the allow-list does not cover.
func parseLocation(field, loc string) (location, error) {
	bad := func(why string) (location, error) {
		return location{}, trellis.Invalid(field, "%s %q %s", field, loc, why)
	}
	if len(loc) > MaxArtifactLocation {
		return location{}, trellis.Invalid(field, "%s is longer than %d characters", field, MaxArtifactLocation)
	}
	m := schemeRE.FindStringSubmatch(loc)
	switch {
	case m == nil:
		return bad("must be an absolute URI with a scheme, such as s3://bucket/prefix/")
	case serverSchemes[strings.ToLower(m[1])]:
		return bad("uses the " + m[1] + ": scheme, which this server manages itself")
	case strings.ContainsAny(loc, "?#;"):
		return bad("has a query, fragment or ';' parameters, which a client would cut off the path")
	}
	u, err := url.Parse(loc)
	switch {
	case err != nil && strings.Contains(err.Error(), "control character"):
		return bad("contains a control character")
	case err != nil:
		return bad("is not a valid URI")
	case u.Opaque != "":
		return bad("must be hierarchical, such as s3://bucket/prefix/ or file:///path/")
	case u.User != nil:
		return bad("must not carry user information (user@host)")
	}
	authority := ""
	if rest := loc[len(m[0]):]; strings.HasPrefix(rest, "//") {
		authority, _, _ = strings.Cut(rest[2:], "/")
	}
	if strings.Contains(authority, "%") {
		return bad("has a %-escape in its host or bucket")
	}
	p := u.EscapedPath()
	for layer := 0; ; layer++ {
		if why := checkLocationPath(p); why != "" {
			return bad(why)
		}
		if !strings.Contains(p, "%") {
			break
		}
		if layer == maxUnescape {
			return bad("is %-escaped too many times over")
		}
		if p, err = url.PathUnescape(p); err != nil {
			return bad("has a malformed %-escape")
		}
	}
	p = strings.TrimSuffix(p, "/")
	if authority == "" && p == "" {
		return bad("names only a scheme; give a bucket, host or directory")
	}
	return location{scheme: u.Scheme, authority: authority, path: p}, nil
}

// checkLocationPath returns why one decoding layer of a location's path is
// refused, or "".
func checkLocationPath(p string) string {
	switch lower := strings.ToLower(p); {
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "contains a control character"
	case !utf8.ValidString(p):
		return "is not valid UTF-8 once decoded"
	case strings.ContainsAny(p, "\\?#;"):
		return "contains a backslash, or an escaped query, fragment or ';'"
	case strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c"):
		return "contains an escaped slash or backslash"
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, seg := range segs {
		switch {
		case seg == "" && i < len(segs)-1:
			return "contains an empty segment (//)"
		case seg != "" && strings.Trim(seg, ". ") == "" && strings.Contains(seg, "."):
			return "contains a '.' or '..' segment (escaped or not)"
		}
	}
	return ""
}

// CheckArtifactLocationPrefix validates an operator's allowed
// artifact_location prefix. Errors: EINVALID.
func CheckArtifactLocationPrefix(prefix string) error {
	_, err := parseLocation("allow-artifact-location", prefix)
	return err
}

// under reports whether loc is prefix itself or below it, on a segment
// boundary: the prefix "s3://team" allows "s3://team/x" but not
// "s3://team-other", "s3://TEAM/x" or "s3://u@team/x".
func (loc location) under(prefix location) bool {
	return loc.scheme == prefix.scheme && loc.authority == prefix.authority &&
		(loc.path == prefix.path || strings.HasPrefix(loc.path, prefix.path+"/"))
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
	l, err := parseLocation("artifact_location", loc)
	if err != nil {
		return err
	}
	for _, p := range s.artifactPrefixes {
		if pl, err := parseLocation("allow-artifact-location", p); err == nil && l.under(pl) {
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
