package nexmark

import (
	"fmt"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
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
// The job projects bids to their bidder and counts them in session
// windows keyed by bidder. A session is [first bid, last bid + gap); it
// is emitted when the watermark passes its end.
func Q11(events stream.DataStream[Event]) stream.DataStream[Q11Result] {
	return winEventTime(events).FlatMap(func(e Event, emit func(int64)) {
		if e.Kind == gen.KindBid {
			emit(e.Bid.Bidder)
		}
	}).Name("q11-bidders").
		KeyBy(func(b int64) int64 { return b }).
		Window(windowing.Session(Q11Gap)).
		Aggregate(stream.Count[int64]()).Name("q11-sessions").
		Map(func(r windowing.Result[int64, int64]) Q11Result {
			return Q11Result{Bidder: r.Key, Count: r.Value, Start: r.Window.Start, End: r.Window.End}
		}).Name("q11-result")
}

// q11Session is an open session in handQ11 (Unix ms).
type q11Session struct{ start, end, count int64 }

// handQ11 keeps each bidder's open session: a bid before its end extends
// it, a later one closes it and opens the next. Every gap of event time
// it emits and forgets the sessions that ended.
func handQ11(src *gen.Source, n int64, emit func(Q11Result)) {
	const gap = int64(Q11Gap / time.Millisecond)
	open := map[int64]q11Session{}
	out := func(bidder int64, s q11Session) {
		emit(Q11Result{Bidder: bidder, Count: s.count, Start: timeapi.Time(s.start), End: timeapi.Time(s.end)})
	}
	sweep := int64(-1 << 63)
	winHand(src, n, func(e *Event, ts int64) {
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

func init() {
	Register(Spec[Q11Result]{
		Name: "q11", Title: "user sessions",
		Build: Q11,
		Hand:  handQ11,
		Format: func(r Q11Result) string {
			return fmt.Sprintf("bidder=%d count=%d session=[%s,%s)", r.Bidder, r.Count, winTime(r.Start), winTime(r.End))
		},
		Due:        func(r Q11Result) time.Time { return r.End },
		TestEvents: 300_000,
	})
}
