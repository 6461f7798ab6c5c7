package windowing

import "slices"

// timer is a pending window timer of one key. Aligned windows: the timer
// of the window ending at aux. Sessions: the timer of the session starting
// at aux. Cleanup timers free aligned windows' state once their
// allowed lateness has passed.
type timer[K comparable] struct {
	key     K
	aux     int64
	kg      uint16
	cleanup bool
}

// timerQueue holds timers in buckets by time, plus a min-heap of the
// distinct times that have a bucket: registering a timer appends to a
// bucket (the last one used is cached), and firing pops whole buckets in
// time order. There is no per-timer deduplication: the window logic
// registers a timer only when a window's state appears, and tolerates the
// rare duplicate (see Operator). Emptied buckets and their full-size
// chunks are reused.
type timerQueue[K comparable] struct {
	scratch []timer[K] // byKeyGroup's
	counts  []int      // byKeyGroup's
	runs    [][]timer[K]
	buckets map[int64]*bucket[K]
	times   []int64 // min-heap
	free    []*bucket[K]
	chunks  [][]timer[K] // free chunks of chunkLen
	last    *bucket[K]
	lastT   int64
	n       int
}

// bucket is the timers of one time, in chunks that double in size up to
// chunkLen: appending never copies the timers already there. (A window
// end over 600k keys grew one slice by doubling: megabytes copied, and
// page faults on the fresh memory, inside the firing loop.)
type bucket[K comparable] struct {
	chunks [][]timer[K] // all full but the last
	n      int
}

const (
	firstChunk = 8
	chunkLen   = 1024
	// maxFreeChunks bounds the full-size chunks kept for reuse.
	maxFreeChunks = 1024
)

func newTimerQueue[K comparable]() timerQueue[K] {
	return timerQueue[K]{buckets: make(map[int64]*bucket[K])}
}

// add registers tm at time t.
func (q *timerQueue[K]) add(t int64, tm timer[K]) {
	q.n++
	b := q.last
	if b == nil || q.lastT != t {
		if b = q.buckets[t]; b == nil {
			if n := len(q.free); n > 0 {
				b, q.free = q.free[n-1], q.free[:n-1]
			} else {
				b = new(bucket[K])
			}
			q.buckets[t] = b
			q.push(t)
		}
		q.last, q.lastT = b, t
	}
	k := len(b.chunks) - 1
	if k < 0 || len(b.chunks[k]) == cap(b.chunks[k]) {
		b.chunks = append(b.chunks, q.chunk(len(b.chunks)))
		k++
	}
	b.chunks[k] = append(b.chunks[k], tm)
	b.n++
}

// chunk returns an empty chunk for the i-th chunk of a bucket.
func (q *timerQueue[K]) chunk(i int) []timer[K] {
	size := chunkLen
	if i < 7 { // firstChunk << 7 == chunkLen
		size = firstChunk << i
	}
	if n := len(q.chunks); size == chunkLen && n > 0 {
		c := q.chunks[n-1]
		q.chunks = q.chunks[:n-1]
		return c
	}
	return make([]timer[K], 0, size)
}

// pop removes and returns the earliest bucket if its time is <= upTo.
// Hand the bucket back with recycle once its timers are handled.
func (q *timerQueue[K]) pop(upTo int64) (int64, *bucket[K], bool) {
	if len(q.times) == 0 || q.times[0] > upTo {
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
	q.n -= b.n
	return t, b, true
}

// maxFree bounds the number of emptied buckets kept for reuse.
const maxFree = 64

// recycle takes back a popped bucket, and the scratch of byKeyGroup.
func (q *timerQueue[K]) recycle(b *bucket[K]) {
	clear(q.scratch)
	q.scratch = q.scratch[:0]
	for i, c := range b.chunks {
		clear(c) // keeps no keys alive
		if i > 0 && cap(c) == chunkLen && len(q.chunks) < maxFreeChunks {
			q.chunks = append(q.chunks, c[:0])
		}
	}
	if len(b.chunks) > 0 {
		first := b.chunks[0][:0] // stays with the bucket: most buckets need no other
		clear(b.chunks)
		b.chunks = append(b.chunks[:0], first)
	}
	b.n = 0
	if len(q.free) < maxFree {
		q.free = append(q.free, b)
	}
}

// len is the number of pending timers.
func (q *timerQueue[K]) len() int { return q.n }

func (q *timerQueue[K]) push(t int64) {
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

func (q *timerQueue[K]) down(i int) {
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

// byKeyGroup returns the timers of bucket b ordered by key group, keeping
// their order within a key group (a counting sort: O(len + key groups)),
// as runs to fire in turn, good until b is recycled. Firing them then
// works through one key group's state tables at a time, which stay in
// cache, instead of jumping between them from timer to timer: a window
// end over 600k keys fired 25-30% faster (Nexmark q5). Windows that end
// together are emitted in this order.
func (q *timerQueue[K]) byKeyGroup(b *bucket[K]) [][]timer[K] {
	if b.n < 2 {
		return b.chunks
	}
	first := b.chunks[0][0].kg
	lo, hi, prev := first, first, first
	sorted := true
	for _, c := range b.chunks {
		for i := range c {
			kg := c[i].kg
			sorted = sorted && kg >= prev
			lo, hi, prev = min(lo, kg), max(hi, kg), kg
		}
	}
	if sorted {
		return b.chunks
	}
	counts := slices.Grow(q.counts[:0], int(hi-lo)+2)[:int(hi-lo)+2]
	clear(counts)
	for _, c := range b.chunks {
		for i := range c {
			counts[c[i].kg-lo+1]++
		}
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1] // counts[kg-lo]: where key group kg starts
	}
	out := slices.Grow(q.scratch[:0], b.n)[:b.n]
	for _, c := range b.chunks {
		for i := range c {
			j := &counts[c[i].kg-lo]
			out[*j] = c[i]
			*j++
		}
	}
	q.scratch, q.counts = out, counts
	q.runs = append(q.runs[:0], out)
	return q.runs
}
