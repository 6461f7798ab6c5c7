package nexmark

import (
	"fmt"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

// Q7Window is the length of Q7's tumbling windows.
const Q7Window = 10 * time.Second

// Q7Result is a bid with the highest price of its window.
type Q7Result struct {
	Auction  int64
	Price    int64
	Bidder   int64
	DateTime time.Time
	Extra    string
	End      time.Time // end of the window
}

// Q7 is highest bid: the bids with the highest price of each 10 s
// tumbling window.
//
//	SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
//	FROM bid B
//	JOIN (SELECT MAX(price) AS maxprice, window_end AS dateTime
//	      FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
//	      GROUP BY window_start, window_end) B1
//	ON B.price = B1.maxprice
//	WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime
//
// The job aggregates in two phases. Every subtask of the source's chain
// keeps, per window, its own highest price and the bids at that price (a
// Transform: bids never cross an exchange) and emits them when the
// watermark passes the window's end; a process function keyed by window
// end merges the subtasks' candidates and emits the bids at the global
// maximum (all ties) when the watermark passes the end.
//
// Deviation: a bid belongs to the window [start, end) holding its time.
// The SQL's BETWEEN is inclusive at both ends, so a bid at exactly a
// window's end (which starts the next window) would also be compared with
// the previous window's maximum and, at the same price, be reported for
// both windows; here it is reported for its own window only.
func Q7(events stream.DataStream[Event]) stream.DataStream[Q7Result] {
	const size = int64(Q7Window / time.Millisecond)
	return winTopOf(WithEventTime(events), "q7-max",
		func(e *Event, ts int64) (end, price int64, ok bool) {
			return winStart(ts, size) + size, e.Bid.Price, e.Kind == gen.KindBid
		},
		func(e *Event) Bid { return e.Bid },
		func(end, _ int64, b *Bid) Q7Result { return q7Result(b, end) })
}

func q7Result(b *Bid, end int64) Q7Result {
	return Q7Result{Auction: b.Auction, Price: b.Price, Bidder: b.Bidder, DateTime: b.DateTime, Extra: b.Extra, End: timeapi.Time(end)}
}

// handQ7On keeps the current window's highest price and its bids, and
// emits them when a bid of a later window arrives.
func handQ7On(events winEvents, emit func(Q7Result)) {
	const size = int64(Q7Window / time.Millisecond)
	var cur winTop[Bid]
	flush := func() {
		for i := range cur.Items {
			emit(q7Result(&cur.Items[i], cur.End))
		}
		cur.Items = cur.Items[:0]
	}
	events(func(e *Event, ts int64) {
		if e.Kind != gen.KindBid {
			return
		}
		if end := winStart(ts, size) + size; end != cur.End {
			flush()
			cur.End = end
		}
		b := &e.Bid
		switch {
		case len(cur.Items) == 0 || b.Price > cur.Score:
			cur.Score, cur.Items = b.Price, append(cur.Items[:0], *b)
		case b.Price == cur.Score:
			cur.Items = append(cur.Items, *b)
		}
	})
	flush()
}

// formatQ7 renders a result for golden files and comparisons.
func formatQ7(r Q7Result) string {
	return fmt.Sprintf("window_end=%s auction=%d price=%d bidder=%d t=%s extra=%q",
		winTime(r.End), r.Auction, r.Price, r.Bidder, r.DateTime.Format(time.RFC3339Nano), r.Extra)
}

func init() {
	Register(Spec[Q7Result]{
		Name: "q7", Title: "highest bid",
		Build:      Q7,
		Hand:       func(src *gen.Source, n int64, emit func(Q7Result)) { handQ7On(winGen(src, n), emit) },
		Format:     formatQ7,
		Due:        func(r *Q7Result) int64 { return windowDue(r.End) },
		TestEvents: 300_000,
	})
}
