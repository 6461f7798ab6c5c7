package nexmark

import (
	"fmt"
	"testing"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/testkit"
)

// TestQ20Join: a bid waits for its auction and is joined when it comes
// (with the auction's event time); later bids are joined at once; bids of
// an auction of another category, before or after it, give nothing; a
// second auction with the same id does not replace the first.
func TestQ20Join(t *testing.T) {
	h, err := testkit.NewHarness(func(in q20In) int64 { return in.auction }, &q20Fn{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	push := func(e Event) {
		t.Helper()
		var in q20In
		if b := &e.Bid; e.Kind == gen.KindBid {
			in = q20In{auction: b.Auction, isBid: true, b: projectQ20Bid(b)}
		} else {
			a := &e.Auction
			in = q20In{auction: a.ID}
			if a.Category == Q20Category {
				p := projectQ20(a)
				in.a = &p
			}
		}
		if err := h.Push(in, e.Time()); err != nil {
			t.Fatal(err)
		}
	}
	push(bidEv(1, 1, 10, 1, "early"))
	push(bidEv(2, 2, 20, 2, "other category, early"))
	push(auctionEv(1, 3, 50, 7, 10))
	push(auctionEv(2, 4, 50, 7, 11))
	push(bidEv(1, 3, 30, 5, "later"))
	push(bidEv(2, 4, 40, 6, "other category"))
	a := auctionEv(1, 7, 60, 8, 10)
	a.Auction.ItemName = "second"
	push(a)
	push(bidEv(1, 5, 50, 8, "after the second"))
	var got []string
	for _, r := range h.TakeOutput() {
		got = append(got, fmt.Sprintf("bid=%s auction=%d item=%s category=%d at=%d",
			r.Value.Bid.Extra, r.Value.Auction.ID, r.Value.Auction.ItemName, r.Value.Auction.Category, r.Time-t0.UnixMilli()))
	}
	wantLines(t, got,
		"bid=early auction=1 item=item-1 category=10 at=3",
		"bid=later auction=1 item=item-1 category=10 at=5",
		"bid=after the second auction=1 item=item-1 category=10 at=8")
}

// TestQ20Columns: a result carries every column of the bid and of the
// auction.
func TestQ20Columns(t *testing.T) {
	a, b := auctionEv(1, 3, 50, 7, 10), bidEv(1, 2, 30, 5, "x")
	rs := runEvents(t, []Event{a, b}, 2, Q20)
	if len(rs) != 1 {
		t.Fatalf("%d results, want 1", len(rs))
	}
	if got := rs[0].Value; got.Bid != b.Bid || got.Auction != a.Auction {
		t.Errorf("got\n  %+v\nwant\n  %+v", got, Q20Result{Bid: b.Bid, Auction: a.Auction})
	}
}
