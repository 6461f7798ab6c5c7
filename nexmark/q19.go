package nexmark

import (
	"fmt"
	"strconv"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
)

// TopN is how many bids per auction q19 ranks.
const TopN = 10

// Q19Result is a bid at a rank of its auction's top TopN by price.
type Q19Result struct {
	Bid
	Rank int64 // 1 to TopN: rn in the SQL
}

// TopBids is the top TopN bids of an auction, best first: the keyed state
// of q19. The fields are exported for gob (checkpoints).
type TopBids struct {
	N    int // bids held, at most TopN
	Bids [TopN]Bid
}

// Offer ranks b among t's bids (RanksBefore): if it enters the top TopN,
// at 0-based position i, it is inserted there, the last bid drops out
// when t was full, and Offer returns i; otherwise it returns -1. The
// ranks i+1 to t.N now hold other bids. A full t rejects a bid with one
// comparison against its last.
func (t *TopBids) Offer(b *Bid) int {
	n := t.N
	if n == TopN && !RanksBefore(b, &t.Bids[n-1]) {
		return -1
	}
	i := n
	for i > 0 && RanksBefore(b, &t.Bids[i-1]) {
		i--
	}
	if n < TopN {
		n++
		t.N = n
	}
	copy(t.Bids[i+1:n], t.Bids[i:n-1])
	t.Bids[i] = *b
	return i
}

// Q19 is "auction TOP-10 price":
//
//	SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction
//	                                            ORDER BY price DESC) AS rn
//	               FROM bid)
//	WHERE rn <= 10
//
// It is an updating result keyed by (auction, rank), like Flink's rank
// operator when it outputs the row number: the job keys the bids by
// auction and keeps the auction's top 10 in keyed state (a ValueState of
// TopBids, one fixed array, updated in place through ValueState.Ptr when
// the backend allows); a bid that enters at rank r is emitted at r
// and the bids it pushed down are emitted again at ranks r+1 to the
// number held, all with the entering bid's time. A bid that does not
// enter emits nothing. Ties in price are broken by the total order of
// RanksBefore (the earlier bid first, and so on), so the final ranks do
// not depend on arrival order; Flink breaks them by arrival. Ranks are
// never deleted: bids only ever enter an auction's top 10.
func Q19(events stream.DataStream[Event]) stream.DataStream[Q19Result] {
	return Bids(events).KeyBy(bidAuction).Process(&topBids{}).Name("q19")
}

func bidAuction(b Bid) int64 { return b.Auction }

// topBids is q19's KeyedProcessFunc.
type topBids struct {
	top     *stream.ValueState[int64, TopBids]
	inPlace bool // top.Ptr works: no copy of the array per bid
}

func (f *topBids) Open(ctx *stream.OpenContext[int64]) (err error) {
	f.top, err = stream.NewValueState[TopBids](ctx, "top")
	if err == nil {
		f.inPlace = f.top.InPlace()
	}
	return err
}

func (f *topBids) ProcessElement(ctx *stream.Context[int64, Q19Result], b Bid) error {
	if f.inPlace {
		t, _ := f.top.Ptr(true)
		emitRanks(ctx, t, t.Offer(&b))
		return nil
	}
	t, _ := f.top.Value()
	if i := t.Offer(&b); i >= 0 {
		f.top.Update(t)
		emitRanks(ctx, &t, i)
	}
	return nil
}

// emitRanks emits the bids of t from 0-based position i (none if i < 0)
// to the last, with their ranks.
func emitRanks(ctx *stream.Context[int64, Q19Result], t *TopBids, i int) {
	if i < 0 {
		return
	}
	for r := i; r < t.N; r++ {
		ctx.Emit(Q19Result{Bid: t.Bids[r], Rank: int64(r + 1)})
	}
}

func (f *topBids) OnTimer(*stream.Context[int64, Q19Result], stream.Timer) error { return nil }

func handQ19(src *gen.Source, n int64, emit func(Q19Result)) {
	tops := map[int64]*TopBids{}
	handBids(src, n, func(b *Bid) {
		t := tops[b.Auction]
		if t == nil {
			t = new(TopBids)
			tops[b.Auction] = t
		}
		i := t.Offer(b)
		if i < 0 {
			return
		}
		for r := i; r < t.N; r++ {
			emit(Q19Result{Bid: t.Bids[r], Rank: int64(r + 1)})
		}
	})
}

// FormatQ19 renders a q19 result for golden files (the rank padded to two
// digits, so that sorted lines list an auction's ranks in order).
func FormatQ19(r Q19Result) string {
	b := &r.Bid
	return fmt.Sprintf("auction=%d rank=%2d bidder=%d price=%d channel=%s url=%s t=%s extra=%q",
		b.Auction, r.Rank, b.Bidder, b.Price, b.Channel, b.URL, b.DateTime.Format(time.RFC3339Nano), b.Extra)
}

func init() {
	Register(Spec[Q19Result]{
		Name: "q19", Title: "auction TOP-10 price",
		Build:  Q19,
		Hand:   handQ19,
		Format: FormatQ19,
		Key: func(r Q19Result) string {
			return strconv.FormatInt(r.Auction, 10) + "/" + strconv.FormatInt(r.Rank, 10)
		},
	})
}
