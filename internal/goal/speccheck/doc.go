// Package speccheck is the offline spec engine: it parses Gherkin feature
// files with the Cucumber parser and binds their steps to Trellis's step
// vocabulary, loads labels and predictions from CSV and JSON Lines files,
// computes metrics from them (confusion matrix, regression errors), checks
// every scenario's Then steps against their thresholds and reports the
// outcome as text, JSON or JUnit XML.
//
// It is a package of its own, apart from the stored goals and specs of
// package goal, because more than the server runs it: the CLI (trellis spec
// check) runs it offline on local files, and the model registry's
// production gate runs the same checks. So it imports no capability; for
// run-based steps it asks a RunSource its caller provides, and it never
// opens the store or serves HTTP.
package speccheck
