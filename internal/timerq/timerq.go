// Package timerq provides Queue, the timer store of weir's keyed
// operators: timers are kept in buckets by time, plus a min-heap of the
// distinct times that have a bucket. Registering a timer appends to its
// time's bucket (the last bucket used is cached, and timers cluster at a
// few times: window ends, processing-time ticks, the end of input), and
// firing takes whole buckets in time order. A bucket's timers are a
// chunk.List, so a bucket of 600k timers grows without copying.
//
// What a bucket needs besides its timers (an index for deduplication, a
// firing position) is its X. Emptied buckets, their X and their chunks are
// reused.
package timerq

import (
	"iter"
	"slices"

	"github.com/weirstream/weir/internal/chunk"
)

// Bucket is the timers of one time.
type Bucket[E, X any] struct {
	Timers chunk.List[E]
	X      X
}

// Queue is timers of element type E in buckets by time. The zero Queue is
// not ready: use New.
type Queue[E, X any] struct {
	// Chunks holds the emptied chunks of the buckets' lists; append to a
	// bucket's Timers with it.
	Chunks  chunk.Pool[E]
	buckets map[int64]*Bucket[E, X]
	times   []int64 // min-heap
	free    []*Bucket[E, X]
	last    *Bucket[E, X]
	lastT   int64
}

// maxFree bounds the emptied buckets kept for reuse.
const maxFree = 64

// New returns an empty queue.
func New[E, X any]() Queue[E, X] {
	return Queue[E, X]{buckets: make(map[int64]*Bucket[E, X])}
}

// Bucket returns the bucket of time t, creating it (created is then true)
// when there is none.
func (q *Queue[E, X]) Bucket(t int64) (b *Bucket[E, X], created bool) {
	if b = q.last; b != nil && q.lastT == t {
		return b, false
	}
	if b = q.buckets[t]; b == nil {
		if n := len(q.free); n > 0 {
			b, q.free = q.free[n-1], q.free[:n-1]
		} else {
			b = new(Bucket[E, X])
		}
		q.buckets[t] = b
		q.push(t)
		created = true
	}
	q.last, q.lastT = b, t
	return b, created
}

// Get returns the bucket of time t, or nil.
func (q *Queue[E, X]) Get(t int64) *Bucket[E, X] {
	if q.last != nil && q.lastT == t {
		return q.last
	}
	return q.buckets[t]
}

// Min returns the earliest bucket and its time, if any.
func (q *Queue[E, X]) Min() (int64, *Bucket[E, X], bool) {
	if len(q.times) == 0 {
		return 0, nil, false
	}
	t := q.times[0]
	return t, q.Get(t), true
}

// PopMin removes the earliest bucket from the queue and returns it; hand
// it back with Recycle once its timers are handled.
func (q *Queue[E, X]) PopMin() (int64, *Bucket[E, X], bool) {
	if len(q.times) == 0 {
		return 0, nil, false
	}
	t := q.times[0]
	n := len(q.times) - 1
	q.times[0] = q.times[n]
	q.times = q.times[:n]
	q.down(0)
	b := q.buckets[t]
	delete(q.buckets, t)
	if q.last == b {
		q.last = nil
	}
	return t, b, true
}

// Recycle takes back a popped bucket: its timers are cleared and x resets
// its X (nil keeps it as it is).
func (q *Queue[E, X]) Recycle(b *Bucket[E, X], x func(*X)) {
	b.Timers.Reset(&q.Chunks)
	if x != nil {
		x(&b.X)
	}
	if len(q.free) < maxFree {
		q.free = append(q.free, b)
	}
}

// All yields every bucket with its time, in no particular order. The
// queue must not change meanwhile.
func (q *Queue[E, X]) All() iter.Seq2[int64, *Bucket[E, X]] {
	return func(yield func(int64, *Bucket[E, X]) bool) {
		for t, b := range q.buckets {
			if !yield(t, b) {
				return
			}
		}
	}
}

// Ascending yields every bucket with its time, earliest first, for the
// cost of sorting the times (not the timers). The queue must not change
// meanwhile.
func (q *Queue[E, X]) Ascending() iter.Seq2[int64, *Bucket[E, X]] {
	return func(yield func(int64, *Bucket[E, X]) bool) {
		times := slices.Clone(q.times)
		slices.Sort(times)
		for _, t := range times {
			if !yield(t, q.buckets[t]) {
				return
			}
		}
	}
}

// PerKeyGroup collects what the buckets of qs hold for the key groups
// [start, start+n) (a checkpoint's): each(i, t, b, add) calls add with
// the key group and the record of each timer of bucket b of time t of
// qs[i] it keeps. It returns the records per key group, indexed from
// start, queue by queue and within a queue in time order, a bucket's in
// the order each adds them: no map lookup and no sort per timer.
func PerKeyGroup[E, X, T any](qs []*Queue[E, X], start, n int, each func(i int, t int64, b *Bucket[E, X], add func(kg int, v T))) [][]T {
	groups := make([][]T, n)
	add := func(kg int, v T) {
		if uint(kg-start) < uint(n) {
			groups[kg-start] = append(groups[kg-start], v)
		}
	}
	for i, q := range qs {
		for t, b := range q.Ascending() {
			each(i, t, b, add)
		}
	}
	return groups
}

// Len is the number of buckets.
func (q *Queue[E, X]) Len() int { return len(q.times) }

func (q *Queue[E, X]) push(t int64) {
	q.times = append(q.times, t)
	for i := len(q.times) - 1; i > 0; {
		p := (i - 1) / 2
		if q.times[p] <= q.times[i] {
			break
		}
		q.times[p], q.times[i] = q.times[i], q.times[p]
		i = p
	}
}

func (q *Queue[E, X]) down(i int) {
	h := q.times
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		if r := l + 1; r < len(h) && h[r] < h[l] {
			l = r
		}
		if h[i] <= h[l] {
			return
		}
		h[i], h[l] = h[l], h[i]
		i = l
	}
}
