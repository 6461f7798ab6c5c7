package nexmark_test

import (
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	nexgen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/stream"
)

// q19OneSplit is the generator as a single split at every parallelism.
type q19OneSplit struct{ *nexgen.Source }

func (s q19OneSplit) Splits(int) ([]operators.Split, error) { return s.Source.Splits(1) }

// q19Job is Q19 into a transactional file sink (FormatQ19), slowed down
// by a filter that sleeps 1ms at every other person when slow is set. The
// source is one split, read by one subtask, so every auction's bids reach
// Q19 in event order whatever the parallelism of Q19: the changelog is
// the hand-written loop's at every parallelism.
func q19Job(t *testing.T, opts nexmark.Options, out string, slow bool) *stream.Job {
	job := stream.NewJob("q19-ckpt")
	src, err := nexgen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	// the same graph in both runs (operator names key the checkpoint)
	events := stream.FromSource[nexmark.Event](job, "nexmark", q19OneSplit{src}).Filter(func(e nexmark.Event) bool {
		if slow && e.Kind == nexgen.KindPerson && e.Person.ID%2 == 0 {
			time.Sleep(time.Millisecond)
		}
		return true
	})
	nexmark.Q19(events).SinkTo(file.NewSink(out, file.Lines(nexmark.FormatQ19), file.Options{}))
	return job
}

// q19Changelog is every result of q19 over events 0..n-1 of src, in order:
// the reference changelog, sorted.
func q19Changelog(src *nexgen.Source, n int64) []string {
	tops := map[int64]*nexmark.TopBids{}
	var out []string
	var e nexmark.Event
	for i := range n {
		if src.Fill(i, &e); e.Kind != nexgen.KindBid {
			continue
		}
		t := tops[e.Bid.Auction]
		if t == nil {
			t = new(nexmark.TopBids)
			tops[e.Bid.Auction] = t
		}
		for r := t.Offer(&e.Bid); r >= 0 && r < t.N; r++ {
			out = append(out, nexmark.FormatQ19(nexmark.Q19Result{Bid: t.Bids[r], Rank: int64(r + 1)}))
		}
	}
	slices.Sort(out)
	return out
}

// TestQ19CheckpointRestore kills a Q19 job after a checkpoint has
// committed output and restores it at the same or another parallelism:
// its keyed state (TopBids, checkpointed with gob) comes back, so the
// committed changelog is exactly the uninterrupted one, nothing lost and
// nothing twice.
func TestQ19CheckpointRestore(t *testing.T) {
	opts := nexmark.Options{Seed: 19, Events: 20_000}
	src, err := nexgen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	want := q19Changelog(src, opts.Events)
	for _, ps := range [][2]int{{1, 1}, {2, 1}, {1, 3}} {
		ckDir, outDir := t.TempDir(), t.TempDir()
		// crash (cancel) the first run as soon as a checkpoint has committed
		// some output
		nexmark.CrashRun(t, q19Job(t, opts, outDir, true), ps[0], ckDir, 50*time.Millisecond, nexmark.HasCommitted(outDir))
		before := nexmark.Committed(t, outDir)
		if len(before) == 0 || len(before) >= len(want) {
			t.Fatalf("p %d: %d of %d rows committed before the crash; want a partial output", ps[0], len(before), len(want))
		}
		got := nexmark.RestoreRun(t, q19Job(t, opts, outDir, false), ps[1], ckDir, 50*time.Millisecond, outDir)
		if !slices.Equal(got, want) {
			i := firstDiff(got, want)
			t.Errorf("p %d->%d: %d rows after restore, want %d; first difference at %d:\n got  %s\n want %s",
				ps[0], ps[1], len(got), len(want), i, rankLineAt(got, i), rankLineAt(want, i))
		}
		t.Logf("p %d->%d: %d of %d rows committed before the crash", ps[0], ps[1], len(before), len(want))
	}
}
