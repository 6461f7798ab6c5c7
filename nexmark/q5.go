package nexmark

import (
	"fmt"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// Q5's sliding windows: 10 s long, one starting every 2 s.
const (
	Q5Size  = 10 * time.Second
	Q5Slide = 2 * time.Second
)

// Q5Result is an auction with the most bids in a sliding window (one of
// them, on a tie).
type Q5Result struct {
	Auction    int64
	Count      int64 // the auction's bids in the window: the window's maximum
	Start, End time.Time
}

// Q5 is hot items: the auctions with the most bids in each sliding window
// of 10 s every 2 s.
//
//	SELECT AuctionBids.auction, AuctionBids.num
//	FROM (SELECT auction, count(*) AS num, window_start AS starttime, window_end AS endtime
//	      FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
//	      GROUP BY auction, window_start, window_end) AS AuctionBids
//	JOIN (SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
//	      FROM (SELECT count(*) AS num, window_start AS starttime, window_end AS endtime
//	            FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
//	            GROUP BY auction, window_start, window_end) AS CountBids
//	      GROUP BY CountBids.starttime, CountBids.endtime) AS MaxBids
//	ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime
//	   AND AuctionBids.num >= MaxBids.maxn
//
// The job projects bids to their auction id, counts them per auction in
// sliding windows (the window operator keeps one counter per auction and
// 2 s pane, so a bid costs one state lookup however many windows hold
// it), then keys the counts by window end: a process function keeps each
// window's maximum and the auctions that reach it, and emits them (all
// ties) when the watermark passes the window's end. The results also
// carry the window and the count.
func Q5(events stream.DataStream[Event]) stream.DataStream[Q5Result] {
	counts := winEventTime(events).FlatMap(func(e Event, emit func(int64)) {
		if e.Kind == gen.KindBid {
			emit(e.Bid.Auction)
		}
	}).Name("q5-auctions").
		KeyBy(func(a int64) int64 { return a }).
		Window(windowing.Sliding(Q5Size, Q5Slide)).
		Aggregate(stream.Count[int64]()).Name("q5-counts")
	return counts.KeyBy(func(r windowing.Result[int64, int64]) int64 { return r.Window.End.UnixMilli() }).
		Process(stream.KeyedProcessFunc[int64, windowing.Result[int64, int64], Q5Result](&q5Max{})).Name("q5-max")
}

// q5Max keeps, per window (keyed by its end), the largest count so far
// and the auctions that have it.
type q5Max struct {
	best *stream.ValueState[int64, q5Best]
}

// q5Best is the state of one window. Auctions is only appended to or
// replaced (state snapshots share memory with it).
type q5Best struct {
	Count    int64
	Auctions []int64
}

func (m *q5Max) Open(ctx *stream.OpenContext[int64]) (err error) {
	m.best, err = stream.NewValueState[q5Best](ctx, "best")
	return err
}

func (m *q5Max) ProcessElement(ctx *stream.Context[int64, Q5Result], r windowing.Result[int64, int64]) error {
	b, ok := m.best.Value()
	switch {
	case !ok:
		ctx.RegisterEventTimeTimer(r.Window.MaxTimestamp())
		b = q5Best{Count: r.Value, Auctions: []int64{r.Key}}
	case r.Value > b.Count:
		b = q5Best{Count: r.Value, Auctions: []int64{r.Key}}
	case r.Value == b.Count:
		b.Auctions = append(b.Auctions, r.Key)
	default:
		return nil
	}
	m.best.Update(b)
	return nil
}

func (m *q5Max) OnTimer(ctx *stream.Context[int64, Q5Result], _ stream.Timer) error {
	b, ok := m.best.Value()
	if !ok {
		return nil
	}
	m.best.Clear()
	end := timeapi.Time(ctx.Key())
	start := end.Add(-Q5Size)
	for _, a := range b.Auctions {
		ctx.Emit(Q5Result{Auction: a, Count: b.Count, Start: start, End: end})
	}
	return nil
}

// handQ5 counts bids per auction in 2 s panes (a ring of the panes of one
// window) and, as event time passes a window's end, adds up the window's
// panes and emits its busiest auctions.
func handQ5(src *gen.Source, n int64, emit func(Q5Result)) {
	const size, slide = int64(Q5Size / time.Millisecond), int64(Q5Slide / time.Millisecond)
	const panes = size / slide
	var ring [panes]map[int64]int64
	for i := range ring {
		ring[i] = map[int64]int64{}
	}
	sum := map[int64]int64{}
	// next is the end of the next window to fire; last the end of the last
	// window holding a bid. No window is open while next > last.
	next, last := int64(0), int64(-1)
	fire := func(end int64) {
		clear(sum)
		for _, p := range ring {
			for a, c := range p {
				sum[a] += c
			}
		}
		best := int64(0)
		for _, c := range sum {
			best = max(best, c)
		}
		for a, c := range sum {
			if c == best {
				emit(Q5Result{Auction: a, Count: c, Start: timeapi.Time(end - size), End: timeapi.Time(end)})
			}
		}
		clear(ring[(end/slide)%panes]) // the oldest pane: no later window holds it
	}
	var cur map[int64]int64
	curPane := int64(-1)
	winHand(src, n, func(e *Event, ts int64) {
		if e.Kind != gen.KindBid {
			return
		}
		if ps := winStart(ts, slide); ps != curPane {
			for ; next <= ps && next <= last; next += slide {
				fire(next)
			}
			if next > last {
				next = ps + slide
			}
			curPane, cur = ps, ring[(ps/slide)%panes]
			last = ps + size
		}
		cur[e.Bid.Auction]++
	})
	for ; next <= last; next += slide {
		fire(next)
	}
}

func init() {
	Register(Spec[Q5Result]{
		Name: "q5", Title: "hot items",
		Build: Q5,
		Hand:  handQ5,
		Format: func(r Q5Result) string {
			return fmt.Sprintf("window=[%s,%s) auction=%d count=%d", winTime(r.Start), winTime(r.End), r.Auction, r.Count)
		},
		Due:        func(r Q5Result) time.Time { return r.End },
		TestEvents: 300_000,
	})
}
