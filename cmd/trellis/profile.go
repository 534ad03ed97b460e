//go:build profile

package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// With -tags profile, TRELLIS_CPUPROFILE=FILE writes a CPU profile of the
// whole process to FILE until it exits (SIGTERM stops serve gracefully), so
// the server can be profiled under bench/tracking without any HTTP
// endpoint. Release builds do not contain this file.
func init() {
	path := os.Getenv("TRELLIS_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "trellis: cpu profile:", err)
		return
	}
	stopProfile = func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
