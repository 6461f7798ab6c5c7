package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/pebblestate"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/stream"
)

// ckptJob: a throttled generator -> KeyBy -> Reduce (running sum) -> lines
// in a transactional file sink.
func ckptJob(n int64, out string) *stream.Job { return ckptJobGated(n, out, nil) }

// ckptJobGated slows the generator down (without blocking it: sources must
// stay responsive to barriers) until gate is closed (nil: no gate).
func ckptJobGated(n int64, out string, gate <-chan struct{}) *stream.Job {
	type acc struct{ Last, Sum int64 }
	job := stream.NewJob("ckpt")
	stream.FromGenerator(job, "gen", n, func(i int64) acc {
		if i%2000 == 0 {
			time.Sleep(time.Millisecond) // slow enough to checkpoint and crash mid-way
		}
		if gate != nil && i%64 == 0 {
			select {
			case <-gate:
			default:
				time.Sleep(time.Millisecond)
			}
		}
		return acc{Last: i, Sum: i}
	}).
		KeyBy(func(a acc) int64 { return a.Last % 50 }).
		Reduce(func(a, b acc) acc { return acc{Last: b.Last, Sum: a.Sum + b.Sum} }).
		Map(func(a acc) string { return fmt.Sprintf("%d,%d", a.Last, a.Sum) }).
		SinkTo(file.NewSink(out, file.Lines(func(s string) string { return s }), file.Options{}))
	return job
}

func committed(t *testing.T, dir string) []string {
	t.Helper()
	lines, err := file.ReadCommitted(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return lines
}

// TestCheckpointCrashRestore: a run is killed (canceled) after a few
// checkpoints; a second run restores the latest one, at another
// parallelism, and the committed output equals an uninterrupted run's:
// nothing lost, nothing twice.
func TestCheckpointCrashRestore(t *testing.T) {
	const n = 200_000
	refDir := t.TempDir()
	if err := runtime.Run(context.Background(), ckptJob(n, refDir), runtime.Parallelism(2)); err != nil {
		t.Fatal(err)
	}
	want := committed(t, refDir)
	if len(want) != n {
		t.Fatalf("reference run committed %d lines, want %d", len(want), n)
	}
	for _, ps := range [][2]int{{2, 2}, {2, 1}, {1, 2}} {
		ckDir, outDir := t.TempDir(), t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		err := runtime.Run(ctx, ckptJobGated(n, outDir, make(chan struct{})), runtime.Parallelism(ps[0]), runtime.Checkpointing(ckDir, 20*time.Millisecond))
		cancel()
		if !errors.Is(err, runtime.ErrCanceled) {
			t.Fatalf("first run: got %v, want it canceled mid-way (make the job slower?)", err)
		}
		fs, _ := vfs.NewLocal(ckDir)
		m, _, _, err := runtime.LatestManifest(fs)
		if err != nil {
			t.Fatalf("no checkpoint after the first run: %v", err)
		}
		partial := len(committed(t, outDir))
		if err := runtime.Run(context.Background(), ckptJob(n, outDir), runtime.Parallelism(ps[1]), runtime.Checkpointing(ckDir, 20*time.Millisecond)); err != nil {
			t.Fatalf("p %d->%d: restore run: %v", ps[0], ps[1], err)
		}
		got := committed(t, outDir)
		if !slices.Equal(got, want) {
			diff(t, got, want)
			t.Fatalf("p %d->%d (restored checkpoint %d, %d lines committed before): got %d lines, want %d", ps[0], ps[1], m.ID, partial, len(got), len(want))
		}
		t.Logf("p %d->%d: restored checkpoint %d with %d lines already committed", ps[0], ps[1], m.ID, partial)
	}
}

// TestControllerSavepoint: a savepoint taken by hand is listed and a new
// run can start from it.
func TestControllerSavepoint(t *testing.T) {
	ckDir, outDir := t.TempDir(), t.TempDir()
	ctl := runtime.NewController()
	done := make(chan error, 1)
	go func() {
		done <- runtime.Run(context.Background(), ckptJob(100_000, outDir), runtime.Parallelism(2),
			runtime.Checkpointing(ckDir, 0), runtime.WithController(ctl))
	}()
	var sp string
	var err error
	for range 100 {
		if sp, err = ctl.TriggerSavepoint(context.Background()); !errors.Is(err, runtime.ErrNotRunning) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fs, _ := vfs.NewLocal(ckDir)
	m, err := runtime.ReadManifest(fs, sp)
	if err != nil || !m.Savepoint {
		t.Fatalf("savepoint %s: %v (%+v)", sp, err, m)
	}
	if m.Vertices["gen"] == nil || len(m.Vertices["gen"].Subtasks) != 2 {
		t.Fatalf("savepoint lacks source positions: %+v", m.Vertices)
	}
}

func diff(t *testing.T, got, want []string) {
	g := map[string]int{}
	for _, l := range got {
		g[l]++
	}
	missing, dup := 0, 0
	for _, l := range want {
		if g[l] == 0 {
			if missing < 5 {
				t.Logf("missing %s", l)
			}
			missing++
		}
		if g[l] > 1 {
			if dup < 5 {
				t.Logf("twice %s", l)
			}
			dup++
		}
	}
	t.Logf("%d missing, %d duplicated", missing, dup)
}

// TestCheckpointCrashRestorePebble: the crash/restore test with keyed
// state in Pebble (incremental checkpoints), including a change of
// parallelism and of the state backend's checkpoint count; unused shared
// files are collected.
func TestCheckpointCrashRestorePebble(t *testing.T) {
	const n = 120_000
	refDir := t.TempDir()
	if err := runtime.Run(context.Background(), ckptJob(n, refDir), runtime.Parallelism(2)); err != nil {
		t.Fatal(err)
	}
	want := committed(t, refDir)
	for _, ps := range [][2]int{{2, 2}, {2, 1}} {
		ckDir, outDir := t.TempDir(), t.TempDir()
		pebble := runtime.StateBackend(pebblestate.New(t.TempDir(), pebblestate.Options{}))
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		err := runtime.Run(ctx, ckptJobGated(n, outDir, make(chan struct{})), runtime.Parallelism(ps[0]), pebble, runtime.Checkpointing(ckDir, 20*time.Millisecond))
		cancel()
		if !errors.Is(err, runtime.ErrCanceled) {
			t.Fatalf("first run: got %v, want it canceled mid-way", err)
		}
		if err := runtime.Run(context.Background(), ckptJob(n, outDir), runtime.Parallelism(ps[1]), pebble, runtime.Checkpointing(ckDir, 20*time.Millisecond)); err != nil {
			t.Fatalf("p %d->%d: restore run: %v", ps[0], ps[1], err)
		}
		if got := committed(t, outDir); !slices.Equal(got, want) {
			diff(t, got, want)
			t.Fatalf("p %d->%d: got %d lines, want %d", ps[0], ps[1], len(got), len(want))
		}
		// every shared file left is referenced by a kept checkpoint
		fs, _ := vfs.NewLocal(ckDir)
		used := map[string]bool{}
		list, _ := runtime.ListCheckpoints(fs)
		for _, c := range list {
			m, err := runtime.ReadManifest(fs, c.Dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range m.Files() {
				used[f] = true
			}
		}
		dirs, _ := fs.List("shared")
		for _, d := range dirs {
			files, _ := fs.List("shared/" + d)
			for _, f := range files {
				if !used["shared/"+d+"/"+f] {
					t.Errorf("unreferenced shared file shared/%s/%s kept", d, f)
				}
			}
		}
	}
}
