package stream_test

import (
	"context"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// Window benchmarks: one op = one event; run with -benchtime=10000000x.
//
// Events: 10k keys round robin, 10 events per millisecond of event time
// (ts = i/10 ms), in order. So a key sees one event per second of event
// time: ~10 events per key per 10 s window (tumbling 10 s, sliding 10 s
// every 2 s). Sessions: two sets of 10k keys take turns every 10 s, so a
// key is active for 10 s (10 events, 1 s apart) and idle for 10 s, and a
// 2 s gap closes its session: ~10 events per session.
const (
	wbKeys    = 10_000
	wbPerMs   = 10
	wbWindow  = 10_000 // ms
	wbSlide   = 2_000  // ms
	wbGap     = 2_000  // ms
	wbSession = 100_000
)

func wbTumblingEvent(i int64) ev { return ev{Key: i % wbKeys, TS: i / wbPerMs, V: 1} }

func wbSessionEvent(i int64) ev {
	return ev{Key: i%wbKeys + wbKeys*((i/wbSession)%2), TS: i / wbPerMs, V: 1}
}

func wbJob(n int64, gen func(int64) ev, a windowing.Assigner) (*stream.Job, *operators.DiscardSink[windowing.Result[int64, int64]]) {
	job := stream.NewJob("bench")
	sink := operators.Discard[windowing.Result[int64, int64]]()
	stream.FromGenerator(job, "gen", n, gen).
		WithWatermarks(timeapi.Ascending(evTime)).
		KeyBy(keyOf).
		Window(a).
		Aggregate(stream.Count[ev]()).
		SinkTo(sink)
	return job, sink
}

// wbKey is the hand loops' map key: a key and a pane (or window) start.
type wbKey struct{ k, p int64 }

// handTumbling counts per (key, window) in a map, remembers the keys of
// each window end, and fires a window's keys when the watermark (the
// latest ts) passes its end.
func handTumbling(n int64) int64 {
	m := make(map[wbKey]int64, 2*wbKeys)
	ends := map[int64][]int64{}
	var fired, next int64 = 0, wbWindow
	for i := range n {
		e := wbTumblingEvent(i)
		for e.TS-1 >= next-1 && e.TS > next-1 { // watermark = ts - 1 passed next-1
			fired += fireHand(m, ends, next, wbWindow)
			next += wbWindow
		}
		ws := e.TS - e.TS%wbWindow
		k := wbKey{e.Key, ws}
		if c, ok := m[k]; ok {
			m[k] = c + 1
			continue
		}
		m[k] = 1
		ends[ws+wbWindow] = append(ends[ws+wbWindow], e.Key)
	}
	for ; len(m) > 0; next += wbWindow {
		fired += fireHand(m, ends, next, wbWindow)
	}
	return fired
}

func fireHand(m map[wbKey]int64, ends map[int64][]int64, end, size int64) int64 {
	var n int64
	for _, k := range ends[end] {
		n += m[wbKey{k, end - size}]
		delete(m, wbKey{k, end - size})
	}
	delete(ends, end)
	return n
}

// handSliding counts per (key, pane of 2 s); at each window end it merges
// the 5 panes of every key with a pane in the window and frees the oldest.
func handSliding(n int64) int64 {
	m := make(map[wbKey]int64, 6*wbKeys)
	keys := map[int64][]int64{} // pane start -> keys that have it
	var sum, next int64 = 0, wbSlide
	last := make(map[int64]int64, wbKeys) // key -> last window end fired
	fire := func(end int64) {
		for ps := end - wbWindow; ps < end; ps += wbSlide {
			for _, k := range keys[ps] {
				if last[k] == end {
					continue
				}
				last[k] = end
				for q := end - wbWindow; q < end; q += wbSlide {
					sum += m[wbKey{k, q}]
				}
			}
		}
		for _, k := range keys[end-wbWindow] {
			delete(m, wbKey{k, end - wbWindow})
		}
		delete(keys, end-wbWindow)
	}
	for i := range n {
		e := wbTumblingEvent(i)
		for e.TS > next-1 {
			fire(next)
			next += wbSlide
		}
		ps := e.TS - e.TS%wbSlide
		k := wbKey{e.Key, ps}
		if c, ok := m[k]; ok {
			m[k] = c + 1
			continue
		}
		m[k] = 1
		keys[ps] = append(keys[ps], e.Key)
	}
	for ; len(m) > 0; next += wbSlide {
		fire(next)
	}
	return sum
}

// handSession keeps one open session per key in a map and a list of keys
// per session end; when the watermark passes an end, the sessions that
// still end there fire, the others (extended) are listed again.
func handSession(n int64) int64 {
	type sess struct{ start, end, n int64 }
	m := make(map[int64]*sess, 2*wbKeys)
	ends := map[int64][]int64{}
	var sum, wm int64
	fire := func(upTo int64) {
		for ; wm <= upTo; wm++ {
			for _, k := range ends[wm] {
				s := m[k]
				if s == nil {
					continue
				}
				if s.end-1 > wm {
					ends[s.end-1] = append(ends[s.end-1], k)
					continue
				}
				sum += s.n
				delete(m, k)
			}
			delete(ends, wm)
		}
	}
	for i := range n {
		e := wbSessionEvent(i)
		fire(e.TS - 1)
		if s := m[e.Key]; s != nil {
			s.end, s.n = max(s.end, e.TS+wbGap), s.n+1
			continue
		}
		m[e.Key] = &sess{e.TS, e.TS + wbGap, 1}
		ends[e.TS+wbGap-1] = append(ends[e.TS+wbGap-1], e.Key)
	}
	fire(wm + 10*wbGap)
	return sum
}

func BenchmarkWindowTumbling(b *testing.B) {
	benchWindow(b, handTumbling, wbTumblingEvent, windowing.Tumbling(wbWindow*time.Millisecond))
}

func BenchmarkWindowSliding(b *testing.B) {
	benchWindow(b, handSliding, wbTumblingEvent, windowing.Sliding(wbWindow*time.Millisecond, wbSlide*time.Millisecond))
}

func BenchmarkWindowSession(b *testing.B) {
	benchWindow(b, handSession, wbSessionEvent, windowing.Session(wbGap*time.Millisecond))
}

func benchWindow(b *testing.B, hand func(int64) int64, gen func(int64) ev, a windowing.Assigner) {
	var handRate float64
	b.Run("handloop", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		if hand(int64(b.N)) == 0 {
			b.Fatal("hand loop fired nothing")
		}
		handRate = float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(handRate, "events/s")
	})
	b.Run("weir/p=1", func(b *testing.B) {
		job, sink := wbJob(int64(b.N), gen, a)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		if err := runtime.Run(context.Background(), job, runtime.Parallelism(1)); err != nil {
			b.Fatal(err)
		}
		rate := float64(b.N) / time.Since(start).Seconds()
		b.StopTimer()
		if sink.Count() == 0 {
			b.Fatal("no window fired")
		}
		b.ReportMetric(rate, "events/s")
		if handRate > 0 {
			b.ReportMetric(rate/handRate, "x_handloop")
		}
	})
}

