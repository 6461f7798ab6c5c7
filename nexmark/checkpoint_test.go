package nexmark_test

import (
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	nexgen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/stream"
)

// q1Job is Q1 into a transactional file sink, slowed down by a filter that
// sleeps 1ms at every 5th person (250 events) when slow is set.
func q1Job(t *testing.T, opts nexmark.Options, out string, slow bool) *stream.Job {
	job := stream.NewJob("q1-ckpt")
	events, err := nexmark.Events(job, opts)
	if err != nil {
		t.Fatal(err)
	}
	// the same graph in both runs (operator names key the checkpoint)
	events = events.Filter(func(e nexmark.Event) bool {
		if slow && e.Kind == nexgen.KindPerson && e.Person.ID%5 == 0 {
			time.Sleep(time.Millisecond)
		}
		return true
	})
	nexmark.Q1(events).SinkTo(file.NewSink(out, file.Lines(fmtQ1), file.Options{}))
	return job
}

// TestCheckpointRestore kills a Q1 job after some checkpoints and restores
// it at another parallelism: the committed output is the hand-written
// loop's, nothing lost and nothing twice. It exercises the generator's
// positions and RestoreSplit through the runtime.
func TestCheckpointRestore(t *testing.T) {
	opts := nexmark.Options{Seed: 9, Events: 150_000}
	src, err := nexgen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	want := mapLines(handQ1(src, opts.Events), fmtQ1)
	slices.Sort(want)
	testCrashRestore(t, [][2]int{{1, 1}, {2, 2}, {2, 1}, {1, 3}}, 20*time.Millisecond, want,
		func(out string, slow bool) *stream.Job { return q1Job(t, opts, out, slow) })
}

// testCrashRestore runs job(out, true), with a checkpoint every interval,
// at parallelism ps[0] of each pair of pss, kills it (cancels it) as soon
// as a checkpoint has committed some output to the file sink in out, and
// restores it with job(out, false) at parallelism ps[1]: the committed
// output must then be want (sorted), nothing lost and nothing twice.
func testCrashRestore(t *testing.T, pss [][2]int, interval time.Duration, want []string, job func(out string, slow bool) *stream.Job) {
	t.Helper()
	for _, ps := range pss {
		ckDir, outDir := t.TempDir(), t.TempDir()
		nexmark.CrashRun(t, job(outDir, true), ps[0], ckDir, interval, nexmark.HasCommitted(outDir))
		before := nexmark.Committed(t, outDir)
		if len(before) == 0 || len(before) >= len(want) {
			t.Fatalf("p %d: %d of %d lines committed before the crash; want a partial output", ps[0], len(before), len(want))
		}
		got := nexmark.RestoreRun(t, job(outDir, false), ps[1], ckDir, interval, outDir)
		if !slices.Equal(got, want) {
			i := firstDiff(got, want)
			t.Errorf("p %d->%d: %d lines after restore, want %d; first difference at %d:\n got  %s\n want %s",
				ps[0], ps[1], len(got), len(want), i, rankLineAt(got, i), rankLineAt(want, i))
		}
		t.Logf("p %d->%d: %d of %d lines committed before the crash", ps[0], ps[1], len(before), len(want))
	}
}
