package tracking

import (
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

// testPrefixes are the operator's allowed prefixes of the tests below, as
// in --allow-artifact-location file:///srv/allowed/,s3://team/ml.
var testPrefixes = []string{"file:///srv/allowed/", "s3://team/ml"}

// locationForms are the artifact locations the outside probe and MLflow's
// published CVEs (CVE-2023-6909, CVE-2024-1560: a query, fragment or
// escaped dot segment that the server's check let through and the client
// resolved to a parent directory) tried against the allow-list, and
// whether each must be accepted.
var locationForms = []struct {
	loc string
	ok  bool
}{
	{"file:///srv/allowed/x", true},
	{"file:///srv/allowed/a/b.c", true},
	{"file:///srv/allowed", true},
	{"file:///srv/allowed/", true},
	{"file:/srv/allowed/x", true},
	{"FILE:///srv/allowed/x", true},
	{"file:///srv/allowed/a%20b", true},
	{"file:///srv/allowed/.hidden", true},
	{"file:///srv/allowed/x.", true},
	{"s3://team/ml", true},
	{"s3://team/ml/", true},
	{"s3://team/ml/exp-1/v1.2", true},
	{"S3://team/ml/x", true},

	{"file:///srv/allowed/..", false},
	{"file:///srv/allowed/../x", false},
	{"file:///srv/allowed/.", false},
	{"file:///srv/allowed/./x", false},
	{"file:///srv/allowed/..?a", false},
	{"file:///srv/allowed/..#a", false},
	{"file:///srv/allowed/%2e%2e?a", false},
	{"file:///srv/allowed/%2e%2e#a", false},
	{"file:///srv/allowed/%2e%2e", false},
	{"file:///srv/allowed/%2E%2E/x", false},
	{"file:///srv/allowed/%2e./x", false},
	{"file:///srv/allowed/.%2e/x", false},
	{"file:///srv/allowed/%2e", false},
	{"file:///srv/allowed/%252e%252e/x", false},
	{"file:///srv/allowed/%252e%252e?a", false},
	{"file:///srv/allowed/%25252e%25252e/x", false},
	{"file:///srv/allowed/x%2f..%2f..", false},
	{"file:///srv/allowed/x%2F..", false},
	{"file:///srv/allowed/x%252f..%252f..", false},
	{"file:///srv/allowed/x%5c..%5c..", false},
	{"file:///srv/allowed/x%255c..", false},
	{`file:///srv/allowed/x\..\..`, false},
	{`file:///srv/allowed\..`, false},
	{"file:///srv/allowed/x?y", false},
	{"file:///srv/allowed/x#y", false},
	{"file:///srv/allowed/x;y", false},
	{"file:///srv/allowed/..;a", false},
	{"file:///srv/allowed/x%3f/..", false},
	{"file:///srv/allowed/..%3fa", false},
	{"file:///srv/allowed/..%23a", false},
	{"file:///srv/allowed/...", false},
	{"file:///srv/allowed/.. ", false},
	{"file:///srv/allowed/..%20", false},
	{"file:///srv/allowed/. ./x", false},
	{"file:///srv/allowed/..%00", false},
	{"file:///srv/allowed/x%00", false},
	{"file:///srv/allowed/x%0a", false},
	{"file:///srv/allowed/x\x00", false},
	{"file:///srv/allowed/x\n", false},
	{"file:///srv/allowed/x\t", false},
	{"file:///srv/allowed/%c0%ae%c0%ae/x", false},
	{"file:///srv/allowed/%zz", false},
	{"file:///srv/allowed/x%25", false},
	{"file:///srv/allowed//x", false},
	{"file:///srv/allowedx", false},
	{"file:///srv/allowed-other/x", false},
	{"file:///srv/", false},
	{"file:///srv", false},
	{"file:///", false},
	{"file://evil/srv/allowed/x", false},
	{"file://localhost/srv/allowed/x", false},
	{"file://user@/srv/allowed/x", false},
	{"file:srv/allowed/x", false},
	{"//srv/allowed/x", false},
	{"/srv/allowed/x", false},
	{"s3://team/ml/..?a", false},
	{"s3://team/ml/..#a", false},
	{"s3://team/ml/../x", false},
	{"s3://team/ml/%2e%2e/x", false},
	{"s3://team/ml/%252e%252e?a", false},
	{"s3://team/ml/x?versionId=1", false},
	{"s3://team/ml#x", false},
	{"s3://team/mlx", false},
	{"s3://team/ml-other", false},
	{"s3://team//ml/x", false},
	{"s3://Team/ml/x", false},
	{"s3://TEAM/ml/x", false},
	{"s3://team.evil/ml/x", false},
	{"s3://evil@team/ml/x", false},
	{"s3://team@evil/ml/x", false},
	{"s3://team:443/ml/x", false},
	{"s3://te%61m/ml/x", false},
	{"s3://other/ml/x", false},
	{"s3:team/ml", false},
	{"s3://", false},
	{"http://team/ml/x", false},
	{"mlflow-artifacts:/1", false},
	{"MLFLOW-ARTIFACTS:/1/x", false},
	{"runs:/abc/x", false},
	{"models:/m/1", false},
	{"file:///srv/allowed/" + strings.Repeat("a", MaxArtifactLocation), false},
}

// TestArtifactLocationForms checks every form of locationForms against the
// allow-list.
func TestArtifactLocationForms(t *testing.T) {
	s := &Service{}
	s.AllowArtifactLocations(testPrefixes)
	for _, f := range locationForms {
		if err := s.checkArtifactLocation(f.loc); (err == nil) != f.ok {
			t.Errorf("%q: accepted %v, want %v (%v)", f.loc, err == nil, f.ok, err)
		}
	}
	for _, p := range []string{"s3://team/ml?x", "s3://team/ml#x", "s3://u@team/ml", "file:///srv/%2e%2e/", "file:///", "file:srv", "runs:/x"} {
		if CheckArtifactLocationPrefix(p) == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}

// FuzzArtifactLocation checks the allow-list on any input: whatever it
// accepts, resolved as an MLflow client may resolve it (query, fragment and
// parameters split off or kept, backslashes as separators, %-escapes
// decoded until they stop changing, then path.Clean), stays under an
// allowed prefix, and holds no control character.
func FuzzArtifactLocation(f *testing.F) {
	for _, form := range locationForms {
		f.Add(form.loc)
	}
	s := &Service{}
	s.AllowArtifactLocations(testPrefixes)
	f.Fuzz(func(t *testing.T, loc string) {
		if s.checkArtifactLocation(loc) != nil || loc == "" {
			return
		}
		for _, split := range []bool{true, false} {
			scheme, auth, p := resolveLikeClient(loc, split)
			if strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) || !utf8.ValidString(p) {
				t.Fatalf("accepted %q, which holds a control character or invalid UTF-8 once decoded", loc)
			}
			under := false
			for _, pre := range testPrefixes {
				ps, pa, pp := resolveLikeClient(pre, true)
				under = under || scheme == ps && auth == pa && (pp == "/" || p == pp || strings.HasPrefix(p, pp+"/"))
			}
			if !under {
				t.Fatalf("accepted %q, which resolves to %s://%s%s outside %v", loc, scheme, auth, p, testPrefixes)
			}
		}
	})
}

// resolveLikeClient takes a location apart as a client would, written
// apart from the code under test: the lower-case scheme, the authority,
// and the cleaned, fully decoded path; split says whether a query,
// fragment or parameters are cut off first (urllib.parse.urlparse) or
// kept as part of the path (a client joining strings).
func resolveLikeClient(loc string, split bool) (scheme, authority, p string) {
	scheme, rest, _ := strings.Cut(loc, ":")
	if split {
		rest, _, _ = strings.Cut(rest, "#")
		rest, _, _ = strings.Cut(rest, "?")
		rest, _, _ = strings.Cut(rest, ";")
	}
	rest = strings.ReplaceAll(rest, `\`, "/")
	if r, ok := strings.CutPrefix(rest, "//"); ok {
		authority, rest, _ = strings.Cut(r, "/")
	}
	for range 10 {
		d, err := url.PathUnescape(rest)
		if err != nil || d == rest {
			break
		}
		rest = strings.ReplaceAll(d, `\`, "/")
	}
	return strings.ToLower(scheme), authority, path.Clean("/" + rest)
}
