package nexmark_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/nexmark"
)

func TestRanksBefore(t *testing.T) {
	base := rankBid(1, 5, 100, 5, "u", "e", "c")
	before := []struct {
		name string
		b    nexmark.Bid
	}{
		{"higher price, later", rankBid(1, 9, 101, 9, "z", "z", "z")},
		{"same price, earlier", rankBid(1, 9, 100, 4, "z", "z", "z")},
		{"same price and time, lower bidder", rankBid(1, 4, 100, 5, "z", "z", "z")},
		{"same bidder, smaller url", rankBid(1, 5, 100, 5, "t", "z", "z")},
		{"same url, smaller extra", rankBid(1, 5, 100, 5, "u", "d", "z")},
		{"same extra, smaller channel", rankBid(1, 5, 100, 5, "u", "e", "b")},
	}
	for _, c := range before {
		if !nexmark.RanksBefore(&c.b, &base) || nexmark.RanksBefore(&base, &c.b) {
			t.Errorf("%s: want b before base and not base before b", c.name)
		}
	}
	same := base
	if nexmark.RanksBefore(&same, &base) || nexmark.RanksBefore(&base, &same) {
		t.Error("equal bids rank before each other")
	}
}

// rankCmp is the order of RanksBefore as a comparison function.
func rankCmp(a, b nexmark.Bid) int {
	switch {
	case nexmark.RanksBefore(&a, &b):
		return -1
	case nexmark.RanksBefore(&b, &a):
		return 1
	}
	return 0
}

// TestTopBidsOffer checks TopBids against sorting every bid offered so
// far, with many ties.
func TestTopBidsOffer(t *testing.T) {
	rnd := rand.New(rand.NewPCG(testseed.Seed(t), 19))
	for round := range 50 {
		var top nexmark.TopBids
		var all []nexmark.Bid
		for step := range 1 + rnd.IntN(60) {
			b := randomTiedBids(rnd, 1)[0]
			b.Auction = 1
			prev := top
			i := top.Offer(&b)
			all = append(all, b)
			ref := slices.Clone(all)
			slices.SortStableFunc(ref, rankCmp)
			ref = ref[:min(len(ref), nexmark.TopN)]
			if !slices.Equal(top.Bids[:top.N], ref) {
				t.Fatalf("round %d step %d: top %v, want %v", round, step, top.Bids[:top.N], ref)
			}
			if i < 0 {
				if top != prev {
					t.Fatalf("round %d step %d: Offer returned -1 but changed the top", round, step)
				}
				continue
			}
			if top.Bids[i] != b || !slices.Equal(top.Bids[:i], prev.Bids[:i]) ||
				!slices.Equal(top.Bids[i+1:top.N], prev.Bids[i:top.N-1]) {
				t.Fatalf("round %d step %d: Offer returned %d: before %v, after %v", round, step, i, prev.Bids[:prev.N], top.Bids[:top.N])
			}
		}
	}
}

// TestTopBidsRejectsFast: a full top rejects a bid that does not beat its
// last one, even when it would beat the first (only the last is looked at).
func TestTopBidsRejectsFast(t *testing.T) {
	var top nexmark.TopBids
	for p := range int64(nexmark.TopN) {
		b := rankBid(1, 1, 100+p, 0, "", "", "")
		if i := top.Offer(&b); i != 0 {
			t.Fatalf("price %d entered at %d, want 0", b.Price, i)
		}
	}
	low := rankBid(1, 1, 100, 1, "", "", "") // ties the last in price, later
	if i := top.Offer(&low); i != -1 {
		t.Errorf("a bid tied with the last but later entered at %d", i)
	}
	tieEarlier := rankBid(1, 1, 100, -1, "", "", "")
	if i := top.Offer(&tieEarlier); i != nexmark.TopN-1 {
		t.Errorf("a bid tied with the last but earlier entered at %d, want %d", i, nexmark.TopN-1)
	}
}

func q19Line(r nexmark.Q19Result) string { return nexmark.FormatQ19(r) }

