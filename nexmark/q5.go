package nexmark

import (
	"fmt"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
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
// The job counts incrementally, so that a window's result is ready when
// the watermark passes its end. Bids go by auction id (FlatMapRef to the
// auction id, a KeyBy) to a process function (q5Counter) that keeps each
// auction's bid counts in the five windows open for it, and adds a bid to
// those of its windows that the watermark has not passed. Counts only
// grow within a window, so a window's maximum is known at all times: the
// counter emits (window end, count, auction) when an auction's new count
// reaches the highest it has sent for that window, and the maximum of
// each window is found like Q7's, from these candidates (winTopOf: a
// per-subtask top per window, chained, then a process function keyed by
// window end that emits the auctions at the maximum, all ties, when the
// watermark passes the end). An auction's counts go with a timer half a
// slide after the end of its last window.
//
// Counting at window end instead (the SQL's plan: a window aggregate per
// auction, then the top) fires every auction of the window at once: at
// 1M events/s, some 600k auctions and 0.3-0.4 s between the watermark
// passing a window's end and the window's result.
//
// The highest count sent per window is a filter only (not checkpointed):
// after a restore the counter sends more candidates, and the top keeps
// the same maximum.
func Q5(events stream.DataStream[Event]) stream.DataStream[Q5Result] {
	const size = int64(Q5Size / time.Millisecond)
	bids := WithEventTime(events).FlatMapRef(func(e *Event, emit func(int64)) {
		if e.Kind == gen.KindBid {
			emit(e.Bid.Auction)
		}
	}).Name("q5-bids")
	counts := bids.KeyBy(func(a int64) int64 { return a }).
		Process(stream.KeyedProcessFunc[int64, int64, q5Count](&q5Counter{})).Name("q5-counts")
	return winTopOf(counts, "q5-max",
		func(c *q5Count, _ int64) (end, count int64, ok bool) { return c.End, c.Count, true },
		func(c *q5Count) int64 { return c.Auction },
		func(end, count int64, auction *int64) Q5Result {
			return Q5Result{Auction: *auction, Count: count, Start: timeapi.Time(end - size), End: timeapi.Time(end)}
		})
}

// q5Panes is the number of Q5 windows that hold a bid: size / slide.
const q5Panes = int(Q5Size / Q5Slide)

// q5Slots is the number of windows an auction's entry holds: one more
// than a bid's windows, so that bids up to a slide apart in event time
// (the source splits' drift under watermark alignment is milliseconds)
// share the entry. Windows that do not fit go to the overflow map state.
const q5Slots = q5Panes + 1

// q5Count is a candidate for a window's top: an auction's bids in the
// window ending at End so far.
type q5Count struct {
	End, Auction, Count int64
}

// q5Windows is an auction's bid counts in the windows open for it: slot i
// holds the window ending at End[i] (whose end in slides is i modulo
// q5Slots) with N[i] > 0 bids, or nothing when N[i] is 0. More is the
// number of the auction's windows in the overflow map state.
type q5Windows struct {
	End  [q5Slots]int64
	N    [q5Slots]int64
	More int64
}

// q5Counter counts the bids of each auction per window (see Q5).
type q5Counter struct {
	counts *stream.ValueState[int64, q5Windows]
	more   *stream.MapState[int64, int64, int64] // window end -> bids
	sent   [q5Slots]q5Sent                       // the highest count sent per window, by slot
}

type q5Sent struct{ end, n int64 }

func (c *q5Counter) Open(ctx *stream.OpenContext[int64]) (err error) {
	if c.counts, err = stream.NewValueState[q5Windows](ctx, "windows"); err != nil {
		return err
	}
	c.more, err = stream.NewMapState[int64, int64](ctx, "more")
	return err
}

func (c *q5Counter) ProcessElement(ctx *stream.Context[int64, q5Count], auction int64) error {
	const slide = int64(Q5Slide / time.Millisecond)
	ts := timeapi.Millis(ctx.Timestamp())
	wm := timeapi.Millis(ctx.Watermark())
	first := winStart(ts, slide) + slide // the end of the first window holding ts
	last := first + int64(q5Panes-1)*slide
	if last-1 <= wm {
		return nil // every window of the bid has fired
	}
	if c.counts.InPlace() {
		w, _ := c.counts.Ptr(true)
		c.add(ctx, w, auction, first, last, wm)
		return nil
	}
	w, _ := c.counts.Value()
	c.add(ctx, &w, auction, first, last, wm)
	c.counts.Update(w)
	return nil
}

// add counts a bid in the windows ending first..last (by slide) that the
// watermark wm has not passed, and sends the new counts that reach the
// highest sent.
func (c *q5Counter) add(ctx *stream.Context[int64, q5Count], w *q5Windows, auction, first, last, wm int64) {
	const slide = int64(Q5Slide / time.Millisecond)
	if i := q5Slot(last); w.N[i] == 0 || w.End[i] != last {
		// the bid opens the auction's newest window (or it overflows):
		// the entry lives until that window's end
		ctx.RegisterEventTimeTimer(timeapi.Time(last - 1 + q5Linger))
	}
	for end := first; end <= last; end += slide {
		if end-1 <= wm {
			continue
		}
		var n int64
		i := q5Slot(end)
		switch {
		case w.N[i] > 0 && w.End[i] == end:
			w.N[i]++
			n = w.N[i]
		case w.More > 0 && c.hasMore(end):
			n, _ = c.more.Get(end)
			n++
			c.more.Put(end, n)
		case w.N[i] == 0 || w.End[i]-1 <= wm: // the slot is free
			w.End[i], w.N[i] = end, 1
			n = 1
		default: // the slot holds another open window
			w.More++
			n = 1
			c.more.Put(end, n)
			ctx.RegisterEventTimeTimer(timeapi.Time(end - 1 + q5Linger))
		}
		sent := &c.sent[i]
		switch {
		case sent.end == end && n < sent.n:
			continue // not a candidate
		case sent.end <= end:
			*sent = q5Sent{end: end, n: n}
		}
		ctx.EmitAt(q5Count{End: end, Auction: auction, Count: n}, timeapi.Time(end-1))
	}
}

func (c *q5Counter) hasMore(end int64) bool {
	_, ok := c.more.Get(end)
	return ok
}

// q5Linger is how long after its end (in event time) a window's counts
// are dropped: half a slide, so that dropping the counts of the auctions
// whose last window ended (a burst of timers) never delays the result of
// a window, which is due when the watermark passes its end.
const q5Linger = int64(Q5Slide/time.Millisecond) / 2

func q5Slot(end int64) int {
	const slide = int64(Q5Slide / time.Millisecond)
	return int(uint64(end/slide) % uint64(q5Slots))
}

// OnTimer drops the auction's overflow window whose timer this is, if
// any, and its entry once all its windows have ended.
func (c *q5Counter) OnTimer(ctx *stream.Context[int64, q5Count], t stream.Timer) error {
	w, ok := c.counts.Value()
	if !ok {
		return nil
	}
	if end := timeapi.Millis(t.Time) + 1 - q5Linger; w.More > 0 && c.hasMore(end) {
		c.more.Delete(end)
		w.More--
	}
	wm := timeapi.Millis(ctx.Watermark())
	for i := range w.N {
		if w.N[i] > 0 && w.End[i]-1 > wm {
			c.counts.Update(w) // a later window's timer clears it
			return nil
		}
	}
	if w.More > 0 {
		w.N = [q5Slots]int64{}
		c.counts.Update(w)
		return nil
	}
	c.counts.Clear()
	return nil
}

// handQ5On counts bids per auction in 2 s panes (a ring of the panes of one
// window) and, as event time passes a window's end, adds up the window's
// panes and emits its busiest auctions.
func handQ5On(events winEvents, emit func(Q5Result)) {
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
	events(func(e *Event, ts int64) {
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

// formatQ5 renders a result for golden files and comparisons.
func formatQ5(r Q5Result) string {
	return fmt.Sprintf("window=[%s,%s) auction=%d count=%d", winTime(r.Start), winTime(r.End), r.Auction, r.Count)
}

func init() {
	Register(Spec[Q5Result]{
		Name: "q5", Title: "hot items",
		Build:      Q5,
		Hand:       func(src *gen.Source, n int64, emit func(Q5Result)) { handQ5On(winGen(src, n), emit) },
		Format:     formatQ5,
		Due:        func(r *Q5Result) int64 { return windowDue(r.End) },
		TestEvents: 300_000,
	})
}
