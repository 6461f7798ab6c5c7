package nexmark

import (
	"fmt"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// Q11Gap is the inactivity that ends a Q11 session.
const Q11Gap = 10 * time.Second

// Q11Result is one session of a bidder.
type Q11Result struct {
	Bidder     int64
	Count      int64 // bids in the session
	Start, End time.Time
}

// Q11 is user sessions: the bids of each bidder's sessions, a session
// ending after 10 s without a bid.
//
//	SELECT B.bidder, count(*) AS bid_count,
//	       SESSION_START(B.dateTime, INTERVAL '10' SECOND) AS starttime,
//	       SESSION_END(B.dateTime, INTERVAL '10' SECOND) AS endtime
//	FROM bid B
//	GROUP BY B.bidder, SESSION(B.dateTime, INTERVAL '10' SECOND)
//
// The job counts in two phases. Every subtask of the source's chain
// combines each batch's bids per bidder (a Transform with a plain map,
// like a mini-batch local aggregation: bids never cross an exchange) and
// passes on, per bidder, its bid count at the time of its first bid in
// the batch and a zero at the time of its last. Keyed by bidder, session
// windows add up the counts. The bids of a bidder in one batch are less
// than the gap apart, so the windows of the two records overlap and the
// sessions are exactly those of the bids themselves; the records are
// passed on before the batch's watermark, so none is late. A session is
// [first bid, last bid + gap); it is emitted when the watermark passes
// its end.
func Q11(events stream.DataStream[Event]) stream.DataStream[Q11Result] {
	return WithEventTime(events).Transform("q11-combine", func() operators.OneInputOperator[Event, q11Count] {
		return &q11Combine{}
	}).KeyBy(func(c q11Count) int64 { return c.Bidder }).
		Window(windowing.Session(Q11Gap)).
		Aggregate(stream.Sum(func(c q11Count) int64 { return c.Count })).Name("q11-sessions").
		Map(func(r windowing.Result[int64, int64]) Q11Result {
			return Q11Result{Bidder: r.Key, Count: r.Value, Start: r.Window.Start, End: r.Window.End}
		}).Name("q11-result")
}

// q11Count is a number of bids of a bidder.
type q11Count struct {
	Bidder, Count int64
}

// q11Span is the bids of a bidder in a batch: at times in [first, last]
// (Unix ms), last - first < gap.
type q11Span struct {
	bidder, first, last, count int64
}

// q11Combine is the local phase: the spans of the batch's bidders, in
// order of their first bid, and an index by bidder. It keeps nothing from
// one batch to the next, so it has no state to checkpoint.
type q11Combine struct {
	operators.Base
	out   *operators.Emitter[q11Count]
	idx   map[int64]int32
	spans []q11Span
}

func (l *q11Combine) Open(_ *operators.Context, out *operators.Emitter[q11Count]) error {
	l.out, l.idx = out, map[int64]int32{}
	return nil
}

func (l *q11Combine) ProcessBatch(in *operators.Batch[Event]) error {
	const gap = int64(Q11Gap / time.Millisecond)
	for i := range in.Values {
		e := &in.Values[i]
		if e.Kind != gen.KindBid {
			continue
		}
		b, ts := e.Bid.Bidder, in.Times[i]
		j, ok := l.idx[b]
		if !ok {
			l.idx[b] = int32(len(l.spans))
			l.spans = append(l.spans, q11Span{bidder: b, first: ts, last: ts, count: 1})
			continue
		}
		s := &l.spans[j]
		if max(s.last, ts)-min(s.first, ts) >= gap { // a batch longer than the gap
			l.emit(s)
			*s = q11Span{bidder: b, first: ts, last: ts}
		}
		s.first, s.last, s.count = min(s.first, ts), max(s.last, ts), s.count+1
	}
	for i := range l.spans {
		l.emit(&l.spans[i])
	}
	l.spans = l.spans[:0]
	clear(l.idx)
	return nil
}

// emit passes on span s as its records.
func (l *q11Combine) emit(s *q11Span) {
	l.out.Emit(q11Count{Bidder: s.bidder, Count: s.count}, s.first)
	if s.last != s.first {
		l.out.Emit(q11Count{Bidder: s.bidder}, s.last)
	}
}

// q11Session is an open session in handQ11 (Unix ms).
type q11Session struct{ start, end, count int64 }

// handQ11On keeps each bidder's open session: a bid before its end extends
// it, a later one closes it and opens the next. Every gap of event time
// it emits and forgets the sessions that ended.
func handQ11On(events winEvents, emit func(Q11Result)) {
	const gap = int64(Q11Gap / time.Millisecond)
	open := map[int64]q11Session{}
	out := func(bidder int64, s q11Session) {
		emit(Q11Result{Bidder: bidder, Count: s.count, Start: timeapi.Time(s.start), End: timeapi.Time(s.end)})
	}
	sweep := int64(-1 << 63)
	events(func(e *Event, ts int64) {
		if e.Kind != gen.KindBid {
			return
		}
		if ts >= sweep {
			for b, s := range open {
				if s.end <= ts {
					out(b, s)
					delete(open, b)
				}
			}
			sweep = ts + gap
		}
		s, ok := open[e.Bid.Bidder]
		switch {
		case ok && ts < s.end:
			s.count++
			s.end = max(s.end, ts+gap)
		case ok:
			out(e.Bid.Bidder, s)
			fallthrough
		default:
			s = q11Session{start: ts, end: ts + gap, count: 1}
		}
		open[e.Bid.Bidder] = s
	})
	for b, s := range open {
		out(b, s)
	}
}

// formatQ11 renders a result for golden files and comparisons.
func formatQ11(r Q11Result) string {
	return fmt.Sprintf("bidder=%d count=%d session=[%s,%s)", r.Bidder, r.Count, winTime(r.Start), winTime(r.End))
}

func init() {
	Register(Spec[Q11Result]{
		Name: "q11", Title: "user sessions",
		Build:      Q11,
		Hand:       func(src *gen.Source, n int64, emit func(Q11Result)) { handQ11On(winGen(src, n), emit) },
		Format:     formatQ11,
		Due:        func(r *Q11Result) int64 { return windowDue(r.End) },
		TestEvents: 300_000,
	})
}
