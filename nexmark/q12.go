package nexmark

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// Q12Window is the length of Q12's processing-time windows.
const Q12Window = 10 * time.Second

// Q12Result is the bid count of a bidder in a processing-time window.
type Q12Result struct {
	Bidder     int64
	Count      int64
	Start, End time.Time // processing time; zero in the hand-written loop's totals
	// Last is the event time of the latest bid counted. The result is due
	// when its processing-time window closes: latency is measured from End
	// (Spec.DueWall).
	Last time.Time
}

// Q12 is processing-time windows: the bids of each bidder per 10 s
// tumbling window of processing time.
//
//	SELECT B.bidder, count(*) AS bid_count,
//	       TUMBLE_START(B.p_time, INTERVAL '10' SECOND) AS starttime,
//	       TUMBLE_END(B.p_time, INTERVAL '10' SECOND) AS endtime
//	FROM (SELECT *, PROCTIME() AS p_time FROM bid) B
//	GROUP BY B.bidder, TUMBLE(B.p_time, INTERVAL '10' SECOND)
//
// Tumbling windows of processing time (windowing.Tumbling(10s).
// ByProcessingTime()), keyed by bidder, count each bidder's bids by the
// processing time at which they reach the window operator; a window fires
// when the clock reaches its end (one processing-time callback per
// subtask, not a timer per bidder), all of its bidders in one pass over
// their key groups. Results carry the processing time of the window's
// end. Before the exchange, every subtask of the source's chain adds up
// each batch's bids per bidder (a Transform with a plain map, a
// mini-batch local aggregation): the bids of a batch arrive together, so
// this changes no window.
//
// Deviation: at the end of a bounded input the open windows are emitted
// (a Flink job that finishes may leave processing-time timers unfired),
// so every bid is counted once. Which window a bid falls in depends on
// wall time, so results are compared by conservation (Q12Compare).
func Q12(events stream.DataStream[Event]) stream.DataStream[Q12Result] {
	return events.Transform("q12-combine", func() operators.OneInputOperator[Event, q12Bids] {
		return &q12Combine{}
	}).KeyBy(q12Bidder).
		Window(q12Windows).
		Aggregate(stream.Aggregator[q12Bids, q12Acc, q12Acc](q12Agg{})).Name("q12-windows").
		Map(q12Result).Name("q12-result")
}

// q12Result is the Q12Result of a window's count.
func q12Result(r windowing.Result[int64, q12Acc]) Q12Result {
	return Q12Result{Bidder: r.Key, Count: r.Value.Count, Start: r.Window.Start, End: r.Window.End, Last: timeapi.Time(r.Value.Last)}
}

// q12Due is when a result was due: its processing-time window's end.
func q12Due(r *Q12Result) int64 { return r.End.UnixNano() }

// q12Windows are q12's windows: tumbling, of processing time.
var q12Windows = windowing.Tumbling(Q12Window).ByProcessingTime()

func q12Bidder(b q12Bids) int64 { return b.Bidder }

// q12Bids is a number of bids of a bidder, the latest at Last (event
// time, Unix ms).
type q12Bids struct {
	Bidder, Count, Last int64
}

// q12Combine is the local phase: it adds up the bids of each batch per
// bidder (in order of their first bid, with an index by bidder). It keeps
// nothing from one batch to the next, so it has no state to checkpoint.
type q12Combine struct {
	operators.Base
	out  *operators.Emitter[q12Bids]
	idx  map[int64]int32
	bids []q12Bids
}

func (l *q12Combine) Open(_ *operators.Context, out *operators.Emitter[q12Bids]) error {
	l.out, l.idx = out, map[int64]int32{}
	return nil
}

func (l *q12Combine) ProcessBatch(in *operators.Batch[Event]) error {
	for i := range in.Values {
		e := &in.Values[i]
		if e.Kind != gen.KindBid {
			continue
		}
		j, ok := l.idx[e.Bid.Bidder]
		if !ok {
			j = int32(len(l.bids))
			l.idx[e.Bid.Bidder] = j
			l.bids = append(l.bids, q12Bids{Bidder: e.Bid.Bidder, Last: in.Times[i]})
		}
		b := &l.bids[j]
		b.Count++
		b.Last = max(b.Last, in.Times[i])
	}
	for _, b := range l.bids {
		l.out.Emit(b, b.Last)
	}
	l.bids = l.bids[:0]
	clear(l.idx)
	return nil
}

// q12Acc is a bidder's bid count in a window and the event time of the
// latest bid counted (Unix ms). Its fields are exported for state
// backends that encode accumulators with encoding/gob.
type q12Acc struct {
	Count, Last int64
}

// q12Agg adds up the batches' counts of a bidder.
type q12Agg struct{}

