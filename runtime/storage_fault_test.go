package runtime_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/stream"
)

// TestCheckpointWriteFailure: a checkpoint whose storage write fails is
// abandoned (the trigger reports the error), the job goes on, the next
// checkpoint succeeds and the output is still exactly once.
func TestCheckpointWriteFailure(t *testing.T) {
	const n = 100_000
	refDir := t.TempDir()
	if err := runtime.Run(context.Background(), ckptJob(n, refDir), runtime.Parallelism(2)); err != nil {
		t.Fatal(err)
	}
	want := committed(t, refDir)
	for _, failAt := range []int64{1, 2, 3, 5} {
		local, err := vfs.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		efs := vfs.NewErrorFS(local, 0)
		out := t.TempDir()
		ctl := runtime.NewController()
		done := make(chan error, 1)
		gate := make(chan struct{})
		go func() {
			done <- runtime.Run(context.Background(), ckptJobGated(n, out, gate), runtime.Parallelism(2),
				runtime.CheckpointStorage(efs, 0), runtime.WithController(ctl))
		}()
		waitRunning(t, ctl)
		efs.FailAt(failAt)
		_, err = ctl.TriggerCheckpoint(context.Background())
		if !errors.Is(err, vfs.ErrInjected) {
			t.Fatalf("failAt=%d: checkpoint with a failing write: got %v, want ErrInjected", failAt, err)
		}
		if _, err := ctl.TriggerCheckpoint(context.Background()); err != nil {
			t.Fatalf("failAt=%d: next checkpoint: %v", failAt, err)
		}
		close(gate)
		if err := <-done; err != nil {
			t.Fatalf("failAt=%d: job failed: %v", failAt, err)
		}
		if got := committed(t, out); !slices.Equal(got, want) {
			t.Fatalf("failAt=%d: %d lines committed, want %d", failAt, len(got), len(want))
		}
		list, _ := runtime.ListCheckpoints(local)
		for _, c := range list {
			if ok, _ := local.Exists(c.Dir + "/MANIFEST"); !ok {
				t.Fatalf("failAt=%d: abandoned checkpoint %s left behind", failAt, c.Dir)
			}
		}
	}
}

