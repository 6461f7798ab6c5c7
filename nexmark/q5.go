package nexmark

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
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
// The job counts in two phases. Every subtask of the source's chain
// counts its bids per auction and 2 s pane in a plain map (a Transform,
// so bids never cross an exchange) and emits the pane's counts when the
// watermark passes its end; keyed by auction, the sliding windows add up
// the counts (the window operator keeps one sum per auction and pane).
// The maximum of each window is found like Q7's: every subtask of the
// window operator keeps its own per window, and a process function keyed
// by window end merges them and emits the auctions at the maximum (all
// ties) when the watermark passes the window's end. The results also
// carry the window and the count.
func Q5(events stream.DataStream[Event]) stream.DataStream[Q5Result] {
	const size = int64(Q5Size / time.Millisecond)
	counts := WithEventTime(events).Transform("q5-panes", func() operators.OneInputOperator[Event, q5Count] {
		return &q5Panes{}
	}).KeyBy(func(c q5Count) int64 { return c.Auction }).
		Window(windowing.Sliding(Q5Size, Q5Slide)).
		Aggregate(stream.Sum(func(c q5Count) int64 { return c.Count })).Name("q5-counts")
	return winTopOf(counts, "q5-max",
		func(r *windowing.Result[int64, int64], _ int64) (end, count int64, ok bool) {
			return r.Window.End.UnixMilli(), r.Value, true
		},
		func(r *windowing.Result[int64, int64]) int64 { return r.Key },
		func(end, count int64, auction *int64) Q5Result {
			return Q5Result{Auction: *auction, Count: count, Start: timeapi.Time(end - size), End: timeapi.Time(end)}
		})
}

// q5Count is the number of bids of an auction in a pane (a subtask's
// share of them).
type q5Count struct {
	Auction, Count int64
}

// q5Pane is the bid counts per auction of one pane.
type q5Pane struct {
	Start  int64 // Unix ms
	Counts map[int64]int64
}

// q5Panes is the local phase of the count: the open panes of its subtask
// (in order of their start; one or two are open with ordered input). A
// pane's counts are emitted with its last instant as event time, which
// puts them in the pane's windows.
//
// Checkpoints: like winTopLocal's, the open panes are its state and a
// restore gives them all to the first subtask.
type q5Panes struct {
	operators.Base
	out     *operators.Emitter[q5Count]
	subtask int
	panes   []q5Pane
	spare   []map[int64]int64
}

func (l *q5Panes) Open(ctx *operators.Context, out *operators.Emitter[q5Count]) error {
	l.out, l.subtask = out, ctx.Subtask
	return nil
}

func (l *q5Panes) ProcessBatch(in *operators.Batch[Event]) error {
	const slide = int64(Q5Slide / time.Millisecond)
	var cur map[int64]int64
	curStart := int64(math.MinInt64)
	for i := range in.Values {
		e := &in.Values[i]
		if e.Kind != gen.KindBid {
			continue
		}
		if ps := winStart(in.Times[i], slide); ps != curStart {
			cur, curStart = l.pane(ps), ps
		}
		cur[e.Bid.Auction]++
	}
	return nil
}

// pane returns the counts of the open pane starting at start, opening it
// if needed.
func (l *q5Panes) pane(start int64) map[int64]int64 {
	if n := len(l.panes); n > 0 && l.panes[n-1].Start == start {
		return l.panes[n-1].Counts
	}
	i, found := slices.BinarySearchFunc(l.panes, start, func(p q5Pane, start int64) int { return cmp.Compare(p.Start, start) })
	if !found {
		m := map[int64]int64{}
		if n := len(l.spare); n > 0 {
			m, l.spare = l.spare[n-1], l.spare[:n-1]
		}
		l.panes = slices.Insert(l.panes, i, q5Pane{Start: start, Counts: m})
	}
	return l.panes[i].Counts
}

// ProcessWatermark emits the panes whose end the watermark passed.
func (l *q5Panes) ProcessWatermark(wm int64) error {
	const slide = int64(Q5Slide / time.Millisecond)
	n := 0
	for ; n < len(l.panes) && l.panes[n].Start+slide-1 <= wm; n++ {
		p := &l.panes[n]
		for a, c := range p.Counts {
			l.out.Emit(q5Count{Auction: a, Count: c}, p.Start+slide-1)
		}
		clear(p.Counts)
		l.spare = append(l.spare, p.Counts)
	}
	if n > 0 {
		rest := copy(l.panes, l.panes[n:])
		clear(l.panes[rest:])
		l.panes = l.panes[:rest]
	}
	return nil
}

// SnapshotState implements operators.Snapshotter.
func (l *q5Panes) SnapshotState(int64) ([]byte, error) { return winEncode(l.panes) }

// RestoreState implements operators.Snapshotter.
func (l *q5Panes) RestoreState(data []byte) error {
	var panes []q5Pane
	if err := winDecode(data, &panes); err != nil || l.subtask != 0 {
		return err
	}
	for _, p := range panes {
		m := l.pane(p.Start)
		for a, c := range p.Counts {
			m[a] += c
		}
	}
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
		Due:        func(r Q5Result) time.Time { return r.End },
		TestEvents: 300_000,
	})
}
