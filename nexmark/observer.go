package nexmark

import (
	"math/bits"
	"sync"
	"time"

	"github.com/weirstream/weir/operators"
)

// Observer is the sink `weir nexmark` and the benchmarks end a query in: it
// counts results and, when Clock is set, records each result's latency.
// Each sink subtask counts on its own and merges when it closes.
type Observer struct {
	// Clock maps event time to the wall time a paced source releases it;
	// nil: latency is not measured.
	Clock *PaceClock
	// SlowAbove, when positive, makes the observer keep a timeline of the
	// results slower than it (Slow): where in the run the tail comes from.
	SlowAbove time.Duration

	mu      sync.Mutex
	count   int64
	early   int64
	latency Histogram
	slow    Timeline
}

// PaceClock says when a paced source releases event time: event time Base
// at wall time Start, and event time t at Start + (t - Base).
type PaceClock struct {
	Start, Base time.Time
}

// Count is the number of results the closed sink subtasks saw.
func (o *Observer) Count() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count
}

// Early is the number of results emitted before they were due: results
// the end of the input flushed (a window that had not closed), which have
// no latency to measure.
func (o *Observer) Early() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.early
}

// Latency returns a copy of the latency histogram of the closed sink
// subtasks.
func (o *Observer) Latency() Histogram {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.latency
}

type observerSink[R any] struct {
	obs     *Observer
	due     func(*R) int64
	dueWall func(*R) int64
}

func (s observerSink[R]) Open(*operators.Context) (operators.Writer[R], error) {
	return &observerWriter[R]{obs: s.obs, due: s.due, dueWall: s.dueWall, slowAbove: s.obs.SlowAbove}, nil
}

// Slow returns a copy of the timeline of slow results of the closed sink
// subtasks (empty unless SlowAbove is set).
func (o *Observer) Slow() Timeline {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.slow.clone()
}

type observerWriter[R any] struct {
	obs          *Observer
	due, dueWall func(*R) int64 // Unix ns (Spec.Due, Spec.DueWall)
	count, early int64
	hist         Histogram
	slow         Timeline
	slowAbove    time.Duration // the observer's SlowAbove
}

func (w *observerWriter[R]) Write(b *operators.Batch[R]) error {
	w.count += int64(len(b.Values))
	if w.obs.Clock == nil || len(b.Values) == 0 {
		return nil
	}
	// Offsets from the pace clock's start: now's is monotonic, a due
	// time's comes from its event time (or wall time) in nanoseconds, with
	// no time.Time arithmetic per result.
	c := w.obs.Clock
	since, base := time.Since(c.Start), c.Base.UnixNano()
	switch {
	case w.dueWall != nil:
		start := c.Start.UnixNano()
		for i := range b.Values {
			w.record(since, time.Duration(w.dueWall(&b.Values[i])-start))
		}
	case w.due != nil:
		for i := range b.Values {
			w.record(since, time.Duration(w.due(&b.Values[i])-base))
		}
	default:
		// the record time: the event's time for a query that keeps it
		for _, t := range b.Times {
			w.record(since, time.Duration(t*int64(time.Millisecond)-base))
		}
	}
	return nil
}

// record adds the latency of a result due at due and emitted at since
// (both from the pace clock's start); one emitted before it was due
// (flushed by the end of the input) is counted apart.
func (w *observerWriter[R]) record(since, due time.Duration) {
	d := since - due
	if d < 0 {
		w.early++
		return
	}
	w.hist.Record(d)
	if s := w.slowAbove; s > 0 && d > s {
		w.slow.add(since, d)
	}
}

func (w *observerWriter[R]) Close() error {
	w.obs.mu.Lock()
	defer w.obs.mu.Unlock()
	w.obs.count += w.count
	w.obs.early += w.early
	w.obs.latency.Merge(&w.hist)
	w.obs.slow.merge(&w.slow)
	w.count, w.early = 0, 0
	w.hist, w.slow = Histogram{}, Timeline{}
	return nil
}

// Histogram is a log-linear histogram of durations: 32 buckets per power of
// two of nanoseconds, so a quantile is within about 3% of the true value.
// Negative durations (a result before its due time, which a coarse clock
// can give) count as zero. The zero value is empty.
type Histogram struct {
	counts [64 * histSub]int64
	n      int64
	max    time.Duration
}

const histSubBits = 5
const histSub = 1 << histSubBits

func histBucket(ns uint64) int {
	if ns < histSub {
		return int(ns)
	}
	exp := bits.Len64(ns) - 1 - histSubBits
	return (exp+1)*histSub + int(ns>>uint(exp))&(histSub-1)
}

// bucketLow is the smallest duration in bucket i.
func bucketLow(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	exp := i/histSub - 1
	return (histSub + uint64(i%histSub)) << uint(exp)
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	h.counts[histBucket(uint64(d))]++
	h.n++
	h.max = max(h.max, d)
}

// Merge adds o's durations to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count is the number of durations recorded.
func (h *Histogram) Count() int64 { return h.n }

// Max is the largest duration recorded.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the q-quantile (0 < q <= 1) as the lower bound of its
// bucket (the maximum for q = 1), or -1 when nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return -1
	}
	if q >= 1 {
		return h.max
	}
	rank := int64(q*float64(h.n-1)) + 1
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(bucketLow(i)), h.max)
		}
	}
	return h.max
}

// Timeline counts slow results by the millisecond of the run (wall time
// since the pace clock's start) in which they reached the sink, with the
// slowest of each millisecond. The zero value is empty.
type Timeline struct {
	ms []slowMs // by millisecond of the run
}

type slowMs struct {
	n   int64
	max time.Duration
}

func (t *Timeline) add(at, d time.Duration) {
	i := max(int(at/time.Millisecond), 0)
	if i >= len(t.ms) {
		t.ms = append(t.ms, make([]slowMs, i+1-len(t.ms)+1024)...)
	}
	t.ms[i].n++
	t.ms[i].max = max(t.ms[i].max, d)
}

func (t *Timeline) merge(o *Timeline) {
	if len(o.ms) > len(t.ms) {
		t.ms = append(t.ms, make([]slowMs, len(o.ms)-len(t.ms))...)
	}
	for i, m := range o.ms {
		t.ms[i].n += m.n
		t.ms[i].max = max(t.ms[i].max, m.max)
	}
}

func (t *Timeline) clone() Timeline {
	return Timeline{ms: append([]slowMs(nil), t.ms...)}
}

// Episode is a stretch of the run in which slow results reached the sink
// with no gap of more than the gap Episodes was given.
type Episode struct {
	From, To time.Duration // wall time since the pace clock's start
	Count    int64         // slow results
	Max      time.Duration // the slowest
}

// Episodes joins the milliseconds with slow results into episodes, a gap
// of up to gap between slow results staying within one.
func (t Timeline) Episodes(gap time.Duration) []Episode {
	var out []Episode
	for i, m := range t.ms {
		if m.n == 0 {
			continue
		}
		at := time.Duration(i) * time.Millisecond
		if k := len(out) - 1; k >= 0 && at-out[k].To <= gap {
			out[k].To = at + time.Millisecond
			out[k].Count += m.n
			out[k].Max = max(out[k].Max, m.max)
			continue
		}
		out = append(out, Episode{From: at, To: at + time.Millisecond, Count: m.n, Max: m.max})
	}
	return out
}
