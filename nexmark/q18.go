package nexmark

import (
	"strconv"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// BidderAuction is the key of q18: a bidder and an auction.
type BidderAuction struct {
	Bidder, Auction int64
}

func bidderAuction(b Bid) BidderAuction { return BidderAuction{Bidder: b.Bidder, Auction: b.Auction} }

// Q18 is "find last bid":
//
//	SELECT auction, bidder, price, channel, url, dateTime, extra
//	FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction
//	                                   ORDER BY dateTime DESC) AS rn
//	      FROM bid)
//	WHERE rn <= 1
//
// It is an updating result keyed by (bidder, auction): the job keys the
// bids by bidder and auction and keeps the latest bid of each key in keyed
// state (stream.Process with a ValueState, updated in place through
// ValueState.Ptr when the backend allows); a bid later than the kept one
// replaces it and is emitted as the key's new row, any other bid is
// dropped. "Later" is the total order of CompareLatest (dateTime, then
// price, then the string columns), so the final row of every key does not
// depend on the order in which bids arrive: Flink breaks ties between bids
// of the same millisecond by arrival instead.
func Q18(events stream.DataStream[Event]) stream.DataStream[Bid] {
	return Bids(events).KeyBy(bidderAuction).Process(&latestBid{}).Name("q18")
}

// latestBid is q18's KeyedProcessFunc.
type latestBid struct {
	last    *stream.ValueState[BidderAuction, Bid]
	inPlace bool // last.Ptr works: one lookup per bid
}

func (f *latestBid) Open(ctx *stream.OpenContext[BidderAuction]) (err error) {
	f.last, err = stream.NewValueState[Bid](ctx, "last")
	if err == nil {
		f.inPlace = f.last.InPlace()
	}
	return err
}

func (f *latestBid) ProcessElement(ctx *stream.Context[BidderAuction, Bid], b Bid) error {
	if f.inPlace {
		p, found := f.last.Ptr(true)
		if found && CompareLatest(&b, p) <= 0 {
			return nil
		}
		*p = b
	} else {
		if old, ok := f.last.Value(); ok && CompareLatest(&b, &old) <= 0 {
			return nil
		}
		f.last.Update(b)
	}
	ctx.Emit(b)
	return nil
}

func (f *latestBid) OnTimer(*stream.Context[BidderAuction, Bid], stream.Timer) error { return nil }

func handQ18(src *gen.Source, n int64, emit func(Bid)) {
	last := map[BidderAuction]*Bid{}
	handBids(src, n, func(b *Bid) {
		k := BidderAuction{Bidder: b.Bidder, Auction: b.Auction}
		old := last[k]
		switch {
		case old == nil:
			nb := *b
			last[k] = &nb
		case CompareLatest(b, old) > 0:
			*old = *b
		default:
			return
		}
		emit(*b)
	})
}

func init() {
	Register(Spec[Bid]{
		Name: "q18", Title: "find last bid",
		Build:  Q18,
		Hand:   handQ18,
		Format: FormatBid,
		Key: func(b Bid) string {
			return strconv.FormatInt(b.Bidder, 10) + "/" + strconv.FormatInt(b.Auction, 10)
		},
	})
}