// BenchmarkWindowHeapFlat runs 50M events through a tumbling count at
// parallelism 1 and reports the heap in use after 10M and after 50M
// events (after a GC): with state freed as windows fire, the two stay
// within 10% (heap_growth_% reports the difference). It ignores b.N.
func BenchmarkWindowHeapFlat(b *testing.B) {
	const total = 50_000_000
	var at10, at50 uint64
	heap := func() uint64 {
		goruntime.GC()
		var ms goruntime.MemStats
		goruntime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	gen := func(i int64) ev {
		switch i {
		case 10_000_000:
			at10 = heap()
		case total - 1:
			at50 = heap()
		}
		return wbTumblingEvent(i)
	}
	for range b.N {
		job, _ := wbJob(total, gen, windowing.Tumbling(wbWindow*time.Millisecond))
		if err := runtime.Run(context.Background(), job, runtime.Parallelism(1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(at10)/(1<<20), "heap_MiB@10M")
	b.ReportMetric(float64(at50)/(1<<20), "heap_MiB@50M")
	b.ReportMetric(100*(float64(at50)-float64(at10))/float64(at10), "heap_growth_%")
}

// wide is an accumulator of 16 words, like the report queries' (q15).
type wide struct{ N, Sum [8]int64 }

type wideAgg struct{}

func (wideAgg) Init() wide { return wide{} }
func (wideAgg) Add(a wide, e ev) wide {
	a.N[e.V&7]++
	a.Sum[e.V&7] += e.V
	return a
}
func (wideAgg) Merge(a, b wide) wide {
	for i := range a.N {
		a.N[i], a.Sum[i] = a.N[i]+b.N[i], a.Sum[i]+b.Sum[i]
	}
	return a
}
func (wideAgg) Result(a wide) int64 { return a.N[1] }

// wideAddTo is wideAgg with the in-place AddTo.
type wideAddTo struct{ wideAgg }

func (wideAddTo) AddTo(a *wide, e ev) {
	a.N[e.V&7]++
	a.Sum[e.V&7] += e.V
}

// BenchmarkWindowWideAcc: a tumbling window aggregating into a 128-byte
// accumulator through Add (copied in and out per event) and through
// AddTo (in place), in one run; one op = one event.
func BenchmarkWindowWideAcc(b *testing.B) {
	for _, c := range []struct {
		name string
		agg  stream.Aggregator[ev, wide, int64]
	}{{"add", wideAgg{}}, {"addto", wideAddTo{}}} {
		b.Run(c.name, func(b *testing.B) {
			job := stream.NewJob("bench")
			sink := operators.Discard[windowing.Result[int64, int64]]()
			stream.FromGenerator(job, "gen", int64(b.N), wbTumblingEvent).
				WithWatermarks(timeapi.Ascending(evTime)).
				KeyBy(keyOf).
				Window(windowing.Tumbling(wbWindow * time.Millisecond)).
				Aggregate(c.agg).
				SinkTo(sink)
			b.ReportAllocs()
			b.ResetTimer()
			if err := runtime.Run(context.Background(), job, runtime.Parallelism(1)); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if b.N > 2*wbWindow*wbPerMs && sink.Count() == 0 {
				b.Fatal("no window fired")
			}
		})
	}
}
