package nexmark

import (
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// checkpointJobs are q9 and q20 into exactly-once file sinks. q9's
// watermarks are set on the source (as Q9 does): a restored source
// subtask may read several splits.
var checkpointJobs = map[string]func(events stream.DataStream[Event], out string){
	"q9": func(events stream.DataStream[Event], out string) {
		WinningBids(WithEventTime(events), projectQ9, true).Map(q9Result).Name("q9").
			SinkTo(file.NewSink(out, file.Lines(FormatQ9), file.Options{}))
	},
	"q20": func(events stream.DataStream[Event], out string) {
		Q20(events).SinkTo(file.NewSink(out, file.Lines(FormatQ20), file.Options{}))
	},
}

// TestJoinCheckpointRestore stops q9 and q20 after some checkpoints and
// restores them at another parallelism: the committed output is the
// hand-written loop's, nothing lost and nothing twice. The restored jobs
// rebuild their keyed state and timers (open auctions, buffered bids)
// from the checkpoint, and start without the winning-bids operator's
// memory of closed auctions, which must not change the result.
func TestJoinCheckpointRestore(t *testing.T) {
	opts := gen.Options{Seed: 5, Events: 100_000}
	for _, c := range []struct {
		query string
		p1    int
		p2    int
	}{{"q9", 2, 1}, {"q20", 1, 3}} {
		q, _ := Lookup(c.query)
		src, err := gen.NewSource(opts)
		if err != nil {
			t.Fatal(err)
		}
		want := q.HandLines(src, opts.Events)
		slices.Sort(want)
		// the first run's input shuts half-way (gatedEvents)
		build := func(out string, g *gate) *stream.Job {
			job := stream.NewJob(c.query + "-ckpt")
			checkpointJobs[c.query](gatedEvents(t, job, opts, g), out)
			return job
		}
		ckDir, outDir := t.TempDir(), t.TempDir()
		g := newGate(opts)
		CrashRun(t, build(outDir, g), c.p1, ckDir, 20*time.Millisecond, g.crash(ckDir, outDir))
		before := Committed(t, outDir)
		if len(before) == 0 || len(before) >= len(want) {
			t.Fatalf("%s: %d of %d lines committed before the crash; want a partial output", c.query, len(before), len(want))
		}
		got := RestoreRun(t, build(outDir, nil), c.p2, ckDir, 20*time.Millisecond, outDir)
		if err := EqualLines(got, want); err != nil {
			t.Errorf("%s p %d->%d: %v", c.query, c.p1, c.p2, err)
		}
		t.Logf("%s p %d->%d: %d of %d lines committed before the crash", c.query, c.p1, c.p2, len(before), len(want))
	}
}
