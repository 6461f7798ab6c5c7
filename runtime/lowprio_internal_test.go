package runtime

import (
	"context"
	goruntime "runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/stream"
)

// TestCheckpointWriterLowPriority: a threaded run with checkpoints and
// LowPriorityIO(true) puts the checkpoint writer's thread at the lowest
// priority, once, from the writer goroutine (the one that persists the
// snapshots); by default and with LowPriorityIO(false) it does not.
func TestCheckpointWriterLowPriority(t *testing.T) {
	prev := background
	defer func() { background = prev }()
	for _, c := range []struct {
		name string
		opts []Option
		on   bool
	}{
		{"on", []Option{LowPriorityIO(true)}, true},
		{"off", []Option{LowPriorityIO(false)}, false},
		{"default", nil, false},
	} {
		var calls atomic.Int32
		var onWriter atomic.Bool // background ran on the writer goroutine
		background = func() error {
			calls.Add(1)
			buf := make([]byte, 8<<10)
			stack := string(buf[:goruntime.Stack(buf, false)])
			onWriter.Store(strings.Contains(stack, "created by github.com/weirstream/weir/runtime.(*checkpointer).start"))
			return prev()
		}
		job := stream.NewJob("lowprio")
		stream.FromGenerator(job, "gen", 5000, func(i int64) int64 { return i }).
			KeyBy(func(v int64) int64 { return v % 7 }).
			Reduce(func(a, b int64) int64 { return a + b }).
			SinkTo(operators.Discard[int64]())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := Run(ctx, job, append([]Option{Parallelism(2), Checkpointing(t.TempDir(), 0)}, c.opts...)...)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := int32(0)
		if c.on {
			want = 1
		}
		if n := calls.Load(); n != want {
			t.Fatalf("%s: background called %d times, want %d", c.name, n, want)
		}
		if c.on && !onWriter.Load() {
			t.Errorf("background ran on a goroutine other than the checkpoint writer")
		}
	}
}
