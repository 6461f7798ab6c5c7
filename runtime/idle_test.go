package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
)

// TestIdleInputExcluded: two unbounded inputs are merged; one never sends.
// With idleness on, the silent input is excluded from the watermark, so
// event-time timers fire from the active input's watermark alone. Without
// idleness they cannot fire until the silent input ends.
func TestIdleInputExcluded(t *testing.T) {
	for _, idle := range []bool{true, false} {
		silent, active := make(chan ev), make(chan ev, 100)
		job := stream.NewJob("idle")
		ws := timeapi.BoundedOutOfOrder(evTime, 0)
		if idle {
			ws = ws.WithIdleness(20 * time.Millisecond)
		}
		a := stream.FromChannel(job, "silent", silent).WithWatermarks(ws)
		b := stream.FromChannel(job, "active", active).WithWatermarks(ws)
		out := testkit.Collect(a.Union(b).
			KeyBy(func(e ev) int64 { return e.Key }).
			Process(stream.ProcessFuncs[int64, ev, int64]{
				Element: func(ctx *stream.Context[int64, int64], e ev) error {
					ctx.RegisterEventTimeTimer(ctx.Timestamp())
					return nil
				},
				Timer: func(ctx *stream.Context[int64, int64], tm stream.Timer) error {
					ctx.Emit(tm.Time.UnixMilli())
					return nil
				},
			}))
		done := make(chan error, 1)
		go func() { done <- runtime.Run(context.Background(), job, runtime.Parallelism(2)) }()
		for i := range 50 {
			active <- ev{Key: int64(i % 3), Time: int64(1000 + i)}
		}
		fired := waitFor(func() bool { return out.Len() > 0 }, time.Second)
		if fired != idle {
			t.Errorf("idleness=%v: timers fired before the silent input ended: %v", idle, fired)
		}
		close(active)
		close(silent)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if out.Len() != 50 {
			t.Fatalf("idleness=%v: %d timers fired in all, want 50", idle, out.Len())
		}
	}
}

func waitFor(cond func() bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}

// TestProcessingTimeTimers: a processing-time timer fires on the system
// clock while the input stays open.
func TestProcessingTimeTimers(t *testing.T) {
	for _, p := range []int{1, 2} {
		in := make(chan int64, 10)
		job := stream.NewJob("ptime")
		out := testkit.Collect(stream.FromChannel(job, "in", in).
			KeyBy(func(i int64) int64 { return i }).
			Process(stream.ProcessFuncs[int64, int64, string]{
				Element: func(ctx *stream.Context[int64, string], v int64) error {
					ctx.RegisterProcessingTimeTimer(ctx.ProcessingTime().Add(30 * time.Millisecond))
					return nil
				},
				Timer: func(ctx *stream.Context[int64, string], tm stream.Timer) error {
					if tm.Domain != stream.ProcessingTime {
						t.Errorf("timer domain %v", tm.Domain)
					}
					ctx.Emit("fired")
					return nil
				},
			}))
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- runtime.Run(context.Background(), job, runtime.Parallelism(p)) }()
		in <- 1
		in <- 2
		if !waitFor(func() bool { return out.Len() == 2 }, 3*time.Second) {
			t.Fatalf("p=%d: processing-time timers did not fire (%d)", p, out.Len())
		}
		if d := time.Since(start); d < 30*time.Millisecond {
			t.Fatalf("timers fired after %v, before their time", d)
		}
		close(in)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
