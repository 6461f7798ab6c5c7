package nexmark

import (
	"fmt"
	"testing"
	"time"
)

func q8Line(start time.Duration, id int64, name string) string {
	return formatQ8(Q8Result{ID: id, Name: name, Start: wat(start)})
}

// TestQ8Windows: a person reported once however many auctions they open
// in their window, also when the auction comes first; an auction in the
// next window or by someone else does not count.
func TestQ8Windows(t *testing.T) {
	s := time.Second
	events := []Event{
		auctionAt(0, 100, 2), // before person 2 registers, same window
		personAt(1*s, 1, "ann"),
		personAt(2*s, 2, "bob"),
		auctionAt(3*s, 101, 1),
		auctionAt(4*s, 102, 1), // ann's second auction: still one row
		personAt(5*s, 3, "cid"),
		auctionAt(6*s, 103, 99), // an unknown seller
		auctionAt(10*s, 104, 3), // cid, but in the next window
		personAt(15*s, 4, "dan"),
		auctionAt(19*s+999*time.Millisecond, 105, 4),
		bidAt(19*s, 105, 1, 10), // bids do not matter
	}
	want := []string{q8Line(0, 1, "ann"), q8Line(0, 2, "bob"), q8Line(10*s, 4, "dan")}
	checkLines(t, "hand-written loop", handOn(events, handQ8On, formatQ8), want)
	for p := 1; p <= 3; p++ {
		checkLines(t, fmt.Sprintf("job at p=%d", p), runOn(t, Q8, formatQ8, events, p), want)
	}
}
