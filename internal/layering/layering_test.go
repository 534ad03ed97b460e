package layering

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/trellisml/trellis/"

// layer is a rank in ARCHITECTURE.md's import direction: a package may
// import packages of the layers its layer lists, and nothing else of ours.
type layer struct {
	name     string
	packages []string
	may      []string // layers this layer may import
}

// layers is ARCHITECTURE.md's layout. A new package must be placed here
// before it can be imported or import anything (deny by default).
var layers = []layer{
	{name: "main", packages: []string{"cmd/trellis"}, may: []string{"wiring"}},
	{name: "wiring", packages: []string{"internal/cli"},
		may: []string{"surface", "route", "capability", "store", "foundation"}},
	{name: "test support", packages: []string{"internal/apptest", "internal/storetest", "internal/servetest", "internal/layering"},
		may: []string{"test support", "wiring", "surface", "route", "capability", "store", "foundation"}},
	{name: "tools", packages: []string{"bench/load", "bench/specdata", "bench/tracking", "e2e", "compat/mlflow-js", "compat/mlflow-python"},
		may: []string{"test support", "foundation"}},
	// Surfaces never import each other, the store or the wiring.
	{name: "surface", packages: []string{"internal/server", "internal/httpapi", "internal/mlflowapi", "internal/web", "internal/client"},
		may: []string{"route", "capability", "foundation"}},
	{name: "route", packages: []string{"internal/route"}, may: []string{"capability", "foundation"}},
	{name: "capability", packages: []string{"internal/auth", "internal/project", "internal/work", "internal/tracking",
		"internal/goal", "internal/goal/speccheck"}, may: []string{"capability", "foundation"}},
	// The store implements every capability's Store interface.
	{name: "store", packages: []string{"internal/store"}, may: []string{"capability", "foundation"}},
	{name: "foundation", packages: []string{"internal/trellis", "internal/ttlcache", "internal/blob"}, may: []string{"foundation"}},
}

// capabilityDeps are the real dependencies between capabilities, the only
// arrows allowed inside that layer. Reactions the other way (a finished run
// re-checks specs, a decision keeps goal evidence) are typed hooks wired in
// internal/cli. Every capability may import project and auth.
var capabilityDeps = map[string][]string{
	"internal/auth":           {},
	"internal/project":        {"internal/auth"},
	"internal/work":           {"internal/project", "internal/auth"},
	"internal/tracking":       {"internal/project", "internal/auth"},
	"internal/goal":           {"internal/tracking", "internal/project", "internal/auth", "internal/goal/speccheck"},
	"internal/goal/speccheck": {},
}

// foundationDeps are the arrows inside the foundation: trellis (the error
// type) imports nothing of ours.
var foundationDeps = map[string][]string{
	"internal/trellis":  {},
	"internal/ttlcache": {},
	"internal/blob":     {"internal/trellis"},
}

// violations lists every import in graph (package → its imports, module-
// relative) that the layering forbids.
func violations(graph map[string][]string) []string {
	layerOf := map[string]*layer{}
	for i := range layers {
		for _, p := range layers[i].packages {
			layerOf[p] = &layers[i]
		}
	}
	var out []string
	for pkg, imports := range graph {
		from := layerOf[pkg]
		if from == nil {
			out = append(out, pkg+": not placed in a layer (add it to a layer in internal/layering and to the map in docs/DEVELOPMENT.md)")
			continue
		}
		for _, imp := range imports {
			to := layerOf[imp]
			switch {
			case to == nil:
				out = append(out, pkg+" → "+imp+": "+imp+" is not placed in a layer")
			case !slices.Contains(from.may, to.name):
				out = append(out, pkg+" → "+imp+": the "+from.name+" layer may not import the "+to.name+" layer")
			case from.name == "capability" && to.name == "capability" && !slices.Contains(capabilityDeps[pkg], imp):
				out = append(out, pkg+" → "+imp+": not a declared capability dependency (capabilityDeps)")
			case from.name == "foundation" && !slices.Contains(foundationDeps[pkg], imp):
				out = append(out, pkg+" → "+imp+": not a declared foundation dependency (foundationDeps)")
			}
		}
	}
	slices.Sort(out)
	return out
}

// importGraph reads the module's packages and their non-test imports of
// our own packages with `go list`.
func importGraph(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"...").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := strings.TrimPrefix(fields[0], module)
		graph[pkg] = nil
		for _, imp := range fields[1:] {
			if rel, ok := strings.CutPrefix(imp, module); ok {
				graph[pkg] = append(graph[pkg], rel)
			}
		}
	}
	return graph
}

// TestImportDirection fails on any import that goes against the layering.
func TestImportDirection(t *testing.T) {
	graph := importGraph(t)
	if len(graph) < 20 {
		t.Fatalf("go list found only %d packages: %v", len(graph), graph)
	}
	for _, v := range violations(graph) {
		t.Error(v)
	}
}

// TestViolationsFindsForbiddenArrows keeps the checker honest: each
// forbidden arrow of a small graph is reported, the allowed ones are not.
func TestViolationsFindsForbiddenArrows(t *testing.T) {
	graph := map[string][]string{
		"internal/tracking":  {"internal/project", "internal/goal"}, // backwards between capabilities
		"internal/goal":      {"internal/tracking"},
		"internal/httpapi":   {"internal/web", "internal/work"}, // surface → surface
		"internal/work":      {"internal/store"},                // capability → store
		"internal/trellis":   {"internal/ttlcache"},             // foundation arrow not declared
		"internal/cli":       {"internal/store", "internal/web"},
		"internal/newthing":  {},
		"internal/mlflowapi": {"internal/unplaced"},
	}
	want := []string{
		"internal/httpapi → internal/web: the surface layer may not import the surface layer",
		"internal/mlflowapi → internal/unplaced: internal/unplaced is not placed in a layer",
		"internal/newthing: not placed in a layer (add it to a layer in internal/layering and to the map in docs/DEVELOPMENT.md)",
		"internal/tracking → internal/goal: not a declared capability dependency (capabilityDeps)",
		"internal/trellis → internal/ttlcache: not a declared foundation dependency (foundationDeps)",
		"internal/work → internal/store: the capability layer may not import the store layer",
	}
	if got := violations(graph); !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
