package jobmain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/stream"
)

const sumRecords = 200_000

// runningSums builds a throttled generator -> KeyBy -> Reduce (running
// sum) -> lines in a transactional file sink in out: every record yields one
// line, so a lost or repeated record shows in the output.
func runningSums(out string) func(*stream.Job) error {
	type acc struct{ Last, Sum int64 }
	return func(job *stream.Job) error {
		stream.FromGenerator(job, "gen", sumRecords, func(i int64) acc {
			if i%2000 == 0 {
				time.Sleep(time.Millisecond) // slow enough to checkpoint and stop mid-way
			}
			return acc{Last: i, Sum: i}
		}).
			KeyBy(func(a acc) int64 { return a.Last % 50 }).
			Reduce(func(a, b acc) acc { return acc{Last: b.Last, Sum: a.Sum + b.Sum} }).
			Map(func(a acc) string { return fmt.Sprintf("%d,%d", a.Last, a.Sum) }).
			SinkTo(file.NewSink(out, file.Lines(func(s string) string { return s }), file.Options{}))
		return nil
	}
}

func committedLines(t *testing.T, dir string) []string {
	t.Helper()
	lines, err := file.ReadCommitted(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return lines
}

// reference is the output of an uninterrupted run without checkpoints.
func reference(t *testing.T) []string {
	t.Helper()
	out := t.TempDir()
	var stderr strings.Builder
	if err := Run(context.Background(), []string{"sums", "--parallelism", "2"}, runningSums(out), &stderr); err != nil {
		t.Fatalf("%v\n%s", err, &stderr)
	}
	want := committedLines(t, out)
	if len(want) != sumRecords {
		t.Fatalf("reference run committed %d lines, want %d", len(want), sumRecords)
	}
	return want
}

// interrupted runs args until canceled mid-way, like a crash, and returns
// the id of the latest complete checkpoint in ckpt.
func interrupted(t *testing.T, args []string, out, ckpt string) int64 {
	return interruptedAfter(t, args, out, ckpt, 1)
}

// interruptedAfter runs args and cancels the run once minCkpts checkpoints
// have completed (and at least 150ms passed), however loaded the machine
// is; it returns the latest checkpoint's id.
func interruptedAfter(t *testing.T, args []string, out, ckpt string, minCkpts int64) int64 {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() { done <- Run(ctx, args, runningSums(out), &stderr) }()
	fs, err := vfs.NewLocal(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-time.After(5 * time.Millisecond):
			if m, _, _, err := runtime.LatestManifest(fs); err == nil && m.ID >= minCkpts && time.Since(start) >= 150*time.Millisecond {
				cancel()
			}
		}
	}
	if !errors.Is(err, runtime.ErrCanceled) || ExitCode(err) != 1 {
		t.Fatalf("%q: got %v (exit %d), want it canceled mid-way (make the job slower?)\n%s", args, err, ExitCode(err), &stderr)
	}
	m, _, _, err := runtime.LatestManifest(fs)
	if err != nil {
		t.Fatalf("%q: no checkpoint after the interrupted run: %v", args, err)
	}
	return m.ID
}

// TestCheckpointDirResumes: a run with --checkpoint-dir stopped mid-way is
// resumed by rerunning the same command (at another parallelism), and the
// output holds every record exactly once; a rerun after the job finished
// restores the final checkpoint and changes nothing.
func TestCheckpointDirResumes(t *testing.T) {
	want := reference(t)
	ckpt, out := t.TempDir(), t.TempDir()
	args := []string{"sums", "--checkpoint-dir", ckpt, "--checkpoint-interval", "20ms", "--parallelism", "2"}
	id := interrupted(t, args, out, ckpt)
	partial := len(committedLines(t, out))

	args[len(args)-1] = "1"
	for run := range 2 {
		var stderr strings.Builder
		if err := Run(context.Background(), args, runningSums(out), &stderr); err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, &stderr)
		}
		if got := committedLines(t, out); !slices.Equal(got, want) {
			t.Fatalf("run %d after restoring checkpoint %d (%d lines committed before): %d lines, want %d",
				run, id, partial, len(got), len(want))
		}
	}
	fs, _ := vfs.NewLocal(ckpt)
	if m, _, _, err := runtime.LatestManifest(fs); err != nil || !m.Final {
		t.Errorf("latest checkpoint after the job finished: %+v, %v; want a final one", m, err)
	}
	t.Logf("restored checkpoint %d with %d of %d lines committed", id, partial, len(want))
}

