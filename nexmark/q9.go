package nexmark

import (
	"fmt"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

// Q9Result is an auction with its winning bid: every column of the
// auction and the bid's bidder, price, dateTime and extra (Flink's q9
// columns; the bid's auction is the auction's ID).
type Q9Result struct {
	Auction     Auction
	Bidder      int64
	Price       int64
	BidDateTime time.Time
	BidExtra    string
}

// q9Auction is the part of an auction Q9 keeps until the auction closes:
// the columns that are not in Winner already (exported fields: keyed
// state).
type q9Auction struct {
	ItemName, Description string
	InitialBid, Reserve   int64
	Seller, Category      int64
	Extra                 string
}

// projectQ9 keeps the auction by pointer, which keeps the records of bids
// (of the same type) small; the auction is never changed afterwards, so
// state and snapshots may share it.
func projectQ9(a Auction) *q9Auction {
	return &q9Auction{ItemName: a.ItemName, Description: a.Description, InitialBid: a.InitialBid, Reserve: a.Reserve,
		Seller: a.Seller, Category: a.Category, Extra: a.Extra}
}

func q9Result(w Winner[*q9Auction]) Q9Result {
	return Q9Result{
		Auction: Auction{ID: w.Auction, ItemName: w.A.ItemName, Description: w.A.Description,
			InitialBid: w.A.InitialBid, Reserve: w.A.Reserve, DateTime: timeapi.Time(w.Start),
			Expires: timeapi.Time(w.Expires), Seller: w.A.Seller, Category: w.A.Category, Extra: w.A.Extra},
		Bidder: w.Bid.Bidder, Price: w.Bid.Price, BidDateTime: timeapi.Time(w.Bid.Time), BidExtra: w.Bid.Extra,
	}
}

// Q9 is the winning bids:
//
//	SELECT id, itemName, description, initialBid, reserve, dateTime,
//	  expires, seller, category, extra, auction, bidder, price,
//	  bid_dateTime, bid_extra
//	FROM (
//	  SELECT A.*, B.auction, B.bidder, B.price, B.dateTime AS bid_dateTime,
//	    B.extra AS bid_extra,
//	    ROW_NUMBER() OVER (PARTITION BY A.id
//	      ORDER BY B.price DESC, B.dateTime ASC) AS rownum
//	  FROM auction A, bid B
//	  WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
//	)
//	WHERE rownum <= 1
//
// It is WinningBids keeping the auction's columns and the bid's extra,
// then a Map to the result. Flink's result is an updating table whose
// final rows are these; here each auction's row is emitted once, when the
// watermark passes its expiry, with the expiry as event time. Ties of
// price and dateTime go to the lower bidder, then the smaller extra.
func Q9(events stream.DataStream[Event]) stream.DataStream[Q9Result] {
	return WinningBids(WithEventTime(events), projectQ9, true).Name("q9-winning").Map(q9Result).Name("q9")
}

func handQ9(src *gen.Source, n int64, emit func(Q9Result)) {
	handWinning(src, n, projectQ9, true, func(w *Winner[*q9Auction]) { emit(q9Result(*w)) })
}

// FormatAuction renders an auction for golden files.
func FormatAuction(a *Auction) string {
	return fmt.Sprintf("id=%d item=%q desc=%q initial=%d reserve=%d t=%s expires=%s seller=%d category=%d extra=%q",
		a.ID, a.ItemName, a.Description, a.InitialBid, a.Reserve, a.DateTime.Format(time.RFC3339Nano),
		a.Expires.Format(time.RFC3339Nano), a.Seller, a.Category, a.Extra)
}

// FormatQ9 renders a Q9 result.
func FormatQ9(r Q9Result) string {
	return fmt.Sprintf("%s | bidder=%d price=%d bid_t=%s bid_extra=%q", FormatAuction(&r.Auction),
		r.Bidder, r.Price, r.BidDateTime.Format(time.RFC3339Nano), r.BidExtra)
}

func init() {
	Register(Spec[Q9Result]{
		Name: "q9", Title: "winning bids",
		Build:      Q9,
		Hand:       handQ9,
		Format:     FormatQ9,
		Ordered:    true,
		TestEvents: 200_000,
	})
}
