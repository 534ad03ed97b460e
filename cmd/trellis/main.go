// Command trellis is the Trellis server, admin tool and CLI client in one
// binary; see internal/cli for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/trellisml/trellis/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	stopProfile()
	os.Exit(code)
}

// stopProfile ends a CPU profile started by a build with -tags profile
// (profile.go); otherwise it does nothing.
var stopProfile = func() {}
