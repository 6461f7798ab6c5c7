package spsc

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// cacheLine is the assumed size of a CPU cache line (x86-64 and most arm64).
const cacheLine = 64

// maxCapacity bounds New so the rounded capacity fits in an int.
const maxCapacity = 1 << (bits.UintSize - 2)

// Ring is a bounded single-producer/single-consumer lock-free queue of E.
// Create one with New. One goroutine may push while another pops; see the
// package documentation for the rules.
//
// The fields form three groups: read-only (buf, mask), consumer-owned (head,
// cachedTail) and producer-owned (tail, cachedHead). Padding keeps at least
// one full cache line (64 bytes) between any two groups and between the
// struct's fields and its heap neighbours, so no 64-byte line can hold bytes
// of two groups whatever the struct's alignment. (The Go allocator does not
// promise 64-byte alignment, notably under -race, so padding each group only
// up to the next 64-byte boundary would not be enough.) Groups therefore
// start 128 bytes apart, which also keeps head and tail out of the same
// 128-byte pair fetched by adjacent-line prefetchers.
type Ring[E any] struct {
	_ [cacheLine]byte // separates buf from the previous heap object

	// Read-only after New; read by both sides on every operation.
	buf  []E
	mask uint64
	_    [2*cacheLine - unsafe.Sizeof([]E(nil)) - 8]byte

	// Consumer-owned.
	head       atomic.Uint64 // next index to pop; stored by the consumer only
	cachedTail uint64        // consumer's last seen tail; touched by the consumer only
	_          [2*cacheLine - 16]byte

	// Producer-owned; the padding after it separates it from the next heap object.
	tail       atomic.Uint64 // next index to push; stored by the producer only
	cachedHead uint64        // producer's last seen head; touched by the producer only
	_          [2*cacheLine - 16]byte
}

// New returns an empty ring that holds capacity elements, rounded up to a
// power of two; capacities below 2 become 2. New panics if capacity exceeds
// 1<<(bits.UintSize-2), which is a programming error.
func New[E any](capacity int) *Ring[E] {
	if capacity > maxCapacity {
		panic("weir/internal/spsc: capacity too large")
	}
	n := 2
	if capacity > 2 {
		n = 1 << bits.Len(uint(capacity-1))
	}
	return &Ring[E]{buf: make([]E, n), mask: uint64(n - 1)}
}

// Cap returns the number of elements the ring holds when full.
func (r *Ring[E]) Cap() int { return len(r.buf) }

// Len returns the number of queued elements. It is exact when called by the
// producer or the consumer while the other side is idle, and a snapshot
// between 0 and Cap otherwise.
func (r *Ring[E]) Len() int {
	// Load head first: tail only grows, so tail >= head below, but tail may
	// have moved a lot since head was read, hence the clamp.
	h := r.head.Load()
	t := r.tail.Load()
	n := t - h
	if n > uint64(len(r.buf)) {
		n = uint64(len(r.buf))
	}
	return int(n)
}

// Empty reports whether the ring has no queued elements (see Len).
func (r *Ring[E]) Empty() bool { return r.Len() == 0 }

// Full reports whether the ring has no free slot (see Len).
func (r *Ring[E]) Full() bool { return r.Len() == len(r.buf) }

// TryPush appends e and reports true, or reports false if the ring is full.
// Producer only.
func (r *Ring[E]) TryPush(e E) bool {
	t := r.tail.Load()
	if t-r.cachedHead == uint64(len(r.buf)) {
		r.cachedHead = r.head.Load() // acquire: the consumer is done with freed slots
		if t-r.cachedHead == uint64(len(r.buf)) {
			return false
		}
	}
	r.buf[t&r.mask] = e
	r.tail.Store(t + 1) // release: publishes the slot
	return true
}

// PushN appends a prefix of es, as many elements as fit, and returns how
// many it appended (0 if the ring is full). The elements become visible to
// the consumer together. Producer only.
func (r *Ring[E]) PushN(es []E) int {
	t := r.tail.Load()
	size := uint64(len(r.buf))
	free := size - (t - r.cachedHead)
	if free < uint64(len(es)) {
		r.cachedHead = r.head.Load()
		free = size - (t - r.cachedHead)
	}
	n := min(uint64(len(es)), free)
	if n == 0 {
		return 0
	}
	i := t & r.mask
	k := uint64(copy(r.buf[i:], es[:n])) // up to the end of the array
	copy(r.buf, es[k:n])                 // the rest wraps to the start
	r.tail.Store(t + n)
	return int(n)
}

// TryPop removes and returns the oldest element, or reports false if the
// ring is empty. The slot is zeroed so the ring does not retain it.
// Consumer only.
func (r *Ring[E]) TryPop() (E, bool) {
	h := r.head.Load()
	if h == r.cachedTail {
		r.cachedTail = r.tail.Load() // acquire: the producer's writes are visible
		if h == r.cachedTail {
			var zero E
			return zero, false
		}
	}
	slot := &r.buf[h&r.mask]
	e := *slot
	var zero E
	*slot = zero
	r.head.Store(h + 1) // release: frees the slot
	return e, true
}

// PopN removes up to len(dst) of the oldest elements into dst and returns
// how many it removed (0 if the ring is empty). The slots are zeroed.
// Consumer only.
func (r *Ring[E]) PopN(dst []E) int {
	h := r.head.Load()
	avail := r.cachedTail - h
	if avail < uint64(len(dst)) {
		r.cachedTail = r.tail.Load()
		avail = r.cachedTail - h
	}
	n := min(uint64(len(dst)), avail)
	if n == 0 {
		return 0
	}
	i := h & r.mask
	first := r.buf[i:min(i+n, uint64(len(r.buf)))]
	k := copy(dst, first)
	clear(first)
	if rest := r.buf[:n-uint64(k)]; len(rest) > 0 {
		copy(dst[k:], rest)
		clear(rest)
	}
	r.head.Store(h + n)
	return int(n)
}

// Peek returns a pointer to the oldest element without removing it, or
// reports false if the ring is empty. The pointer is valid until the next
// TryPop or PopN; the consumer may modify the element through it.
// Consumer only.
func (r *Ring[E]) Peek() (*E, bool) {
	h := r.head.Load()
	if h == r.cachedTail {
		r.cachedTail = r.tail.Load()
		if h == r.cachedTail {
			return nil, false
		}
	}
	return &r.buf[h&r.mask], true
}
