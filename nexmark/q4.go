package nexmark

import (
	"fmt"
	"strconv"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// Q4Result is the average winning price of the closed auctions of a
// category so far (an upsert: a later result of the category replaces an
// earlier one).
type Q4Result struct {
	Category int64
	// Avg is AVG(final): Flink's AVG of a BIGINT column is a BIGINT, the
	// sum divided by the count, truncated.
	Avg int64
	// Auctions is the number of closed auctions averaged (not a column of
	// the SQL; it makes the results checkable).
	Auctions int64
}

// q4Acc is Q4's per-category accumulator (keyed state: exported fields).
type q4Acc struct{ Category, Sum, Count int64 }

func (a q4Acc) result() Q4Result {
	return Q4Result{Category: a.Category, Avg: a.Sum / a.Count, Auctions: a.Count}
}

// Q4 is the average price per category:
//
//	SELECT Q.category, AVG(Q.final)
//	FROM (
//	  SELECT MAX(B.price) AS final, A.category
//	  FROM auction A, bid B
//	  WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
//	  GROUP BY A.id, A.category
//	) Q
//	GROUP BY Q.category
//
// The inner query is WinningBids (the highest bid of each auction, found
// when the auction closes at its expiry); the outer one a rolling Reduce
// of sum and count keyed by category, which emits the category's new
// average for every closed auction. Flink's result is an updating table;
// this one emits the same final row per category (and the same sequence
// of updates per category up to the order in which auctions of equal
// expiry close). Auctions without a bid in their time range do not count,
// as in the inner join.
func Q4(events stream.DataStream[Event]) stream.DataStream[Q4Result] {
	return WinningBids(WithEventTime(events), auctionCategory, false).Name("q4-winning").
		Map(func(w Winner[int64]) q4Acc { return q4Acc{Category: w.A, Sum: w.Bid.Price, Count: 1} }).Name("q4-final").
		KeyBy(func(a q4Acc) int64 { return a.Category }).
		Reduce(func(acc, v q4Acc) q4Acc {
			acc.Sum += v.Sum
			acc.Count += v.Count
			return acc
		}).Name("q4-average").
		Map(q4Acc.result).Name("q4")
}

func auctionCategory(a Auction) int64 { return a.Category }

func handQ4(src *gen.Source, n int64, emit func(Q4Result)) {
	cats := map[int64]*q4Acc{}
	handWinning(src, n, auctionCategory, false, func(w *Winner[int64]) {
		a := cats[w.A]
		if a == nil {
			a = &q4Acc{Category: w.A}
			cats[w.A] = a
		}
		a.Sum += w.Bid.Price
		a.Count++
		emit(a.result())
	})
}

func init() {
	Register(Spec[Q4Result]{
		Name: "q4", Title: "average price for a category",
		Build: Q4,
		Hand:  handQ4,
		Format: func(r Q4Result) string {
			return fmt.Sprintf("category=%d avg=%d auctions=%d", r.Category, r.Avg, r.Auctions)
		},
		Key:        func(r Q4Result) string { return strconv.FormatInt(r.Category, 10) },
		TestEvents: 200_000,
	})
}
