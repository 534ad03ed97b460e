package tracking

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzArtifactLocation checks the operator's artifact_location rule on any
// input: an accepted location is an allowed prefix or lies below one on a
// path boundary, and has no '.' or '..' segment, backslash or control
// character.
func FuzzArtifactLocation(f *testing.F) {
	for _, s := range []string{"s3://team/mlflow/x", "s3://team/mlflow", "s3://team/mlflow-other", "s3://team/mlflow/../x",
		"file:///mnt/shared/a", "file:///mnt/sharedx", "mlflow-artifacts:/1", "runs:/a/b", "", "s3://team/mlflow/./x", "s3://team/mlflow/x\\y", "file:///mnt/shared/%2e%2e/etc", "file:///mnt/shared/a%2fb", "s3://team/mlflow/%zz"} {
		f.Add(s)
	}
	prefixes := []string{"s3://team/mlflow", "file:///mnt/shared/"}
	s := &Service{}
	s.AllowArtifactLocations(prefixes)
	f.Fuzz(func(t *testing.T, loc string) {
		if s.checkArtifactLocation(loc) != nil || loc == "" {
			return
		}
		ok := false
		for _, p := range prefixes {
			rest, found := strings.CutPrefix(loc, strings.TrimSuffix(p, "/"))
			ok = ok || found && (rest == "" || strings.HasPrefix(rest, "/"))
		}
		if !ok {
			t.Fatalf("accepted %q outside the allowed prefixes", loc)
		}
		for _, seg := range strings.Split(loc, "/") {
			dec, err := url.PathUnescape(seg)
			if err != nil || seg == ".." || seg == "." || dec == ".." || dec == "." || strings.ContainsAny(dec, "/\\") {
				t.Fatalf("accepted %q with a dot segment or escaped slash", loc)
			}
		}
		if strings.ContainsAny(loc, "\\\x00\r\n\t") {
			t.Fatalf("accepted %q with a backslash or control character", loc)
		}
	})
}
