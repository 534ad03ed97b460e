// Package layering holds the test that keeps the import direction of
// ARCHITECTURE.md true: cli wires, surfaces serve, capabilities hold the
// rules, the store keeps the data, and no arrow points back up. It has no
// code of its own; its test reads the import graph with `go list`.
package layering
