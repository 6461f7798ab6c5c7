package runtime

import (
	"context"
	goruntime "runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/stream"
)

// sumJob is a job that sums the numbers 0..n-1 by their remainder mod keys
// (keyed state to checkpoint).
func sumJob(name string, n, keys int64) *stream.Job {
	job := stream.NewJob(name)
	stream.FromGenerator(job, "gen", n, func(i int64) int64 { return i }).
		KeyBy(func(v int64) int64 { return v % keys }).
		Reduce(func(a, b int64) int64 { return a + b }).
		SinkTo(operators.Discard[int64]())
	return job
}

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
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := Run(ctx, sumJob("lowprio", 5000, 7), append([]Option{Parallelism(2), Checkpointing(t.TempDir(), 0)}, c.opts...)...)
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

// stackFS records, for every state file (.mem) synced, whether the sync
// ran on the goroutine of an overdue persist's rescuer.
type stackFS struct {
	vfs.FS
	rescued, writer atomic.Int32
}

type stackFile struct {
	vfs.File
	fs *stackFS
}

func (f *stackFS) Create(name string) (vfs.File, error) {
	file, err := f.FS.Create(name)
	if err != nil || !strings.HasSuffix(name, ".mem") {
		return file, err
	}
	return stackFile{file, f}, nil
}

func (f stackFile) Sync() error {
	buf := make([]byte, 16<<10)
	stack := string(buf[:goruntime.Stack(buf, false)])
	switch {
	case strings.Contains(stack, "created by github.com/weirstream/weir/runtime.newRescuer"):
		f.fs.rescued.Add(1)
	case strings.Contains(stack, "created by github.com/weirstream/weir/runtime.(*checkpointer).start"):
		f.fs.writer.Add(1)
	}
	return f.File.Sync()
}

// TestCheckpointWriterRescue: with LowPriorityIO, a persist that is
// overdue (here every one: persistDeadline is the checkpoint's start) is
// finished on a goroutine of its own (the rescuer, on the normal-priority
// threads), counted in Stats.Rescued, and the checkpoints still complete
// and restore; without LowPriorityIO the writer persists everything.
func TestCheckpointWriterRescue(t *testing.T) {
	prevBG, prevDeadline := background, persistDeadline
	defer func() { background, persistDeadline = prevBG, prevDeadline }()
	background = func() error { goruntime.LockOSThread(); return nil } // no nice in a test
	persistDeadline = func(p *pendingCheckpoint, _ time.Duration) time.Time { return p.started }
	for _, on := range []bool{true, false} {
		local, err := vfs.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		fs := &stackFS{FS: local}
		ctl := NewController()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = Run(ctx, sumJob("rescue", 20000, 97), Parallelism(2), CheckpointStorage(fs, time.Millisecond), LowPriorityIO(on), WithController(ctl))
		cancel()
		if err != nil {
			t.Fatalf("LowPriorityIO(%v): %v", on, err)
		}
		st := ctl.Stats()
		rescued, writer := fs.rescued.Load(), fs.writer.Load()
		t.Logf("LowPriorityIO(%v): %d checkpoints, %d persists rescued; state files synced by the rescuer %d, by the writer %d", on, st.Completed, st.Rescued, rescued, writer)
		if st.Completed == 0 {
			t.Fatalf("LowPriorityIO(%v): no checkpoint completed", on)
		}
		if on && (st.Rescued == 0 || rescued == 0 || writer != 0) {
			t.Errorf("LowPriorityIO(true), every persist overdue: %d rescued, state files synced by the rescuer %d and by the writer %d; want all by the rescuer", st.Rescued, rescued, writer)
		}
		if !on && (st.Rescued != 0 || rescued != 0 || writer == 0) {
			t.Errorf("LowPriorityIO(false): %d rescued, state files synced by the rescuer %d and by the writer %d; want all by the writer", st.Rescued, rescued, writer)
		}
		if _, _, _, err := LatestManifest(fs); err != nil {
			t.Errorf("LowPriorityIO(%v): latest checkpoint: %v", on, err)
		}
	}
}
