package nexmark

import (
	"fmt"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/windowing"
)

// Q17Result is one auction and day of the auction statistics report.
type Q17Result struct {
	Auction                                int64
	Day                                    string   // yyyy-MM-dd (UTC)
	Bids                                   [4]int64 // total_bids, rank1_bids, rank2_bids, rank3_bids
	MinPrice, MaxPrice, AvgPrice, SumPrice int64
}

// auctionBid is the part of a bid q17 needs.
type auctionBid struct {
	Auction, Price int64
	Time           int64 // Unix ms
}

// AuctionStats is the accumulator of q17.
type AuctionStats struct {
	Bids          [4]int64
	Min, Max, Sum int64
}

type auctionAgg struct{}

func (auctionAgg) Init() AuctionStats { return AuctionStats{} }

func (g auctionAgg) Add(a AuctionStats, b auctionBid) AuctionStats {
	g.AddTo(&a, b)
	return a
}

// AddTo is Add on the stored accumulator (windowing.AdderTo).
func (auctionAgg) AddTo(a *AuctionStats, b auctionBid) {
	if a.Bids[0] == 0 || b.Price < a.Min {
		a.Min = b.Price
	}
	if a.Bids[0] == 0 || b.Price > a.Max {
		a.Max = b.Price
	}
	a.Bids[0]++
	a.Bids[priceRank(b.Price)+1]++
	a.Sum += b.Price
}

func (auctionAgg) Merge(a, b AuctionStats) AuctionStats {
	switch {
	case b.Bids[0] == 0:
		return a
	case a.Bids[0] == 0:
		return b
	}
	for i := range a.Bids {
		a.Bids[i] += b.Bids[i]
	}
	a.Min, a.Max, a.Sum = min(a.Min, b.Min), max(a.Max, b.Max), a.Sum+b.Sum
	return a
}

func (auctionAgg) Result(a AuctionStats) AuctionStats { return a }

func q17Result(auction, day int64, a AuctionStats) Q17Result {
	return Q17Result{Auction: auction, Day: formatDay(day), Bids: a.Bids,
		MinPrice: a.Min, MaxPrice: a.Max, AvgPrice: a.Sum / a.Bids[0], SumPrice: a.Sum}
}

// Q17 is the auction statistics report:
//
//	SELECT auction, DATE_FORMAT(dateTime, 'yyyy-MM-dd') AS `day`,
//	  count(*) AS total_bids,
//	  count(*) FILTER (WHERE price < 10000) AS rank1_bids,
//	  count(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
//	  count(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
//	  min(price) AS min_price, max(price) AS max_price,
//	  avg(price) AS avg_price, sum(price) AS sum_price
//	FROM bid
//	GROUP BY auction, DATE_FORMAT(dateTime, 'yyyy-MM-dd');
//
// The job is one one-day tumbling window keyed by auction with a small
// accumulator updated in place, emitting each (auction, day) row once when
// the watermark passes the end of the day; Flink emits an updating row per
// bid, with the same final values. avg_price is BIGINT as in Flink (the
// average of a BIGINT column): sum / count, truncated.
func Q17(events stream.DataStream[Event]) stream.DataStream[Q17Result] {
	return WithEventTime(events).FlatMapRef(func(e *Event, emit func(auctionBid)) {
		if e.Kind == gen.KindBid {
			emit(auctionBid{e.Bid.Auction, e.Bid.Price, e.Bid.DateTime.UnixMilli()})
		}
	}).Name("q17-bids").
		KeyBy(func(b auctionBid) int64 { return b.Auction }).
		Window(windowing.Tumbling(Day)).
		Aggregate(auctionAgg{}).
		Name("q17-auctions").
		Map(func(r windowing.Result[int64, AuctionStats]) Q17Result {
			return q17Result(r.Key, dayOf(r.Window.Start.UnixMilli()), r.Value)
		}).Name("q17")
}

type auctionDay struct{ auction, day int64 }

func handQ17(src *gen.Source, n int64, emit func(Q17Result)) {
	groups := map[auctionDay]*AuctionStats{}
	var agg auctionAgg
	handBids(src, n, func(b *Bid) {
		k := auctionDay{b.Auction, dayOf(b.DateTime.UnixMilli())}
		a := groups[k]
		if a == nil {
			a = &AuctionStats{}
			groups[k] = a
		}
		*a = agg.Add(*a, auctionBid{Auction: b.Auction, Price: b.Price})
	})
	for k, a := range groups {
		emit(q17Result(k.auction, k.day, *a))
	}
}

func init() {
	Register(Spec[Q17Result]{
		Name: "q17", Title: "auction statistics report",
		Build: Q17,
		Hand:  handQ17,
		Format: func(r Q17Result) string {
			return fmt.Sprintf("auction=%d day=%s bids=%d/%d/%d/%d min=%d max=%d avg=%d sum=%d",
				r.Auction, r.Day, r.Bids[0], r.Bids[1], r.Bids[2], r.Bids[3], r.MinPrice, r.MaxPrice, r.AvgPrice, r.SumPrice)
		},
		Due: func(r *Q17Result) int64 { return windowDue(parseDay(r.Day).Add(Day)) },
	})
}
