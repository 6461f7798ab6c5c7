package nexmark

import (
	"fmt"
	"testing"
)

// TestQ4Average: the average of a category's winning prices, truncated
// like Flink's AVG of a BIGINT, updated at each closing; auctions without
// a bid in their range do not count.
func TestQ4Average(t *testing.T) {
	evs := []Event{
		auctionEv(1, 0, 10, 7, 10),
		auctionEv(2, 1, 20, 7, 10),
		auctionEv(3, 2, 30, 7, 11),
		auctionEv(4, 3, 40, 7, 10),
		bidEv(1, 1, 3, 4, ""),
		bidEv(2, 1, 4, 5, ""),
		bidEv(3, 1, 10, 6, ""),
		bidEv(2, 1, 2, 7, ""),
		bidEv(4, 1, 1, 41, ""), // after the expiry
		bidEv(9, 1, 1, 50, ""), // no such auction
	}
	for _, p := range []int{1, 3} {
		var got []string
		for _, r := range runEvents(t, evs, p, Q4) {
			got = append(got, fmt.Sprintf("category=%d avg=%d auctions=%d at=%d", r.Value.Category, r.Value.Avg, r.Value.Auctions, r.Time-t0.UnixMilli()))
		}
		wantLines(t, got,
			"category=10 avg=3 auctions=1 at=10",
			"category=10 avg=3 auctions=2 at=20", // (3+4)/2
			"category=11 avg=10 auctions=1 at=30")
	}
}
