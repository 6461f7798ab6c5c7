package nexmark

import (
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// slowed sleeps 1ms at every 5th person when slow is set, so that a run
// can be stopped half-way; the graph is the same either way (operator
// names key a checkpoint).
func slowed(events stream.DataStream[Event], slow bool) stream.DataStream[Event] {
	return events.Filter(func(e Event) bool {
		if slow && e.Kind == gen.KindPerson && e.Person.ID%5 == 0 {
			time.Sleep(time.Millisecond)
		}
		return true
	}).Name("slow")
}

// checkpointJobs are q9 and q20 into exactly-once file sinks, slowed.
// q9's watermarks are set on the source (as Q9 does), before the slow
// filter: a restored source subtask may read several splits.
var checkpointJobs = map[string]func(events stream.DataStream[Event], slow bool, out string){
	"q9": func(events stream.DataStream[Event], slow bool, out string) {
		WinningBids(slowed(WithEventTime(events), slow), projectQ9, true).Map(q9Result).Name("q9").
			SinkTo(file.NewSink(out, file.Lines(FormatQ9), file.Options{}))
	},
	"q20": func(events stream.DataStream[Event], slow bool, out string) {
		Q20(slowed(events, slow)).SinkTo(file.NewSink(out, file.Lines(FormatQ20), file.Options{}))
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
		build := func(out string, slow bool) *stream.Job {
			job := stream.NewJob(c.query + "-ckpt")
			events, err := Events(job, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkpointJobs[c.query](events, slow, out)
			return job
		}
		ckDir, outDir := t.TempDir(), t.TempDir()
		CrashRun(t, build(outDir, true), c.p1, ckDir, 20*time.Millisecond, HasCommitted(outDir))
		before := Committed(t, outDir)
		if len(before) == 0 || len(before) >= len(want) {
			t.Fatalf("%s: %d of %d lines committed before the crash; want a partial output", c.query, len(before), len(want))
		}
		got := RestoreRun(t, build(outDir, false), c.p2, ckDir, 20*time.Millisecond, outDir)
		if err := EqualLines(got, want); err != nil {
			t.Errorf("%s p %d->%d: %v", c.query, c.p1, c.p2, err)
		}
		t.Logf("%s p %d->%d: %d of %d lines committed before the crash", c.query, c.p1, c.p2, len(before), len(want))
	}
}
