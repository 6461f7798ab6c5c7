package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/timeapi"
)

// Epoch is where the manual clock of Run starts.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Run runs job to completion in the runtime's deterministic step mode (on
// the calling goroutine, parallelism 1 and a manual clock unless opts say
// otherwise) and fails t on error. It gives up after a minute, so an
// unbounded job fails instead of hanging.
func Run(t testing.TB, job runtime.Job, opts ...runtime.Option) {
	t.Helper()
	if err := RunErr(job, opts...); err != nil {
		t.Fatalf("testkit: job failed: %v", err)
	}
}

// RunErr is Run that returns the error instead of failing a test.
func RunErr(job runtime.Job, opts ...runtime.Option) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := []runtime.Option{
		runtime.Parallelism(1),
		runtime.Clock(timeapi.NewManualClock(Epoch)),
		runtime.Pinning(false),
	}
	all := append(append(base, opts...), runtime.Deterministic())
	return runtime.Run(ctx, job, all...)
}
