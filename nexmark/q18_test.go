package nexmark_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

var rankT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// rankBid is a bid at rankT0 + ms milliseconds.
func rankBid(auction, bidder, price int64, ms int, url, extra, channel string) nexmark.Bid {
	return nexmark.Bid{Auction: auction, Bidder: bidder, Price: price, DateTime: rankT0.Add(time.Duration(ms) * time.Millisecond),
		URL: url, Extra: extra, Channel: channel}
}

// rankRun runs build over bids (a single-split source, in slice order)
// at parallelism p and returns the raw results.
func rankRun[R any](t *testing.T, build func(stream.DataStream[nexmark.Event]) stream.DataStream[R], bids []nexmark.Bid, p int) []R {
	t.Helper()
	evs := make([]nexmark.Event, len(bids))
	for i, b := range bids {
		evs[i] = nexmark.Event{Kind: gen.KindBid, Bid: b}
	}
	job := stream.NewJob("ranking")
	out := testkit.Collect(build(stream.FromSlice(job, "events", evs)))
	testkit.Run(t, job, runtime.Parallelism(p))
	return out.Values()
}

// randomTiedBids makes n bids on few auctions by few bidders with few
// distinct times, prices and strings, so that ties in every column occur.
func randomTiedBids(rnd *rand.Rand, n int) []nexmark.Bid {
	strs := []string{"", "a", "b", "ab"}
	bids := make([]nexmark.Bid, n)
	for i := range bids {
		bids[i] = rankBid(1+rnd.Int64N(3), 1+rnd.Int64N(3), 1+rnd.Int64N(4), rnd.IntN(3),
			strs[rnd.IntN(4)], strs[rnd.IntN(4)], strs[rnd.IntN(4)])
	}
	return bids
}

func TestCompareLatest(t *testing.T) {
	base := rankBid(1, 2, 100, 5, "u", "e", "c")
	later := []struct {
		name string
		b    nexmark.Bid
	}{
		{"later time, lower price", rankBid(1, 2, 1, 6, "", "", "")},
		{"same time, higher price", rankBid(1, 2, 101, 5, "", "", "")},
		{"same time and price, greater url", rankBid(1, 2, 100, 5, "v", "", "")},
		{"same url, greater extra", rankBid(1, 2, 100, 5, "u", "f", "")},
		{"same extra, greater channel", rankBid(1, 2, 100, 5, "u", "e", "d")},
	}
	for _, c := range later {
		if got := nexmark.CompareLatest(&c.b, &base); got != 1 {
			t.Errorf("%s: CompareLatest(b, base) = %d, want 1", c.name, got)
		}
		if got := nexmark.CompareLatest(&base, &c.b); got != -1 {
			t.Errorf("%s: CompareLatest(base, b) = %d, want -1", c.name, got)
		}
	}
	same := base
	same.Auction, same.Bidder = 7, 8 // not compared: they are the key
	if got := nexmark.CompareLatest(&same, &base); got != 0 {
		t.Errorf("CompareLatest of equal bids = %d, want 0", got)
	}
	// sub-millisecond times count too
	sub := base
	sub.DateTime = sub.DateTime.Add(time.Microsecond)
	if got := nexmark.CompareLatest(&sub, &base); got != 1 {
		t.Errorf("CompareLatest a microsecond later = %d, want 1", got)
	}
}

// TestQ18EmitsOnlyChanges: a bid is emitted only when it becomes the
// latest of its bidder and auction.
func TestQ18EmitsOnlyChanges(t *testing.T) {
	bids := []nexmark.Bid{
		rankBid(1, 1, 50, 5, "u", "", ""),  // first: emitted
		rankBid(1, 1, 90, 3, "u", "", ""),  // earlier: dropped
		rankBid(1, 2, 10, 1, "u", "", ""),  // another bidder: emitted
		rankBid(1, 1, 40, 5, "u", "", ""),  // same ms, lower price: dropped
		rankBid(1, 1, 50, 5, "u", "", ""),  // the same bid again: dropped
		rankBid(1, 1, 60, 5, "u", "", ""),  // same ms, higher price: emitted
		rankBid(2, 1, 1, 0, "u", "", ""),   // another auction: emitted
		rankBid(1, 1, 60, 5, "v", "", ""),  // same ms and price, greater url: emitted
		rankBid(1, 1, 60, 5, "u", "x", ""), // smaller url: dropped
		rankBid(1, 1, 1, 6, "", "", ""),    // later: emitted
	}
	want := []nexmark.Bid{bids[0], bids[2], bids[5], bids[6], bids[7], bids[9]}
	for _, p := range []int{1, 3} {
		got := rankRun(t, nexmark.Q18, bids, p)
		if p > 1 { // keys interleave; each key's results keep their order
			rankSortByKey(got)
			rankSortByKey(want)
		}
		if !slices.Equal(got, want) {
			t.Errorf("p=%d: got\n%s\nwant\n%s", p, rankBidLines(got), rankBidLines(want))
		}
	}
}

