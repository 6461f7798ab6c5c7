package nexmark

import (
	"fmt"
	"slices"
	"testing"
)

// TestQ3Join: a match is emitted once whichever of person and auction
// comes first; persons of other states and auctions of other categories
// give nothing. (A match carries the event time of whichever of the two
// reached the join last, which at any parallelism depends on how the
// join's two inputs interleave.)
func TestQ3Join(t *testing.T) {
	evs := []Event{
		personEv(1, "Ann", "Bend", "OR", 0),
		auctionEv(10, 1, 100, 1, 10), // after its seller
		auctionEv(11, 2, 100, 2, 10), // before its seller
		personEv(2, "Bob", "Boise", "ID", 3),
		personEv(3, "Cid", "Kent", "WA", 4),
		auctionEv(12, 5, 100, 3, 10), // seller of another state
		auctionEv(13, 6, 100, 1, 11), // another category
		auctionEv(14, 7, 100, 2, 10),
		auctionEv(15, 8, 100, 9, 10), // seller never comes
	}
	for _, p := range []int{1, 2} {
		var got []string
		for _, r := range runEvents(t, evs, p, Q3) {
			got = append(got, fmt.Sprintf("%s %s %s %d", r.Value.Name, r.Value.City, r.Value.State, r.Value.ID))
		}
		slices.Sort(got)
		wantLines(t, got, "Ann Bend OR 10", "Bob Boise ID 11", "Bob Boise ID 14")
	}
}
