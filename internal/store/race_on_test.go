//go:build race

package store_test

// raceEnabled shrinks the random store tests under the race detector, which
// slows the transpiled SQLite about tenfold; the plain run keeps their size.
const raceEnabled = true
