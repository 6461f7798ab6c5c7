package nexmark

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

// Q6Auctions is how many of a seller's latest closed auctions Q6 averages.
const Q6Auctions = 10

// Q6Result is the average selling price of a seller's latest closed
// auctions, emitted when one of them closes (an upsert by seller).
type Q6Result struct {
	Seller int64
	// Avg is the average winning price of the seller's last (up to)
	// Q6Auctions closed auctions, truncated to whole cents like Beam's
	// Query6 (a long).
	Avg int64
	// Auction and Expires are the auction whose closing gave this result
	// (not columns of the query; they make results checkable).
	Auction int64
	Expires time.Time
}

// q6Closed is a closed auction of a seller: its id and winning price.
type q6Closed struct{ Auction, Price int64 }

// q6State is Q6's keyed state per seller (exported fields: encoding/gob):
// the latest winning prices.
type q6State struct {
	Last [Q6Auctions]int64 // a ring
	N    int64             // how many auctions have closed
}

// add takes the winning price of the seller's next closed auction and
// returns the seller's new average.
func (s *q6State) add(price int64) int64 {
	s.Last[s.N%Q6Auctions] = price
	s.N++
	k := min(s.N, Q6Auctions)
	sum := int64(0)
	for _, p := range s.Last[:k] {
		sum += p
	}
	return sum / k
}

func cmpQ6Closed(a, b q6Closed) int { return cmp.Compare(a.Auction, b.Auction) }

// q6Fn keeps, per seller, the latest winning prices and the closed
// auctions not yet taken, by expiry. Closed auctions of a seller come from
// many subtasks of the winning-bids operator in any order; each waits for
// an event-time timer at its expiry, and when the watermark passes an
// expiry every closed auction up to it has come (those of earlier
// expiries were taken by earlier timers): the ones of that expiry are
// taken in order of auction id.
type q6Fn struct {
	prices  *stream.ValueState[int64, q6State]
	closing *stream.MapState[int64, int64, []q6Closed] // expiry (Unix ms) -> auctions
}

func (f *q6Fn) Open(ctx *stream.OpenContext[int64]) error {
	var err error
	if f.prices, err = stream.NewValueState[q6State](ctx, "prices"); err != nil {
		return err
	}
	f.closing, err = stream.NewMapState[int64, []q6Closed](ctx, "closing")
	return err
}

func (f *q6Fn) ProcessElement(ctx *stream.Context[int64, Q6Result], w Winner[int64]) error {
	cs, _ := f.closing.Get(w.Expires)
	f.closing.Put(w.Expires, append(cs, q6Closed{Auction: w.Auction, Price: w.Bid.Price})) // writes past what a snapshot sees
	ctx.RegisterEventTimeTimer(timeapi.Time(w.Expires))
	return nil
}

func (f *q6Fn) OnTimer(ctx *stream.Context[int64, Q6Result], t stream.Timer) error {
	at := timeapi.Millis(t.Time)
	cs, ok := f.closing.Get(at)
	if !ok {
		return nil
	}
	f.closing.Delete(at)
	if !slices.IsSortedFunc(cs, cmpQ6Closed) { // sort a copy: a snapshot may share cs
		cs = slices.SortedFunc(slices.Values(cs), cmpQ6Closed)
	}
	s, _ := f.prices.Value()
	for _, c := range cs {
		ctx.Emit(Q6Result{Seller: ctx.Key(), Avg: s.add(c.Price), Auction: c.Auction, Expires: t.Time})
	}
	f.prices.Update(s)
	return nil
}

// Q6 is the average selling price by seller, Nexmark's (Beam's) Query 6:
// for every closed auction, the average winning price of the seller's
// last Q6Auctions closed auctions. Flink's suite states it as
//
//	SELECT Q.seller, AVG(Q.final) OVER (PARTITION BY Q.seller
//	  ORDER BY Q.dateTime ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)
//	FROM (
//	  SELECT MAX(B.price) AS final, A.seller, B.dateTime
//	  FROM auction AS A, bid AS B
//	  WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
//	  GROUP BY A.id, A.seller
//	) AS Q
//
// but cannot run it (an OVER window over an updating input). Here, as in
// Beam, the auctions are taken when they close: WinningBids keeping the
// seller, then a Process keyed by seller (q6Fn) that takes a seller's
// closed auctions in order of (expiry, auction id), once the watermark has
// passed them, so that the emitted sequence does not depend on the
// parallelism. The window is the last 10 auctions (Beam), not Flink's 11
// rows, in the order the auctions close; Beam keeps the 10 whose winning
// bids are latest, which differs only when a later-closing auction has an
// earlier winning bid. Auctions without a bid in their time range do not
// count.
func Q6(events stream.DataStream[Event]) stream.DataStream[Q6Result] {
	return WinningBids(WithEventTime(events), auctionSeller, false).Name("q6-winning").
		KeyBy(func(w Winner[int64]) int64 { return w.A }).
		Process(&q6Fn{}).Name("q6")
}

func auctionSeller(a Auction) int64 { return a.Seller }

func handQ6(src *gen.Source, n int64, emit func(Q6Result)) {
	sellers := map[int64]*q6State{}
	handWinning(src, n, auctionSeller, false, func(w *Winner[int64]) {
		s := sellers[w.A]
		if s == nil {
			s = new(q6State)
			sellers[w.A] = s
		}
		emit(Q6Result{Seller: w.A, Avg: s.add(w.Bid.Price), Auction: w.Auction, Expires: timeapi.Time(w.Expires)})
	})
}

// FormatQ6 renders a Q6 result.
func FormatQ6(r Q6Result) string {
	return fmt.Sprintf("seller=%d avg=%d auction=%d expires=%s", r.Seller, r.Avg, r.Auction, r.Expires.Format(time.RFC3339Nano))
}

func init() {
	Register(Spec[Q6Result]{
		Name: "q6", Title: "average selling price by seller",
		Build:      Q6,
		Hand:       handQ6,
		Format:     FormatQ6,
		Key:        func(r Q6Result) string { return strconv.FormatInt(r.Seller, 10) },
		TestEvents: 200_000,
	})
}
