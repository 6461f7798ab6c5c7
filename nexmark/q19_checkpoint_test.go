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

// oneSplitPs are the parallelisms the one-split jobs crash and restore at.
var oneSplitPs = [][2]int{{1, 1}, {2, 1}, {1, 3}}

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
	testCrashRestore(t, oneSplitPs, 50*time.Millisecond, q19Changelog(src, opts.Events), func(out string, slow bool) *stream.Job {
		return oneSplitJob(t, opts, slow, func(events stream.DataStream[nexmark.Event]) {
			nexmark.Q19(events).SinkTo(file.NewSink(out, file.Lines(nexmark.FormatQ19), file.Options{}))
		})
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
	testCrashRestore(t, oneSplitPs, 50*time.Millisecond, want, func(out string, slow bool) *stream.Job {
		return oneSplitJob(t, opts, slow, func(events stream.DataStream[nexmark.Event]) {
			nexmark.Q18(events).SinkTo(file.NewSink(out, file.Lines(nexmark.FormatBid), file.Options{}))
		})
	})
}