func waitRunning(t *testing.T, ctl *runtime.Controller) {
	t.Helper()
	for range 500 {
		if _, err := ctl.TriggerCheckpoint(context.Background()); !errors.Is(err, runtime.ErrNotRunning) {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("job did not start")
}

// TestCorruptCheckpointFallback: a newest checkpoint with a damaged or
// truncated manifest is skipped and the previous one restored; when no
// checkpoint is usable the run fails with a clear error.
func TestCorruptCheckpointFallback(t *testing.T) {
	const n = 150_000
	refDir := t.TempDir()
	if err := runtime.Run(context.Background(), ckptJob(n, refDir), runtime.Parallelism(2)); err != nil {
		t.Fatal(err)
	}
	want := committed(t, refDir)
	for _, damage := range []string{"flip", "truncate", "delete"} {
		ckDir, out := t.TempDir(), t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		err := runtime.Run(ctx, ckptJobGated(n, out, make(chan struct{})), runtime.Parallelism(2), runtime.Checkpointing(ckDir, 15*time.Millisecond), runtime.RetainCheckpoints(5))
		cancel()
		if !errors.Is(err, runtime.ErrCanceled) {
			t.Fatalf("%s: first run: %v", damage, err)
		}
		fs, _ := vfs.NewLocal(ckDir)
		list, _ := runtime.ListCheckpoints(fs)
		_, newest, _, err := runtime.LatestManifest(fs)
		if len(list) < 2 || err != nil {
			t.Fatalf("%s: need 2 checkpoints, have %v (%v)", damage, list, err)
		}
		damageManifest(t, filepath.Join(ckDir, newest, "MANIFEST"), damage)
		if err := runtime.Run(context.Background(), ckptJob(n, out), runtime.Parallelism(2), runtime.Checkpointing(ckDir, 15*time.Millisecond)); err != nil {
			t.Fatalf("%s: restore run: %v", damage, err)
		}
		if got := committed(t, out); !slices.Equal(got, want) {
			diff(t, got, want)
			t.Fatalf("%s: %d lines committed, want %d", damage, len(got), len(want))
		}
	}
	// every checkpoint unusable: a clear error, nothing runs
	ckDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(ckDir, "chk-00000003"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ckDir, "chk-00000003", "MANIFEST"), []byte("weir-checkpoint v1 crc32c=00000000 len=2\n{}"), 0o644)
	err := runtime.Run(context.Background(), ckptJob(10, t.TempDir()), runtime.Checkpointing(ckDir, 0))
	if !errors.Is(err, runtime.ErrCorruptCheckpoint) || !strings.Contains(err.Error(), "chk-00000003") {
		t.Fatalf("all checkpoints corrupt: got %v", err)
	}
}

func damageManifest(t *testing.T, path, how string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch how {
	case "flip":
		data[len(data)-10] ^= 0x20
		err = os.WriteFile(path, data, 0o644)
	case "truncate":
		err = os.WriteFile(path, data[:len(data)/2], 0o644)
	case "delete":
		err = os.Remove(path)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestRestoreRefusesMissingOperators: a checkpoint with state of an
// operator the new job lacks is refused (its state would be dropped
// silently), unless AllowNonRestoredState says so.
func TestRestoreRefusesMissingOperators(t *testing.T) {
	ckDir, out := t.TempDir(), t.TempDir()
	ctl := runtime.NewController()
	done := make(chan error, 1)
	gate := make(chan struct{})
	go func() {
		done <- runtime.Run(context.Background(), ckptJobGated(20_000, out, gate), runtime.Checkpointing(ckDir, 0), runtime.WithController(ctl))
	}()
	waitRunning(t, ctl)
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	other := stream.NewJob("other")
	stream.FromGenerator(other, "gen", 10, func(i int64) int64 { return i }).SinkTo(operators.Discard[int64]())
	err := runtime.Run(context.Background(), other, runtime.Checkpointing(ckDir, 0))
	if !errors.Is(err, runtime.ErrIncompatibleCheckpoint) || !strings.Contains(err.Error(), "Reduce-1") {
		t.Fatalf("got %v, want ErrIncompatibleCheckpoint naming Reduce-1", err)
	}
	if err := runtime.Run(context.Background(), other, runtime.Checkpointing(ckDir, 0), runtime.AllowNonRestoredState()); err != nil {
		t.Fatalf("with AllowNonRestoredState: %v", err)
	}
}

// slowMkdirFS holds a checkpoint's directory back: once armed, its next
// MkdirAll of a checkpoint first calls during (which may let a task end)
// and only then creates the directory.
type slowMkdirFS struct {
	vfs.FS
	armed  atomic.Bool
	during func()
}

func (s *slowMkdirFS) MkdirAll(dir string) error {
	if strings.HasPrefix(dir, "chk-") && s.armed.CompareAndSwap(true, false) {
		s.during()
	}
	return s.FS.MkdirAll(dir)
}

// TestJobEndsWhileCheckpointStarts: when the last tasks end (and hand in
// their final snapshots, with keyed state) while a checkpoint's directory
// is still being made, the checkpoint either completes or is refused
// because the job finished; it does not fail writing into a directory
// that is not there yet, and leaves no directory without a manifest.
// Before the fix, the writer saw the checkpoint pending before its
// directory existed and failed it with "no such file or directory".
func TestJobEndsWhileCheckpointStarts(t *testing.T) {
	local, err := vfs.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	end := make(chan struct{})
	fs := &slowMkdirFS{FS: local, during: func() {
		close(end)
		time.Sleep(200 * time.Millisecond) // the job ends meanwhile
	}}
	job := stream.NewJob("ends-while-starting")
	stream.FromGenerator(job, "gen", 1_000_000, func(i int64) int64 {
		if i%64 == 0 {
			select {
			case <-end:
			default:
				time.Sleep(time.Millisecond)
			}
		}
		return i
	}).KeyBy(func(v int64) int64 { return v % 7 }).Reduce(func(a, b int64) int64 { return a + b }).
		SinkTo(operators.Discard[int64]())
	ctl := runtime.NewController()
	done := make(chan error, 1)
	go func() {
		done <- runtime.Run(context.Background(), job, runtime.Parallelism(2),
			runtime.CheckpointStorage(fs, 0), runtime.WithController(ctl))
	}()
	waitRunning(t, ctl)
	fs.armed.Store(true)
	if _, err := ctl.TriggerCheckpoint(context.Background()); err != nil && !errors.Is(err, runtime.ErrNotRunning) {
		t.Fatalf("a checkpoint started as the job ended: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	list, err := runtime.ListCheckpoints(local)
	if err != nil || len(list) == 0 {
		t.Fatalf("no checkpoints listed: %v", err)
	}
	for _, c := range list {
		if ok, _ := local.Exists(c.Dir + "/MANIFEST"); !ok {
			t.Errorf("%s left behind without a manifest", c.Dir)
		}
	}
	if st := ctl.Stats(); st.Failed != 0 {
		t.Errorf("%d checkpoints failed", st.Failed)
	}
}
