package nexmark

import (
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

// Helpers of the windowed queries (q5, q7, q8, q11, q12).

// winEventTime stamps events with their event time and ascending
// watermarks. Each generator split is in event-time order, so the
// strategy is exact: no record is late, whatever the parallelism (an
// operator's watermark is the least of its inputs').
func winEventTime(events stream.DataStream[Event]) stream.DataStream[Event] {
	return events.WithWatermarks(timeapi.Ascending(gen.EventTime))
}

// winStart is the start of the epoch-aligned window of length size
// (Unix ms) holding ts.
func winStart(ts, size int64) int64 {
	r := ts % size
	if r < 0 {
		r += size
	}
	return ts - r
}

// winTime renders a window bound for Format.
func winTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000") }

// winMillis renders a window bound given in Unix ms.
func winMillis(ms int64) string { return winTime(timeapi.Time(ms)) }

// winHand calls f for events 0..n-1 of src in order, with each event's
// time in Unix ms. The event is reused: f must copy what it keeps.
func winHand(src *gen.Source, n int64, f func(e *Event, ts int64)) {
	var e Event
	for i := range n {
		ts := src.Fill(i, &e)
		f(&e, ts)
	}
}