// TestRestoreFlag: --restore names a checkpoint of another directory; new
// checkpoints go to --checkpoint-dir.
func TestRestoreFlag(t *testing.T) {
	want := reference(t)
	old, ckpt, out := t.TempDir(), t.TempDir(), t.TempDir()
	id := interrupted(t, []string{"sums", "--checkpoint-dir", old, "--checkpoint-interval", "20ms"}, out, old)
	from := filepath.Join(old, fmt.Sprintf("chk-%08d", id))
	var stderr strings.Builder
	args := []string{"sums", "--restore", from, "--checkpoint-dir", ckpt, "--log-level", "info"}
	if err := Run(context.Background(), args, runningSums(out), &stderr); err != nil {
		t.Fatalf("%v\n%s", err, &stderr)
	}
	if got := committedLines(t, out); !slices.Equal(got, want) {
		t.Fatalf("restored from %s: %d lines, want %d", from, len(got), len(want))
	}
	fs, _ := vfs.NewLocal(ckpt)
	if m, _, _, err := runtime.LatestManifest(fs); err != nil || m.ID <= id {
		t.Errorf("new checkpoints: latest %+v, %v; want ids after %d", m, err, id)
	}

	// A corrupt --restore fails the run and names the path.
	manifest := filepath.Join(from, "MANIFEST")
	if err := os.WriteFile(manifest, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	err := Run(context.Background(), args, runningSums(t.TempDir()), &stderr)
	if !errors.Is(err, runtime.ErrCorruptCheckpoint) || ExitCode(err) != 1 || !strings.Contains(stderr.String(), from) {
		t.Errorf("corrupt --restore: err %v, exit %d, stderr %q", err, ExitCode(err), &stderr)
	}
}

// TestCorruptCheckpoints: when every checkpoint is corrupt a run fails
// with an error naming them instead of starting over; when only the newest
// is, a run skips it, restores the one before and the output still holds
// every record exactly once (the sink deletes what the newest committed).
func TestCorruptCheckpoints(t *testing.T) {
	want := reference(t)
	ckpt, out := t.TempDir(), t.TempDir()
	args := []string{"sums", "--checkpoint-dir", ckpt, "--checkpoint-interval", "10ms"}
	interruptedAfter(t, args, out, ckpt, 3)
	fs, _ := vfs.NewLocal(ckpt)
	all, err := runtime.ListCheckpoints(fs)
	var list []runtime.CheckpointInfo // those with a manifest (the rest were in progress)
	for _, c := range all {
		if ok, _ := fs.Exists(c.Dir + "/MANIFEST"); ok {
			list = append(list, c)
		}
	}
	if err != nil || len(list) < 2 {
		t.Fatalf("want at least 2 checkpoints, have %v (%v)", list, err)
	}
	saved := map[string][]byte{}
	for _, c := range list {
		name := filepath.Join(ckpt, c.Dir, "MANIFEST")
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		saved[c.Dir] = slices.Clone(data)
		data[len(data)/2] ^= 0x20
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stderr strings.Builder
	err = Run(context.Background(), args, runningSums(out), &stderr)
	if !errors.Is(err, runtime.ErrCorruptCheckpoint) || ExitCode(err) != 1 {
		t.Fatalf("all corrupt: err %v, exit %d; want ErrCorruptCheckpoint, 1\n%s", err, ExitCode(err), &stderr)
	}
	msg := stderr.String()
	t.Logf("all corrupt:\n%s", msg)
	for _, s := range []string{"weir: sums: checkpoint directory " + ckpt + " holds no usable checkpoint: every one is corrupt",
		"\n  " + list[0].Dir + "/MANIFEST: crc32c ", "\n  " + list[len(list)-1].Dir + "/MANIFEST: crc32c "} {
		if !strings.Contains(msg, s) {
			t.Errorf("stderr lacks %q:\n%s", s, msg)
		}
	}

	// Repair all but the newest, which the interrupted run had committed.
	for _, c := range list[1:] {
		if err := os.WriteFile(filepath.Join(ckpt, c.Dir, "MANIFEST"), saved[c.Dir], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stderr.Reset()
	if err := Run(context.Background(), append(args, "--log-level", "info"), runningSums(out), &stderr); err != nil {
		t.Fatalf("newest corrupt: %v\n%s", err, &stderr)
	}
	if got := committedLines(t, out); !slices.Equal(got, want) {
		t.Fatalf("after falling back to %s: %d lines, want %d", list[1].Dir, len(got), len(want))
	}
	for _, s := range []string{"skipping unusable checkpoint", list[0].Dir + "/MANIFEST", `"dir": "` + list[1].Dir + `"`} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("newest corrupt: log lacks %q:\n%s", s, &stderr)
		}
	}
}
