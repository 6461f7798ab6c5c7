package stream_test

import (
	"context"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// Join benchmarks: one op = one event (half of them left, half right);
// run with -benchtime=10000000x. Each side: 10k keys round robin, 5
// events per ms of event time, in order, so a key sees one event per side
// every 2 s. Interval join [-1 s, +1 s]: each left record matches the
// right record of its key at the same time. Window join: tumbling 10 s,
// 5 left x 5 right records per key and window.
const (
	jbKeys  = 10_000
	jbPerMs = 5
	jbLower = -1000 // ms
	jbUpper = 1000  // ms
	jbWin   = 10_000
)

func jbEvent(j int64) ev { return ev{Key: j % jbKeys, TS: j / jbPerMs, V: 1} }

// jbRec is a buffered record of the hand loops.
type jbRec struct{ ts, v int64 }

// handInterval is the interval join as one plain loop: per key, slices
// of buffered records per side; every 1000 events the watermark (the
// latest time) drops what can no longer match.
func handInterval(n int64) int64 {
	left := make(map[int64][]jbRec, jbKeys)
	right := make(map[int64][]jbRec, jbKeys)
	var out int64
	for i := range n {
		e := jbEvent(i / 2)
		if i%2 == 0 {
			for _, r := range right[e.Key] {
				if r.ts >= e.TS+jbLower && r.ts <= e.TS+jbUpper {
					out += e.V + r.v
				}
			}
			left[e.Key] = append(left[e.Key], jbRec{e.TS, e.V})
		} else {
			for _, l := range left[e.Key] {
				if e.TS >= l.ts+jbLower && e.TS <= l.ts+jbUpper {
					out += l.v + e.V
				}
			}
			right[e.Key] = append(right[e.Key], jbRec{e.TS, e.V})
		}
		if i%1000 == 999 {
			wm := e.TS - 1
			expireHand(left, func(r jbRec) bool { return r.ts+jbUpper <= wm })
			expireHand(right, func(r jbRec) bool { return r.ts-jbLower <= wm })
		}
	}
	return out
}

func expireHand(m map[int64][]jbRec, old func(jbRec) bool) {
	for k, rs := range m {
		i := 0
		for i < len(rs) && old(rs[i]) {
			i++
		}
		switch {
		case i == len(rs):
			delete(m, k)
		case i > 0:
			m[k] = rs[i:]
		}
	}
}

// handWindow is the tumbling window join as one plain loop: records per
// (key, window) and side, fired in window order when the latest time
// passes the window's end.
func handWindow(n int64) int64 {
	type cell struct{ ls, rs []int64 }
	cells := make(map[wbKey]*cell, 2*jbKeys)
	byEnd := map[int64][]int64{}
	var out, next int64 = 0, jbWin
	fire := func(end int64) {
		for _, k := range byEnd[end] {
			c := cells[wbKey{k, end}]
			for _, l := range c.ls {
				for _, r := range c.rs {
					out += l + r
				}
			}
			delete(cells, wbKey{k, end})
		}
		delete(byEnd, end)
	}
	for i := range n {
		e := jbEvent(i / 2)
		for e.TS >= next {
			fire(next)
			next += jbWin
		}
		end := e.TS - e.TS%jbWin + jbWin
		c := cells[wbKey{e.Key, end}]
		if c == nil {
			c = &cell{}
			cells[wbKey{e.Key, end}] = c
			byEnd[end] = append(byEnd[end], e.Key)
		}
		if i%2 == 0 {
			c.ls = append(c.ls, e.V)
		} else {
			c.rs = append(c.rs, e.V)
		}
	}
	fire(next)
	return out
}

func jbSources(job *stream.Job, n int64) (stream.KeyedStream[int64, ev], stream.KeyedStream[int64, ev]) {
	left := stream.FromGenerator(job, "left", n/2, jbEvent).WithWatermarks(timeapi.Ascending(evTime)).KeyBy(keyOf)
	right := stream.FromGenerator(job, "right", n-n/2, jbEvent).WithWatermarks(timeapi.Ascending(evTime)).KeyBy(keyOf)
	return left, right
}

func benchJoin(b *testing.B, hand func(int64) int64, build func(job *stream.Job, n int64) *operators.DiscardSink[int64]) {
	var handRate float64
	b.Run("handloop", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		if hand(int64(b.N)) == 0 && b.N > 1000 {
			b.Fatal("hand loop joined nothing")
		}
		handRate = float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(handRate, "events/s")
	})
	b.Run("weir/p=1", func(b *testing.B) {
		job := stream.NewJob("bench")
		sink := build(job, int64(b.N))
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		if err := runtime.Run(context.Background(), job, runtime.Parallelism(1)); err != nil {
			b.Fatal(err)
		}
		rate := float64(b.N) / time.Since(start).Seconds()
		b.StopTimer()
		if sink.Count() == 0 && b.N > 1000 {
			b.Fatal("joined nothing")
		}
		b.ReportMetric(rate, "events/s")
		if handRate > 0 {
			b.ReportMetric(rate/handRate, "x_handloop")
		}
	})
}

func BenchmarkIntervalJoin(b *testing.B) {
	benchJoin(b, handInterval, func(job *stream.Job, n int64) *operators.DiscardSink[int64] {
		left, right := jbSources(job, n)
		sink := operators.Discard[int64]()
		left.IntervalJoin(right, jbLower*time.Millisecond, jbUpper*time.Millisecond,
			func(l, r ev) int64 { return l.V + r.V }).SinkTo(sink)
		return sink
	})
}

func BenchmarkWindowJoin(b *testing.B) {
	benchJoin(b, handWindow, func(job *stream.Job, n int64) *operators.DiscardSink[int64] {
		left, right := jbSources(job, n)
		sink := operators.Discard[int64]()
		stream.WindowJoin(left, right, windowing.Tumbling(jbWin*time.Millisecond), stream.InnerJoin,
			func(k int64, l, r *ev) int64 { return l.V + r.V }).SinkTo(sink)
		return sink
	})
}
