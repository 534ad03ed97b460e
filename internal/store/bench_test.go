package store_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/storetest"
	"github.com/trellisml/trellis/internal/tracking"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU resets the timer and reports the process's CPU time per op when
// the benchmark ends: on a machine shared with other work, wall time per op
// moves with the load and CPU time much less. (On PostgreSQL the server's
// own CPU is not included.)
func reportCPU(b *testing.B) {
	b.ResetTimer()
	start := cpuTime()
	b.Cleanup(func() {
		b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
}

func benchBackends(b *testing.B, fn func(b *testing.B, db *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, OpenSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, OpenPostgres(b)) })
}

func benchFixture(b testing.TB, db *store.DB) (context.Context, *tracking.Service, *project.Project) {
	b.Helper()
	ctx := context.Background()
	as := auth.NewService(db, storetest.FastHash)
	u, err := as.CreateUser(ctx, auth.NewUser{Name: "bench", Password: "a long enough bench password"})
	if err != nil {
		b.Fatal(err)
	}
	ctx = storetest.As(ctx, u)
	p, err := project.NewService(db, as).CreateProject(ctx, project.NewProject{Key: "BEN", Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	return ctx, tracking.NewService(db), p
}
