package nexmark

import (
	"fmt"
	"testing"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
)

// q7Line is the formatted result of a bid made by bidAt.
func q7Line(end time.Duration, e Event) string {
	return formatQ7(q7Result(&e.Bid, wat(end).UnixMilli()))
}

// TestQ7Windows: ties at the maximum (from different splits), a bid at a
// window's end (in the next window only), a window without bids, and the
// hand-written loop agrees.
func TestQ7Windows(t *testing.T) {
	s := time.Second
	events := []Event{
		bidAt(0, 1, 10, 50),
		bidAt(1*s, 2, 11, 70),
		bidAt(2*s, 3, 12, 70), // tie with the one before
		bidAt(3*s, 4, 13, 20),
		bidAt(9*s+999*time.Millisecond, 5, 14, 70), // tie, last instant of the window
		bidAt(10*s, 6, 15, 70),                     // the next window's first instant
		bidAt(11*s, 7, 16, 10),
		// no bid in [20 s, 30 s)
		bidAt(30*s, 8, 17, 5),
		bidAt(31*s, 9, 18, 5),
	}
	want := []string{
		q7Line(10*s, events[1]), q7Line(10*s, events[2]), q7Line(10*s, events[4]),
		q7Line(20*s, events[5]),
		q7Line(40*s, events[7]), q7Line(40*s, events[8]),
	}
	checkLines(t, "hand-written loop", handOn(events, handQ7On, formatQ7), want)
	for p := 1; p <= 3; p++ {
		checkLines(t, fmt.Sprintf("job at p=%d", p), runOn(t, Q7, formatQ7, events, p), want)
	}
}

// TestQ7NoBids: people and auctions only give no result.
func TestQ7NoBids(t *testing.T) {
	events := []Event{personAt(0, 1, "a"), auctionAt(time.Second, 2, 1), personAt(12*time.Second, 3, "b")}
	if got := runOn(t, Q7, formatQ7, events, 2); len(got) != 0 {
		t.Errorf("results without bids: %q", got)
	}
}

// TestWinTopMerge: merging subtasks' tops keeps the highest score and all
// its items; a merged top appended to does not write into the merged
// one's items.
func TestWinTopMerge(t *testing.T) {
	a := winTop[int64]{End: 10, Score: 5, Items: []int64{1}}
	a.merge(&winTop[int64]{End: 10, Score: 3, Items: []int64{2}})
	if a.Score != 5 || len(a.Items) != 1 {
		t.Fatalf("a lower top changed the top: %+v", a)
	}
	b := winTop[int64]{End: 10, Score: 5, Items: make([]int64, 1, 8)}
	b.Items[0] = 3
	a.merge(&b)
	if a.Score != 5 || len(a.Items) != 2 || a.Items[1] != 3 {
		t.Fatalf("a tie was not added: %+v", a)
	}
	var c winTop[int64]
	c.merge(&b)
	c.merge(&winTop[int64]{End: 10, Score: 5, Items: []int64{4}})
	if len(c.Items) != 2 || b.Items[:2][1] == 4 {
		t.Fatalf("merging into a copy of b's items wrote into b: c %+v, b %+v", c, b.Items[:2])
	}
	c.merge(&winTop[int64]{End: 10, Score: 9, Items: []int64{6}})
	if c.Score != 9 || len(c.Items) != 1 || c.Items[0] != 6 {
		t.Fatalf("a higher top did not replace the items: %+v", c)
	}
	c.merge(&winTop[int64]{End: 10})
	if c.Score != 9 || len(c.Items) != 1 {
		t.Fatalf("an empty top changed the top: %+v", c)
	}
}

// TestWinTopLocalSnapshot: the local phase's open windows survive a
// snapshot; a restore gives them to the first subtask only, and they are
// emitted once the watermark passes the window's end.
func TestWinTopLocalSnapshot(t *testing.T) {
	newOp := func() *winTopLocal[Event, Bid] {
		return &winTopLocal[Event, Bid]{
			score: func(e *Event, ts int64) (int64, int64, bool) {
				return winStart(ts, 10_000) + 10_000, e.Bid.Price, e.Kind == gen.KindBid
			},
			item: func(e *Event) Bid { return e.Bid },
		}
	}
	op := newOp()
	d, _ := openLocal(t, op, 0)
	pushEvents(t, d, bidAt(time.Second, 1, 1, 40), bidAt(2*time.Second, 2, 2, 40), bidAt(12*time.Second, 3, 3, 7))
	eachRestored(t, op, newOp, func(s int, r *winTopLocal[Event, Bid], d operators.Operator, out *collectOut[winTop[Bid]]) {
		pushEvents(t, d, bidAt(3*time.Second, 4, 4, 40), bidAt(4*time.Second, 5, 5, 30))
		if err := d.Watermark(wat(10*time.Second).UnixMilli() - 1); err != nil {
			t.Fatal(err)
		}
		var auctions []int64
		for _, w := range out.vals {
			if w.End != wat(10*time.Second).UnixMilli() || w.Score != 40 {
				t.Fatalf("subtask %d emitted %+v", s, w)
			}
			for _, b := range w.Items {
				auctions = append(auctions, b.Auction)
			}
		}
		want := []int64{1, 2, 4}
		if s == 1 {
			want = []int64{4}
		}
		if fmt.Sprint(auctions) != fmt.Sprint(want) {
			t.Errorf("subtask %d emitted the bids on auctions %v, want %v", s, auctions, want)
		}
		if open := len(r.open); open != 1-s {
			t.Errorf("subtask %d keeps %d windows open, want %d", s, open, 1-s)
		}
	})
}