// TestQ19Emissions: a bid entering at rank r emits ranks r to the number
// held; a bid that does not enter emits nothing.
func TestQ19Emissions(t *testing.T) {
	var bids []nexmark.Bid
	for i := range 10 {
		bids = append(bids, rankBid(1, 1, int64(10*(i+1)), i, "", "", "")) // each enters at rank 1
	}
	bids = append(bids,
		rankBid(1, 2, 5, 20, "", "", ""),    // below all ten: nothing
		rankBid(1, 2, 55, 20, "", "", ""),   // between 60 and 50: rank 6, 6..10 emitted
		rankBid(1, 3, 55, 19, "", "", ""),   // tie at 55 but earlier: rank 6, 6..10
		rankBid(2, 1, 7, 0, "", "", ""),     // another auction: its rank 1
		rankBid(1, 4, 100, 30, "", "", ""),  // tie with the best, later: rank 2, 2..10
		rankBid(1, 4, 20, 31, "", "", ""),   // below the last (30): nothing
		rankBid(1, 5, 1000, 40, "", "", ""), // the best: 1..10
	)
	var want []string
	r := func(b nexmark.Bid, rank int64) string {
		return q19Line(nexmark.Q19Result{Bid: b, Rank: rank})
	}
	for i := range 10 {
		for j := i; j >= 0; j-- { // bid i at rank 1, older ones below
			want = append(want, r(bids[j], int64(i-j+1)))
		}
	}
	// after the ten: 100 90 80 70 60 50 40 30 20 10
	want = append(want, r(bids[11], 6), r(bids[4], 7), r(bids[3], 8), r(bids[2], 9), r(bids[1], 10))
	// 100 90 80 70 60 55(b11) 50 40 30 20
	want = append(want, r(bids[12], 6), r(bids[11], 7), r(bids[4], 8), r(bids[3], 9), r(bids[2], 10))
	// 100 90 80 70 60 55(b12) 55(b11) 50 40 30
	want = append(want, r(bids[13], 1))
	want = append(want, r(bids[14], 2), r(bids[8], 3), r(bids[7], 4), r(bids[6], 5), r(bids[5], 6),
		r(bids[12], 7), r(bids[11], 8), r(bids[4], 9), r(bids[3], 10))
	// 100 100(b14) 90 80 70 60 55 55 50 40
	want = append(want, r(bids[16], 1), r(bids[9], 2), r(bids[14], 3), r(bids[8], 4), r(bids[7], 5), r(bids[6], 6),
		r(bids[5], 7), r(bids[12], 8), r(bids[11], 9), r(bids[4], 10))
	for _, p := range []int{1, 2} {
		got := mapLines(rankRun(t, nexmark.Q19, bids, p), q19Line)
		if p > 1 { // auctions interleave; each auction's results keep their order
			slices.SortStableFunc(got, func(a, b string) int { return rankCompareAuction(a, b) })
			slices.SortStableFunc(want, func(a, b string) int { return rankCompareAuction(a, b) })
		}
		if !slices.Equal(got, want) {
			t.Errorf("p=%d: first difference at %d of %d/%d:\n got  %s\n want %s", p, firstDiff(got, want), len(got), len(want),
				rankLineAt(got, firstDiff(got, want)), rankLineAt(want, firstDiff(got, want)))
		}
	}
}

func rankLineAt(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(end)"
}

// rankCompareAuction orders lines "auction=N ..." by N.
func rankCompareAuction(a, b string) int {
	var x, y int64
	fmt.Sscanf(a, "auction=%d", &x)
	fmt.Sscanf(b, "auction=%d", &y)
	return int(x - y)
}

// q19Reference is the final top TopN of every auction of bids, by sorting.
func q19Reference(bids []nexmark.Bid) []string {
	by := map[int64][]nexmark.Bid{}
	for _, b := range bids {
		by[b.Auction] = append(by[b.Auction], b)
	}
	var out []string
	for _, bs := range by {
		slices.SortStableFunc(bs, rankCmp)
		for i, b := range bs[:min(len(bs), nexmark.TopN)] {
			out = append(out, q19Line(nexmark.Q19Result{Bid: b, Rank: int64(i + 1)}))
		}
	}
	slices.Sort(out)
	return out
}

// q19Final reduces q19 results to the last per auction and rank.
func q19Final(rs []nexmark.Q19Result) []string {
	type key struct{ auction, rank int64 }
	last := map[key]nexmark.Q19Result{}
	for _, r := range rs {
		last[key{r.Auction, r.Rank}] = r
	}
	var out []string
	for _, r := range last {
		out = append(out, q19Line(r))
	}
	slices.Sort(out)
	return out
}

// TestQ19OrderIndependent: whatever the order of the bids and the
// parallelism, the final ranks are the reference's.
func TestQ19OrderIndependent(t *testing.T) {
	rnd := rand.New(rand.NewPCG(testseed.Seed(t), 191))
	for round := range 6 {
		bids := randomTiedBids(rnd, 20+rnd.IntN(200))
		want := q19Reference(bids)
		rnd.Shuffle(len(bids), func(i, j int) { bids[i], bids[j] = bids[j], bids[i] })
		p := 1 + rnd.IntN(4)
		if got := q19Final(rankRun(t, nexmark.Q19, bids, p)); !slices.Equal(got, want) {
			i := firstDiff(got, want)
			t.Errorf("round %d, p=%d: %d final rows, want %d; first difference at %d:\n got  %s\n want %s",
				round, p, len(got), len(want), i, rankLineAt(got, i), rankLineAt(want, i))
		}
	}
}
