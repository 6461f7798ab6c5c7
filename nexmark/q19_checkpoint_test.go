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

// oneSplitJob is a query (sink attaches it and its transactional file
// sink on out) over the generator, slowed down by a filter that sleeps 1ms
// at every other person when slow is set. The source is one split, read
// by one subtask, so every key's events reach the query in event order
// whatever its parallelism: the changelog of an updating query (q18, q19)
// is the hand-written loop's at every parallelism.
func oneSplitJob(t *testing.T, opts nexmark.Options, slow bool, sink func(stream.DataStream[nexmark.Event])) *stream.Job {
	job := stream.NewJob("one-split-ckpt")
	src, err := nexgen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	// the same graph in both runs (operator names key the checkpoint)
	sink(stream.FromSource[nexmark.Event](job, "nexmark", q19OneSplit{src}).Filter(func(e nexmark.Event) bool {
		if slow && e.Kind == nexgen.KindPerson && e.Person.ID%2 == 0 {
			time.Sleep(time.Millisecond)
		}
		return true
	}))
	return job
}

// testOneSplitRestore kills a oneSplitJob after a checkpoint has committed
// output and restores it at the same or another parallelism: the query's
// keyed state comes back, so the committed changelog is exactly want (the
// uninterrupted one, sorted), nothing lost and nothing twice.
func testOneSplitRestore(t *testing.T, opts nexmark.Options, want []string, sink func(stream.DataStream[nexmark.Event], string)) {
	for _, ps := range [][2]int{{1, 1}, {2, 1}, {1, 3}} {
		ckDir, outDir := t.TempDir(), t.TempDir()
		attach := func(events stream.DataStream[nexmark.Event]) { sink(events, outDir) }
		// crash (cancel) the first run as soon as a checkpoint has committed
		// some output
		nexmark.CrashRun(t, oneSplitJob(t, opts, true, attach), ps[0], ckDir, 50*time.Millisecond, nexmark.HasCommitted(outDir))
		before := nexmark.Committed(t, outDir)
		if len(before) == 0 || len(before) >= len(want) {
			t.Fatalf("p %d: %d of %d rows committed before the crash; want a partial output", ps[0], len(before), len(want))
		}
		got := nexmark.RestoreRun(t, oneSplitJob(t, opts, false, attach), ps[1], ckDir, 50*time.Millisecond, outDir)
		if !slices.Equal(got, want) {
			i := firstDiff(got, want)
			t.Errorf("p %d->%d: %d rows after restore, want %d; first difference at %d:\n got  %s\n want %s",
				ps[0], ps[1], len(got), len(want), i, rankLineAt(got, i), rankLineAt(want, i))
		}
		t.Logf("p %d->%d: %d of %d rows committed before the crash", ps[0], ps[1], len(before), len(want))
	}
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

// TestQ19CheckpointRestore: Q19's keyed state (TopBids, checkpointed with
// gob) survives a crash and a change of parallelism.
func TestQ19CheckpointRestore(t *testing.T) {
	opts := nexmark.Options{Seed: 19, Events: 20_000}
	src, err := nexgen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	testOneSplitRestore(t, opts, q19Changelog(src, opts.Events), func(events stream.DataStream[nexmark.Event], out string) {
		nexmark.Q19(events).SinkTo(file.NewSink(out, file.Lines(nexmark.FormatQ19), file.Options{}))
	})
}

// TestQ18CheckpointRestore: Q18's packed keyed state (bids encoded in
// arenas, decoded for the checkpoint) survives a crash and a change of
// parallelism.
func TestQ18CheckpointRestore(t *testing.T) {
	opts := nexmark.Options{Seed: 18, Events: 20_000}
	src, err := nexgen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	last := map[nexmark.BidderAuction]nexmark.Bid{}
	var want []string
	var e nexmark.Event
	for i := range opts.Events {
		if src.Fill(i, &e); e.Kind != nexgen.KindBid {
			continue
		}
		k := nexmark.BidderAuction{Bidder: e.Bid.Bidder, Auction: e.Bid.Auction}
		if old, ok := last[k]; !ok || nexmark.CompareLatest(&e.Bid, &old) > 0 {
			last[k] = e.Bid
			want = append(want, nexmark.FormatBid(e.Bid))
		}
	}
	slices.Sort(want)
	testOneSplitRestore(t, opts, want, func(events stream.DataStream[nexmark.Event], out string) {
		nexmark.Q18(events).SinkTo(file.NewSink(out, file.Lines(nexmark.FormatBid), file.Options{}))
	})
}