func (q12Agg) Init() q12Acc                   { return q12Acc{Last: math.MinInt64} }
func (q12Agg) Add(a q12Acc, b q12Bids) q12Acc { q12Agg{}.AddTo(&a, b); return a }
func (q12Agg) AddTo(a *q12Acc, b q12Bids)     { a.Count += b.Count; a.Last = max(a.Last, b.Last) }
func (q12Agg) Merge(a, b q12Acc) q12Acc {
	q12Agg{}.AddTo(&a, q12Bids{Count: b.Count, Last: b.Last})
	return a
}
func (q12Agg) Result(a q12Acc) q12Acc { return a }

// handQ12On counts every bidder's bids: processing time cannot be
// reproduced, so the totals are what the job's windows must add up to.
func handQ12On(events winEvents, emit func(Q12Result)) {
	counts := map[int64]int64{}
	events(func(e *Event, _ int64) {
		if e.Kind == gen.KindBid {
			counts[e.Bid.Bidder]++
		}
	})
	for b, c := range counts {
		emit(Q12Result{Bidder: b, Count: c})
	}
}

// formatQ12 renders a result; the hand-written loop's totals have no
// window.
func formatQ12(r Q12Result) string {
	w := "none"
	if !r.Start.IsZero() {
		w = fmt.Sprintf("[%s,%s)", winTime(r.Start), winTime(r.End))
	}
	return fmt.Sprintf("bidder=%d count=%d window=%s", r.Bidder, r.Count, w)
}

// Q12Compare checks the job's windows (formatted) against the hand-written
// loop's totals: every window is 10 s long and aligned to a multiple of
// 10 s, no bidder has two rows for one window, and each bidder's counts
// add up to its total.
func Q12Compare(job, hand []string) error {
	sums := map[int64]int64{}
	seen := map[string]bool{}
	for _, l := range job {
		bidder, count, win, err := parseQ12(l)
		if err != nil {
			return err
		}
		if err := checkQ12Window(win); err != nil {
			return fmt.Errorf("%q: %w", l, err)
		}
		k := fmt.Sprint(bidder, win)
		if seen[k] {
			return fmt.Errorf("bidder %d has two rows for window %s", bidder, win)
		}
		seen[k] = true
		sums[bidder] += count
	}
	for _, l := range hand {
		bidder, count, _, err := parseQ12(l)
		if err != nil {
			return err
		}
		if sums[bidder] != count {
			return fmt.Errorf("bidder %d: the job's windows count %d bids, the hand-written loop %d", bidder, sums[bidder], count)
		}
		delete(sums, bidder)
	}
	for b, c := range sums {
		return fmt.Errorf("bidder %d: the job counts %d bids, the hand-written loop none", b, c)
	}
	return nil
}

// parseQ12 reads a line of formatQ12.
func parseQ12(l string) (bidder, count int64, win string, err error) {
	f := strings.Fields(l)
	if len(f) != 3 || !strings.HasPrefix(f[0], "bidder=") || !strings.HasPrefix(f[1], "count=") || !strings.HasPrefix(f[2], "window=") {
		return 0, 0, "", fmt.Errorf("not a q12 result: %q", l)
	}
	bidder, err1 := strconv.ParseInt(strings.TrimPrefix(f[0], "bidder="), 10, 64)
	count, err2 := strconv.ParseInt(strings.TrimPrefix(f[1], "count="), 10, 64)
	if err1 != nil || err2 != nil || count <= 0 {
		return 0, 0, "", fmt.Errorf("not a q12 result: %q", l)
	}
	return bidder, count, strings.TrimPrefix(f[2], "window="), nil
}

// checkQ12Window checks that win ("[start,end)") is a 10 s window aligned
// to a multiple of 10 s.
func checkQ12Window(win string) error {
	start, end, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(win, "["), ")"), ",")
	if !ok {
		return fmt.Errorf("window %q is not [start,end)", win)
	}
	const layout = "2006-01-02T15:04:05.000"
	s, err1 := time.Parse(layout, start)
	e, err2 := time.Parse(layout, end)
	switch {
	case err1 != nil || err2 != nil:
		return fmt.Errorf("window %q: bad times", win)
	case e.Sub(s) != Q12Window:
		return fmt.Errorf("window %q is %v long, want %v", win, e.Sub(s), Q12Window)
	case s.UnixMilli()%Q12Window.Milliseconds() != 0:
		return fmt.Errorf("window %q is not aligned to %v", win, Q12Window)
	}
	return nil
}

func init() {
	Register(Spec[Q12Result]{
		Name: "q12", Title: "processing-time windows",
		Build:      Q12,
		Hand:       func(src *gen.Source, n int64, emit func(Q12Result)) { handQ12On(winGen(src, n), emit) },
		Format:     formatQ12,
		DueWall:    q12Due,
		Compare:    Q12Compare,
		TestEvents: 100_000,
	})
}
