// Package chunk provides List, an append-only sequence stored in chunks
// that double in size from 8 up to 1024 elements, and Pool, which keeps
// emptied full-size chunks for reuse. Appending never copies what is
// already there.
//
// The timer queues of weir's keyed operators keep one List per timer time:
// a window end over 600k keys grew one slice by doubling, which copied
// megabytes and touched fresh memory (a page fault per 4 KiB on these
// virtual machines) inside the firing loop, while most times hold a few
// timers and need no more than the first chunk.
package chunk

import (
	"iter"
	"math/bits"
)

const (
	// First is the size of a list's first chunk; each next one doubles,
	// up to Max.
	First = 8
	// Max is the size of every chunk from the eighth on.
	Max = 1024
	// maxFree bounds the full-size chunks a Pool keeps (8 MiB of 8-byte
	// elements).
	maxFree = 1024
	// small is the number of elements in the chunks smaller than Max.
	small = First * (Max/First - 1) // 8+16+...+512 = 1016
)

// Pool keeps emptied full-size chunks for the lists that share it. The
// zero Pool is ready; it is not safe for concurrent use.
type Pool[T any] struct {
	free [][]T
}

// chunk returns an empty chunk to be the i-th chunk of a list.
func (p *Pool[T]) chunk(i int) []T {
	if i < 7 { // First << 7 == Max
		return make([]T, 0, size(i))
	}
	if n := len(p.free); n > 0 {
		c := p.free[n-1]
		p.free = p.free[:n-1]
		return c
	}
	return make([]T, 0, Max)
}

// List is a sequence of T in chunks. The zero List is empty and ready.
type List[T any] struct {
	chunks [][]T // all full but the last
	n      int
}

// Len is the number of elements.
func (l *List[T]) Len() int { return l.n }

// Append adds v at the end, taking a new chunk from p when the last one
// is full.
func (l *List[T]) Append(p *Pool[T], v T) {
	k := len(l.chunks) - 1
	if k < 0 || len(l.chunks[k]) == cap(l.chunks[k]) {
		l.chunks = append(l.chunks, p.chunk(len(l.chunks)))
		k++
	}
	l.chunks[k] = append(l.chunks[k], v)
	l.n++
}

// At returns the i-th element (0 <= i < Len).
func (l *List[T]) At(i int) *T {
	c, j := locate(i)
	return &l.chunks[c][j]
}

// locate returns the chunk of element i and its index there.
func locate(i int) (chunk, j int) {
	if i < small {
		c := bits.Len(uint(i/First+1)) - 1
		return c, i - First*(1<<c-1)
	}
	i -= small
	return 7 + i/Max, i % Max
}

// size is the length of the c-th chunk.
func size(c int) int {
	if c < 7 {
		return First << c
	}
	return Max
}

// Chunks returns the elements as consecutive chunks, good until the next
// Append or Reset.
func (l *List[T]) Chunks() [][]T { return l.chunks }

// Reset empties l: it clears the elements (so that they keep nothing
// alive), hands full-size chunks back to p and keeps the first chunk,
// which is all that most lists need.
func (l *List[T]) Reset(p *Pool[T]) {
	for i, c := range l.chunks {
		clear(c)
		if i > 0 && cap(c) == Max && len(p.free) < maxFree {
			p.free = append(p.free, c[:0])
		}
	}
	if len(l.chunks) > 0 {
		first := l.chunks[0][:0]
		clear(l.chunks)
		l.chunks = append(l.chunks[:0], first)
	}
	l.n = 0
}

// Log is an append-only sequence in chunks whose copies are snapshots: a
// copy of a Log holds the elements appended before it was made, however
// many the original appends afterwards, and may be read on another
// goroutine meanwhile. Elements never change once appended, chunks are
// made at their full length (so appending never rewrites a chunk's
// header), and a new chunk goes past the end of every copy's chunk list.
// Growing never copies elements, where a doubling slice copied all of
// them and touched fresh memory at every growth. The zero Log is empty.
type Log[T any] struct {
	chunks [][]T
	n      int
}

// Len is the number of elements.
func (l Log[T]) Len() int { return l.n }

// Append adds v at the end.
func (l *Log[T]) Append(v T) {
	c, j := locate(l.n)
	if c == len(l.chunks) {
		l.chunks = append(l.chunks, make([]T, size(c)))
	}
	l.chunks[c][j] = v
	l.n++
}

// All yields the elements in order.
func (l Log[T]) All() iter.Seq[T] {
	return func(yield func(T) bool) {
		for i, c := range l.chunks {
			if k := l.n - start(i); k < len(c) {
				c = c[:max(k, 0)]
			}
			for _, v := range c {
				if !yield(v) {
					return
				}
			}
		}
	}
}

// start is the index of the first element of chunk c.
func start(c int) int {
	if c < 7 {
		return First * (1<<c - 1)
	}
	return small + (c-7)*Max
}
