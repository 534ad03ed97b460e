package cli_test

import "flag"

// update rewrites the golden files under testdata/ instead of comparing:
// go test ./internal/cli -run TestSpecCheckGolden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")
