package nexmark

import (
	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

// Q20Category is the auction category Q20 keeps.
const Q20Category = 10

// Q20Result is a bid with the columns of its auction.
type Q20Result struct {
	Bid     Bid
	Auction Auction
}

// q20Auction is the part of a category-10 auction that Q20 keeps in state
// (exported fields: encoding/gob).
type q20Auction struct {
	ItemName, Description string
	InitialBid, Reserve   int64
	DateTime, Expires     int64 // Unix ms
	Seller, Category      int64
	Extra                 string
}

// q20Bid is a bid as Q20 passes and buffers it.
type q20Bid struct {
	Bidder, Price int64
	Channel, URL  string
	DateTime      int64 // Unix ms
	Extra         string
}

// q20In is an auction or a bid, keyed by auction id. For auctions of
// other categories only the id travels (a is nil): Q20 remembers that
// they came, so that their bids are dropped instead of waiting for them.
// A category-10 auction travels by pointer, which keeps the records of
// bids small; it is never changed afterwards, so the state may share it.
type q20In struct {
	auction int64
	isBid   bool
	a       *q20Auction
	b       q20Bid
}

// q20State is Q20's keyed state per auction id: whether the auction came,
// the auction if it is of category Q20Category, and the bids that came
// before it.
type q20State struct {
	Seen    bool
	A       *q20Auction // never changed: shared with the input record and snapshots
	Pending []q20Bid
}

func q20Result(id int64, a *q20Auction, b *q20Bid) Q20Result {
	return Q20Result{
		Bid: Bid{Auction: id, Bidder: b.Bidder, Price: b.Price, Channel: b.Channel, URL: b.URL,
			DateTime: timeapi.Time(b.DateTime), Extra: b.Extra},
		Auction: Auction{ID: id, ItemName: a.ItemName, Description: a.Description, InitialBid: a.InitialBid,
			Reserve: a.Reserve, DateTime: timeapi.Time(a.DateTime), Expires: timeapi.Time(a.Expires),
			Seller: a.Seller, Category: a.Category, Extra: a.Extra},
	}
}

// q20Fn joins bids with their auction (see Q20).
type q20Fn struct {
	st *stream.ValueState[int64, q20State]
}

func (f *q20Fn) Open(ctx *stream.OpenContext[int64]) error {
	var err error
	f.st, err = stream.NewValueState[q20State](ctx, "auction")
	return err
}

func (f *q20Fn) ProcessElement(ctx *stream.Context[int64, Q20Result], in q20In) error {
	if f.st.InPlace() { // heap state: one lookup, no copies
		s, _ := f.st.Ptr(true)
		f.apply(ctx, s, &in)
		return nil
	}
	s, _ := f.st.Value()
	if f.apply(ctx, &s, &in) {
		f.st.Update(s)
	}
	return nil
}

// apply joins an auction or bid with the auction's state s; it reports
// whether s changed.
func (f *q20Fn) apply(ctx *stream.Context[int64, Q20Result], s *q20State, in *q20In) bool {
	switch {
	case in.isBid && s.Seen:
		if s.A != nil {
			ctx.Emit(q20Result(in.auction, s.A, &in.b))
		}
	case in.isBid:
		s.Pending = append(s.Pending, in.b) // writes past what a snapshot sees
		return true
	case !s.Seen:
		if in.a != nil {
			for i := range s.Pending {
				ctx.Emit(q20Result(in.auction, in.a, &s.Pending[i]))
			}
		}
		*s = q20State{Seen: true, A: in.a}
		return true
	}
	// a second auction with the same id: the first one counts
	return false
}

func (f *q20Fn) OnTimer(*stream.Context[int64, Q20Result], stream.Timer) error { return nil }

// Q20 is "expand bid with auction":
//
//	SELECT auction, bidder, price, channel, url, B.dateTime, B.extra,
//	  itemName, description, initialBid, reserve, A.dateTime, expires,
//	  seller, category, A.extra
//	FROM bid AS B INNER JOIN auction AS A ON B.auction = A.id
//	WHERE A.category = 10
//
// A regular (unwindowed) join of two append-only inputs, so every match is
// emitted once. One FlatMap projects auctions and bids, a Process keyed by
// auction id (q20Fn) keeps each auction that came: a category-10 auction
// with its columns, any other as a mark only. A bid of a known auction is
// joined at once (with the bid's event time) and not stored; a bid whose
// auction has not come yet (a bid may name an auction of the near future,
// and at parallelism > 1 overtake its auction) waits in state and is
// joined when the auction comes (with the auction's event time).
//
// State grows with every auction (a small mark for most), as a regular
// join's does: a bid may come any time after its auction, even after the
// auction expired, and still joins, so no auction can be forgotten
// without changing the result. Bids of auctions that never come stay
// buffered to the end.
func Q20(events stream.DataStream[Event]) stream.DataStream[Q20Result] {
	in := events.FlatMapRef(func(e *Event, emit func(q20In)) {
		switch e.Kind {
		case gen.KindAuction:
			a := &e.Auction
			in := q20In{auction: a.ID}
			if a.Category == Q20Category {
				p := projectQ20(a)
				in.a = &p
			}
			emit(in)
		case gen.KindBid:
			emit(q20In{auction: e.Bid.Auction, isBid: true, b: projectQ20Bid(&e.Bid)})
		}
	}).Name("q20-input")
	return in.KeyBy(func(in q20In) int64 { return in.auction }).Process(&q20Fn{}).Name("q20")
}

func projectQ20(a *Auction) q20Auction {
	return q20Auction{ItemName: a.ItemName, Description: a.Description, InitialBid: a.InitialBid, Reserve: a.Reserve,
		DateTime: a.DateTime.UnixMilli(), Expires: a.Expires.UnixMilli(), Seller: a.Seller, Category: a.Category, Extra: a.Extra}
}

func projectQ20Bid(b *Bid) q20Bid {
	return q20Bid{Bidder: b.Bidder, Price: b.Price, Channel: b.Channel, URL: b.URL, DateTime: b.DateTime.UnixMilli(), Extra: b.Extra}
}

func handQ20(src *gen.Source, n int64, emit func(Q20Result)) {
	auctions := map[int64]*q20Auction{} // nil: came, of another category
	early := map[int64][]q20Bid{}       // bids whose auction has not come
	var e Event
	for i := range n {
		src.Fill(i, &e)
		switch e.Kind {
		case gen.KindAuction:
			au := &e.Auction
			if _, seen := auctions[au.ID]; seen {
				continue
			}
			var a *q20Auction
			if au.Category == Q20Category {
				p := projectQ20(au)
				a = &p
				for _, b := range early[au.ID] {
					emit(q20Result(au.ID, a, &b))
				}
			}
			delete(early, au.ID)
			auctions[au.ID] = a
		case gen.KindBid:
			b := &e.Bid
			if a, seen := auctions[b.Auction]; !seen {
				early[b.Auction] = append(early[b.Auction], projectQ20Bid(b))
			} else if a != nil {
				pb := projectQ20Bid(b)
				emit(q20Result(b.Auction, a, &pb))
			}
		}
	}
}

// FormatQ20 renders a Q20 result.
func FormatQ20(r Q20Result) string { return FormatBid(r.Bid) + " | " + FormatAuction(&r.Auction) }

func init() {
	Register(Spec[Q20Result]{
		Name: "q20", Title: "expand bid with auction",
		Build:      Q20,
		Hand:       handQ20,
		Format:     FormatQ20,
		Ordered:    true,
		TestEvents: 50_000,
	})
}
