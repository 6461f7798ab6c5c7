package operators

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrBadPosition is returned when a restored position cannot be decoded.
var ErrBadPosition = errors.New("weir/operators: bad source position")

type indexSplit struct {
	id          string
	first, step int64
}

func (s indexSplit) SplitID() string { return s.id }

func encodePos(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

func decodePos(split string, p []byte) (int64, error) {
	if p == nil {
		return 0, nil
	}
	if len(p) != 8 {
		return 0, fmt.Errorf("%w: split %s: %d bytes, want 8", ErrBadPosition, split, len(p))
	}
	return int64(binary.BigEndian.Uint64(p)), nil
}

// SliceSource is a bounded single-split source over a slice (Flink's
// fromCollection). The slice order is the source order.
type SliceSource[T any] struct{ Values []T }

// Splits implements Source: always one split.
func (s *SliceSource[T]) Splits(int) ([]Split, error) { return []Split{indexSplit{id: "slice"}}, nil }

// Bounded implements Source.
func (s *SliceSource[T]) Bounded() bool { return true }

// RestoreSplit implements SplitRestorer.
func (s *SliceSource[T]) RestoreSplit(id string) (Split, error) {
	if id != "slice" {
		return nil, fmt.Errorf("weir/operators: not a slice split: %q", id)
	}
	return indexSplit{id: id}, nil
}

// Open implements Source.
func (s *SliceSource[T]) Open(_ *Context, sp Split, pos []byte) (Reader[T], error) {
	n, err := decodePos(sp.SplitID(), pos)
	if err != nil {
		return nil, err
	}
	if n < 0 || n > int64(len(s.Values)) {
		return nil, fmt.Errorf("%w: slice position %d of %d", ErrBadPosition, n, len(s.Values))
	}
	return &sliceReader[T]{vals: s.Values, next: int(n)}, nil
}

type sliceReader[T any] struct {
	vals []T
	next int
}

func (r *sliceReader[T]) Read(b *Batch[T]) error {
	n := min(cap(b.Values)-len(b.Values), len(r.vals)-r.next)
	b.Values = append(b.Values, r.vals[r.next:r.next+n]...)
	r.next += n
	if r.next == len(r.vals) {
		return io.EOF
	}
	return nil
}

func (r *sliceReader[T]) Position() ([]byte, error) { return encodePos(int64(r.next)), nil }
func (r *sliceReader[T]) Close() error              { return nil }

// ChanSource reads a Go channel; closing the channel ends the input. It is a
// single split that cannot be replayed: Position is nil (use a WAL for
// exactly-once).
type ChanSource[T any] struct{ C <-chan T }

// Splits implements Source.
func (s *ChanSource[T]) Splits(int) ([]Split, error) { return []Split{indexSplit{id: "chan"}}, nil }

// Bounded implements Source: a channel ends only when closed.
func (s *ChanSource[T]) Bounded() bool { return false }

// Open implements Source.
func (s *ChanSource[T]) Open(*Context, Split, []byte) (Reader[T], error) {
	if s.C == nil {
		return nil, errors.New("weir/operators: nil channel")
	}
	return &chanReader[T]{c: s.C}, nil
}

type chanReader[T any] struct{ c <-chan T }

func (r *chanReader[T]) Read(b *Batch[T]) error {
	for len(b.Values) < cap(b.Values) {
		select {
		case v, ok := <-r.c:
			if !ok {
				return io.EOF
			}
			b.Values = append(b.Values, v)
		default:
			return nil
		}
	}
	return nil
}

func (r *chanReader[T]) Position() ([]byte, error) { return nil, nil }
func (r *chanReader[T]) Close() error              { return nil }

// GeneratorSource calls F(i) for the ids i in [0, N) (N < 0: unbounded).
// It has one split per subtask; split s of p generates the ids s, s+p,
// s+2p, ... in that order, so every worker generates its own share.
type GeneratorSource[T any] struct {
	N int64
	F func(i int64) T
}

// Generate returns a generator source of n records (n < 0: unbounded).
func Generate[T any](n int64, f func(i int64) T) *GeneratorSource[T] {
	return &GeneratorSource[T]{N: n, F: f}
}

// Splits implements Source.
func (g *GeneratorSource[T]) Splits(p int) ([]Split, error) {
	if g.F == nil {
		return nil, ErrNilFunc
	}
	p = max(p, 1)
	if g.N >= 0 && int64(p) > g.N {
		p = int(max(g.N, 1))
	}
	out := make([]Split, p)
	for s := range p {
		out[s] = indexSplit{id: "gen-" + strconv.Itoa(s) + "/" + strconv.Itoa(p), first: int64(s), step: int64(p)}
	}
	return out, nil
}

// Bounded implements Source.
func (g *GeneratorSource[T]) Bounded() bool { return g.N >= 0 }

// RestoreSplit implements SplitRestorer: "gen-s/p" is the split of ids
// s, s+p, s+2p, ...
func (g *GeneratorSource[T]) RestoreSplit(id string) (Split, error) {
	var s, p int
	if _, err := fmt.Sscanf(id, "gen-%d/%d", &s, &p); err != nil || p < 1 || s < 0 || s >= p {
		return nil, fmt.Errorf("weir/operators: not a generator split: %q", id)
	}
	return indexSplit{id: id, first: int64(s), step: int64(p)}, nil
}

// Open implements Source.
func (g *GeneratorSource[T]) Open(_ *Context, sp Split, pos []byte) (Reader[T], error) {
	is, ok := sp.(indexSplit)
	if !ok {
		return nil, fmt.Errorf("weir/operators: generator got split %T", sp)
	}
	done, err := decodePos(sp.SplitID(), pos)
	if err != nil {
		return nil, err
	}
	return &genReader[T]{f: g.F, n: g.N, next: is.first + done*is.step, step: is.step, done: done}, nil
}

type genReader[T any] struct {
	f             func(int64) T
	n, next, step int64
	done          int64
}

func (r *genReader[T]) Read(b *Batch[T]) error {
	n := int64(cap(b.Values) - len(b.Values))
	if r.n >= 0 {
		left := (r.n - r.next + r.step - 1) / r.step
		n = min(n, max(left, 0))
	}
	id, f := r.next, r.f
	for range n {
		b.Values = append(b.Values, f(id))
		id += r.step
	}
	r.next = id
	r.done += n
	if r.n >= 0 && r.next >= r.n {
		return io.EOF
	}
	return nil
}

func (r *genReader[T]) Position() ([]byte, error) { return encodePos(r.done), nil }
func (r *genReader[T]) Close() error              { return nil }
