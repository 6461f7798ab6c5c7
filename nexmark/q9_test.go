package nexmark

import (
	"slices"
	"testing"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

// TestQ9Columns: a result carries every column of the auction and the
// winning bid's bidder, price, dateTime and extra.
func TestQ9Columns(t *testing.T) {
	a := auctionEv(1, 0, 10, 7, 12)
	b := bidEv(1, 5, 30, 4, "winner")
	rs := runEvents(t, []Event{a, bidEv(1, 6, 20, 2, "loser"), b}, 2, Q9)
	if len(rs) != 1 {
		t.Fatalf("%d results, want 1", len(rs))
	}
	want := Q9Result{Auction: a.Auction, Bidder: 5, Price: 30, BidDateTime: b.Bid.DateTime, BidExtra: "winner"}
	if got := rs[0].Value; got != want {
		t.Errorf("got\n  %+v\nwant\n  %+v", got, want)
	}
	if rs[0].EventTime() != a.Auction.Expires {
		t.Errorf("result at %v, want the auction's expiry %v", rs[0].EventTime(), a.Auction.Expires)
	}
}

// TestJoinQueriesHighRate compares q3, q4, q6, q9 and q20 with their
// hand-written loops on a stream of 1000 events per millisecond, where
// many bids come just before their auction in the same millisecond (and
// count), and auctions last a few milliseconds; at parallelism 1 and 3.
func TestJoinQueriesHighRate(t *testing.T) {
	opts := gen.Options{Seed: 11, Events: 60_000, Rate: 1_000_000}
	for _, name := range []string{"q3", "q4", "q6", "q9", "q20"} {
		q, ok := Lookup(name)
		if !ok {
			t.Fatalf("%s is not registered", name)
		}
		src, err := gen.NewSource(opts)
		if err != nil {
			t.Fatal(err)
		}
		want := q.HandLines(src, opts.Events)
		if len(want) == 0 {
			t.Fatalf("%s: no results from the hand-written loop", name)
		}
		for _, p := range []int{1, 3} {
			job := stream.NewJob(name)
			events, err := Events(job, opts)
			if err != nil {
				t.Fatal(err)
			}
			lines := q.Collect(events)
			testkit.Run(t, job, runtime.Parallelism(p))
			got := lines()
			if p > 1 && q.Ordered() && !q.Upsert() {
				got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
			}
			if err := q.Compare(got, want); err != nil {
				t.Errorf("%s at p=%d: %v", name, p, err)
			}
		}
	}
}