func rankSortByKey(bs []nexmark.Bid) {
	slices.SortStableFunc(bs, func(a, b nexmark.Bid) int {
		if a.Bidder != b.Bidder {
			return int(a.Bidder - b.Bidder)
		}
		return int(a.Auction - b.Auction)
	})
}

func rankBidLines(bs []nexmark.Bid) string {
	var s string
	for _, b := range bs {
		s += "  " + nexmark.FormatBid(b) + "\n"
	}
	return s
}

// TestQ18OrderIndependent: whatever the order of the bids and the
// parallelism, every key's last result is its latest bid, and each key's
// results are strictly later one after the other.
func TestQ18OrderIndependent(t *testing.T) {
	rnd := rand.New(rand.NewPCG(testseed.Seed(t), 18))
	for round := range 6 {
		bids := randomTiedBids(rnd, 20+rnd.IntN(200))
		want := map[nexmark.BidderAuction]nexmark.Bid{}
		for _, b := range bids {
			k := nexmark.BidderAuction{Bidder: b.Bidder, Auction: b.Auction}
			if w, ok := want[k]; !ok || nexmark.CompareLatest(&b, &w) > 0 {
				want[k] = b
			}
		}
		rnd.Shuffle(len(bids), func(i, j int) { bids[i], bids[j] = bids[j], bids[i] })
		p := 1 + rnd.IntN(4)
		last := map[nexmark.BidderAuction]nexmark.Bid{}
		for _, b := range rankRun(t, nexmark.Q18, bids, p) {
			k := nexmark.BidderAuction{Bidder: b.Bidder, Auction: b.Auction}
			if prev, ok := last[k]; ok && nexmark.CompareLatest(&b, &prev) <= 0 {
				t.Fatalf("round %d, p=%d: key %v emitted %s after %s", round, p, k, nexmark.FormatBid(b), nexmark.FormatBid(prev))
			}
			last[k] = b
		}
		if len(last) != len(want) {
			t.Fatalf("round %d, p=%d: %d keys, want %d", round, p, len(last), len(want))
		}
		for k, w := range want {
			if last[k] != w {
				t.Errorf("round %d, p=%d: key %v ends with %s, want %s", round, p, k, nexmark.FormatBid(last[k]), nexmark.FormatBid(w))
			}
		}
	}
}

// TestBidderAuctionHash: the key hash is deterministic and tells the
// fields apart.
func TestBidderAuctionHash(t *testing.T) {
	h := operators.HashFunc[nexmark.BidderAuction]()
	a := nexmark.BidderAuction{Bidder: 1, Auction: 2}
	b := nexmark.BidderAuction{Bidder: 2, Auction: 1}
	if h(a) != h(nexmark.BidderAuction{Bidder: 1, Auction: 2}) {
		t.Error("the hash is not deterministic")
	}
	if h(a) == h(b) {
		t.Errorf("the hashes of %v and %v are equal", a, b)
	}
	// keys spread over key groups
	groups := map[uint64]bool{}
	for i := range int64(1000) {
		groups[h(nexmark.BidderAuction{Bidder: 1000 + i%37, Auction: 1000 + i/37})%128] = true
	}
	if len(groups) < 120 {
		t.Errorf("1000 keys fall in %d of 128 key groups", len(groups))
	}
	if n := testing.AllocsPerRun(100, func() { a.Auction++; _ = h(a) }); n != 0 {
		t.Errorf("hashing the key allocates %.1f times", n)
	}
}
