package nexmark

import (
	"fmt"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// Aliases of the generator's types, so a query user needs one import.
type (
	Event   = gen.Event
	Person  = gen.Person
	Auction = gen.Auction
	Bid     = gen.Bid
	Options = gen.Options
)

// Events adds a Nexmark source to job. Records carry their event time
// (native timestamps of the generator); add a watermark strategy with
// WithWatermarks when a query needs event-time windows.
func Events(job *stream.Job, opts Options) (stream.DataStream[Event], error) {
	src, err := gen.NewSource(opts)
	if err != nil {
		return stream.DataStream[Event]{}, err
	}
	return stream.FromSource(job, "nexmark", src), nil
}

// Alignment is the watermark alignment `weir nexmark` and BenchmarkQuery
// run the queries with (runtime.WatermarkAlignment): a source subtask
// pauses when it is this far ahead of the slowest. Alignment compares
// watermarks, so it holds the queries that set event time (WithEventTime);
// the others' splits run free. Without it the splits drift apart at
// parallelism > 1, and more of the bids that name an auction of another
// split's previous block come before it (q4, q6, q9 hold them).
const Alignment = 5 * time.Millisecond

// Bids is the bid stream of events. It is one FlatMap rather than Filter
// then Map: an Event is large (all three records), and each operator
// copies it once more.
func Bids(events stream.DataStream[Event]) stream.DataStream[Bid] {
	return events.FlatMapRef(func(e *Event, emit func(Bid)) {
		if e.Kind == gen.KindBid {
			emit(e.Bid)
		}
	}).Name("bids")
}

// Q0 is pass through: SELECT auction, bidder, price, channel, url,
// dateTime, extra FROM bid. It measures the cost of the source and the
// framework.
func Q0(events stream.DataStream[Event]) stream.DataStream[Bid] {
	return Bids(events)
}

// Q1Result is a bid priced in euros.
type Q1Result struct {
	Auction  int64
	Bidder   int64
	Price    float64 // euros × 100
	DateTime time.Time
	Extra    string
}

// DollarToEuro is Q1's exchange rate.
const DollarToEuro = 0.908

// ToEuro is Q1's projection of one bid.
func ToEuro(b Bid) Q1Result {
	return Q1Result{Auction: b.Auction, Bidder: b.Bidder, Price: DollarToEuro * float64(b.Price), DateTime: b.DateTime, Extra: b.Extra}
}

// Q1 is currency conversion: SELECT auction, bidder, 0.908 * price AS
// price, dateTime, extra FROM bid.
func Q1(events stream.DataStream[Event]) stream.DataStream[Q1Result] {
	return Bids(events).Map(ToEuro)
}

// Q2Result is the auction and price of a selected bid.
type Q2Result struct {
	Auction int64
	Price   int64
}

// Q2Modulus selects Q2's auctions: those whose id is a multiple of it.
const Q2Modulus = 123

// Q2Selected reports whether Q2 keeps e: a bid on an auction whose id is a
// multiple of Q2Modulus.
func Q2Selected(e *Event) bool { return e.Kind == gen.KindBid && e.Bid.Auction%Q2Modulus == 0 }

// Q2 is selection: SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0.
func Q2(events stream.DataStream[Event]) stream.DataStream[Q2Result] {
	return events.FlatMapRef(func(e *Event, emit func(Q2Result)) {
		if Q2Selected(e) {
			emit(Q2Result{Auction: e.Bid.Auction, Price: e.Bid.Price})
		}
	}).Name("q2")
}

func handBids(src *gen.Source, n int64, f func(b *Bid)) {
	var e Event
	for i := range n {
		src.Fill(i, &e)
		if e.Kind == gen.KindBid {
			f(&e.Bid)
		}
	}
}

func bidTime(b *Bid) int64 { return b.DateTime.UnixNano() }

// FormatBid renders a bid for golden files.
func FormatBid(b Bid) string {
	return fmt.Sprintf("auction=%d bidder=%d price=%d channel=%s url=%s t=%s extra=%q",
		b.Auction, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime.Format(time.RFC3339Nano), b.Extra)
}

func init() {
	Register(Spec[Bid]{
		Name: "q0", Title: "pass through",
		Build:   Q0,
		Hand:    func(src *gen.Source, n int64, emit func(Bid)) { handBids(src, n, func(b *Bid) { emit(*b) }) },
		Format:  FormatBid,
		Due:     bidTime,
		Ordered: true,
	})
	Register(Spec[Q1Result]{
		Name: "q1", Title: "currency conversion",
		Build: Q1,
		Hand: func(src *gen.Source, n int64, emit func(Q1Result)) {
			handBids(src, n, func(b *Bid) { emit(ToEuro(*b)) })
		},
		Format: func(r Q1Result) string {
			return fmt.Sprintf("auction=%d bidder=%d price=%.4f t=%s extra=%q",
				r.Auction, r.Bidder, r.Price, r.DateTime.Format(time.RFC3339Nano), r.Extra)
		},
		Due:     func(r *Q1Result) int64 { return r.DateTime.UnixNano() },
		Ordered: true,
	})
	Register(Spec[Q2Result]{
		Name: "q2", Title: "selection",
		Build: Q2,
		Hand: func(src *gen.Source, n int64, emit func(Q2Result)) {
			handBids(src, n, func(b *Bid) {
				if b.Auction%Q2Modulus == 0 {
					emit(Q2Result{Auction: b.Auction, Price: b.Price})
				}
			})
		},
		Format:  func(r Q2Result) string { return fmt.Sprintf("auction=%d price=%d", r.Auction, r.Price) },
		Ordered: true,
	})
}
