package nexmark

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

// CrashRun is the first half of the checkpoint tests: it runs job at
// parallelism p with a checkpoint every interval into ckDir, cancels it
// (a crash) as soon as committed reports committed output, and fails t
// unless the run ended canceled mid-way. (Exported for the external test
// package; it is compiled only into tests.)
func CrashRun(t testing.TB, job *stream.Job, p int, ckDir string, interval time.Duration, committed func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runtime.Run(ctx, job, runtime.Parallelism(p), runtime.Checkpointing(ckDir, interval))
	}()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-time.After(5 * time.Millisecond):
			if committed() {
				cancel()
			}
		}
	}
	if !errors.Is(err, runtime.ErrCanceled) {
		t.Fatalf("first run at p=%d: got %v, want it canceled mid-way (make the job slower?)", p, err)
	}
}

// HasCommitted reports whether the file sink in dir committed any line.
func HasCommitted(dir string) func() bool {
	return func() bool {
		lines, _ := file.ReadCommitted(dir)
		return len(lines) > 0
	}
}

// Committed returns the lines the file sink in dir committed, sorted.
func Committed(t testing.TB, dir string) []string {
	t.Helper()
	lines, err := file.ReadCommitted(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return lines
}

// RestoreRun is the second half: it runs job, which restores the
// checkpoint CrashRun left in ckDir, at parallelism p to its end, and
// returns what the file sink in outDir then holds, sorted.
func RestoreRun(t testing.TB, job *stream.Job, p int, ckDir string, interval time.Duration, outDir string) []string {
	t.Helper()
	if err := runtime.Run(context.Background(), job, runtime.Parallelism(p), runtime.Checkpointing(ckDir, interval)); err != nil {
		t.Fatalf("restore run at p=%d: %v", p, err)
	}
	return Committed(t, outDir)
}
