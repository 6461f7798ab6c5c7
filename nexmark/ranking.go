package nexmark

import (
	"cmp"
	"strings"
)

// The total orders of bids that q18 and q19 rank by. Flink's ROW_NUMBER
// breaks ties among rows equal in the ORDER BY columns arbitrarily (by
// arrival); here every column takes part, so the results do not depend on
// the order in which bids reach the operator, which differs with the
// parallelism. Two bids equal in every column are the same row, and either
// may stand for the other.

// CompareLatest orders two bids of one bidder and auction for q18 (ORDER BY
// dateTime DESC): it returns +1 if a is later than b, -1 if earlier and 0
// if they are equal in every column but Auction and Bidder. Bids of the
// same millisecond are ordered by Price (the higher later), then URL,
// Extra and Channel (byte-wise, the greater later).
func CompareLatest(a, b *Bid) int {
	if c := a.DateTime.Compare(b.DateTime); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Price, b.Price); c != 0 {
		return c
	}
	return compareText(a, b)
}

// RanksBefore reports whether a ranks before (above) b among the bids of one
// auction for q19 (ORDER BY price DESC): the higher price first; among equal
// prices the earlier bid, then the lower Bidder, then URL, Extra and
// Channel in byte-wise ascending order.
func RanksBefore(a, b *Bid) bool {
	if a.Price != b.Price {
		return a.Price > b.Price
	}
	if c := a.DateTime.Compare(b.DateTime); c != 0 {
		return c < 0
	}
	if a.Bidder != b.Bidder {
		return a.Bidder < b.Bidder
	}
	return compareText(a, b) < 0
}

// compareText compares the string columns of two bids: URL, Extra, Channel.
func compareText(a, b *Bid) int {
	if c := strings.Compare(a.URL, b.URL); c != 0 {
		return c
	}
	if c := strings.Compare(a.Extra, b.Extra); c != 0 {
		return c
	}
	return strings.Compare(a.Channel, b.Channel)
}
