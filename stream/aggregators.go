package stream

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"fmt"
	"time"

	"github.com/weirstream/weir/operators"
)

// Number is the constraint of Sum's values.
type Number interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr |
		~float32 | ~float64
}

type sumAgg[T any, N Number] struct{ f func(T) N }

func (s sumAgg[T, N]) Init() N          { return 0 }
func (s sumAgg[T, N]) Add(acc N, v T) N { return acc + s.f(v) }
func (s sumAgg[T, N]) Merge(a, b N) N   { return a + b }
func (s sumAgg[T, N]) Result(acc N) N   { return acc }

// Sum adds up f of every record (0 for none).
func Sum[T any, N Number](f func(T) N) Aggregator[T, N, N] { return sumAgg[T, N]{f: f} }

// Min keeps the smallest f of the records (the zero value for none; the
// accumulator's Set says whether there was one).
func Min[T any, V cmp.Ordered](f func(T) V) Aggregator[T, ReduceAcc[V], V] {
	return mapReduce[T, V]{f: f, r: func(a, b V) V { return min(a, b) }}
}

// Max keeps the largest f of the records (the zero value for none).
func Max[T any, V cmp.Ordered](f func(T) V) Aggregator[T, ReduceAcc[V], V] {
	return mapReduce[T, V]{f: f, r: func(a, b V) V { return max(a, b) }}
}

// mapReduce reduces f of the records with r.
type mapReduce[T, V any] struct {
	f func(T) V
	r func(a, b V) V
}

func (m mapReduce[T, V]) Init() ReduceAcc[V] { return ReduceAcc[V]{} }

func (m mapReduce[T, V]) Add(acc ReduceAcc[V], v T) ReduceAcc[V] {
	m.AddTo(&acc, v)
	return acc
}

// AddTo is Add in place (AdderTo).
func (m mapReduce[T, V]) AddTo(acc *ReduceAcc[V], v T) {
	x := m.f(v)
	if acc.Set {
		x = m.r(acc.Value, x)
	}
	acc.Value, acc.Set = x, true
}

func (m mapReduce[T, V]) Merge(a, b ReduceAcc[V]) ReduceAcc[V] {
	switch {
	case !a.Set:
		return b
	case !b.Set:
		return a
	}
	return ReduceAcc[V]{Value: m.r(a.Value, b.Value), Set: true}
}

func (m mapReduce[T, V]) Result(acc ReduceAcc[V]) V { return acc.Value }

// AvgAcc is the accumulator of Avg.
type AvgAcc struct {
	Sum   float64
	Count int64
}

type avgAgg[T any, N Number] struct{ f func(T) N }

func (a avgAgg[T, N]) Init() AvgAcc { return AvgAcc{} }
func (a avgAgg[T, N]) Add(acc AvgAcc, v T) AvgAcc {
	return AvgAcc{Sum: acc.Sum + float64(a.f(v)), Count: acc.Count + 1}
}
func (a avgAgg[T, N]) Merge(x, y AvgAcc) AvgAcc {
	return AvgAcc{Sum: x.Sum + y.Sum, Count: x.Count + y.Count}
}
func (a avgAgg[T, N]) Result(acc AvgAcc) float64 {
	if acc.Count == 0 {
		return 0
	}
	return acc.Sum / float64(acc.Count)
}

// Avg is the mean of f of the records, as float64 (0 for none).
func Avg[T any, N Number](f func(T) N) Aggregator[T, AvgAcc, float64] { return avgAgg[T, N]{f: f} }

// PickAcc is the accumulator of First and Last: the value picked so far
// and its event time.
type PickAcc[V any] struct {
	Value V
	Time  int64 // Unix ms
	Set   bool
}

type pickAgg[T, V any] struct {
	ts    func(T) time.Time
	f     func(T) V
	first bool
}

func (p pickAgg[T, V]) Init() PickAcc[V] { return PickAcc[V]{} }

func (p pickAgg[T, V]) Add(acc PickAcc[V], v T) PickAcc[V] {
	p.AddTo(&acc, v)
	return acc
}

// AddTo is Add in place (AdderTo): the accumulator holds a value of the
// records, which may be large, and is written only when v is picked.
func (p pickAgg[T, V]) AddTo(acc *PickAcc[V], v T) {
	ts := p.ts(v).UnixMilli()
	if !acc.Set || p.first && ts < acc.Time || !p.first && ts >= acc.Time {
		*acc = PickAcc[V]{Value: p.f(v), Time: ts, Set: true}
	}
}

// Merge picks by event time; on a tie First keeps a and Last takes b:
// Add passes the earlier arrival as a, and the window operator merges
// panes and sessions in time order.
func (p pickAgg[T, V]) Merge(a, b PickAcc[V]) PickAcc[V] {
	switch {
	case !a.Set:
		return b
	case !b.Set:
		return a
	case p.first && b.Time < a.Time, !p.first && b.Time >= a.Time:
		return b
	}
	return a
}

func (p pickAgg[T, V]) Result(acc PickAcc[V]) V { return acc.Value }

// First keeps f of the record with the earliest event time ts, the
// earliest to arrive among equal times. Picking by event time (not by
// arrival) makes results independent of out-of-order arrival and of the
// order in which panes and sessions merge.
func First[T, V any](ts func(T) time.Time, f func(T) V) Aggregator[T, PickAcc[V], V] {
	return pickAgg[T, V]{ts: ts, f: f, first: true}
}

// Last keeps f of the record with the latest event time ts, the latest to
// arrive among equal times.
func Last[T, V any](ts func(T) time.Time, f func(T) V) Aggregator[T, PickAcc[V], V] {
	return pickAgg[T, V]{ts: ts, f: f}
}

// DistinctAcc is the accumulator of CountDistinct: an immutable hash set
// (a hash array mapped trie) of the values seen. Adding a value returns a
// new set sharing all but one path with the old one, which is never
// changed, so a state snapshot holding the old accumulator stays valid
// without copying the set: copy-on-write state needs exactly that.
type DistinctAcc[D comparable] struct {
	root *hamt[D]
	n    int64
}

// Len is the number of distinct values.
func (d DistinctAcc[D]) Len() int64 { return d.n }

type distinctAgg[T any, D comparable] struct {
	f    func(T) D
	hash func(D) uint64
}

func (c distinctAgg[T, D]) Init() DistinctAcc[D] { return DistinctAcc[D]{} }

func (c distinctAgg[T, D]) Add(acc DistinctAcc[D], v T) DistinctAcc[D] {
	d := c.f(v)
	root, added := acc.root.insert(c.hash(d), d, 0)
	if !added {
		return acc
	}
	return DistinctAcc[D]{root: root, n: acc.n + 1}
}

func (c distinctAgg[T, D]) Merge(a, b DistinctAcc[D]) DistinctAcc[D] {
	if a.n < b.n {
		a, b = b, a
	}
	b.root.each(func(h uint64, d D) {
		if root, added := a.root.insert(h, d, 0); added {
			a = DistinctAcc[D]{root: root, n: a.n + 1}
		}
	})
	return a
}

func (c distinctAgg[T, D]) Result(acc DistinctAcc[D]) int64 { return acc.n }

// CountDistinct counts the distinct values of f, exactly. D must be a key
// type (see KeyBy): values are hashed with the deterministic key hash, so
// accumulators mean the same after a restore.
func CountDistinct[T any, D comparable](f func(T) D) Aggregator[T, DistinctAcc[D], int64] {
	return distinctAgg[T, D]{f: f, hash: operators.HashFunc[D]()}
}

// GobEncode writes the set as its values, so windows and rolling
// aggregations using CountDistinct can be checkpointed.
func (d DistinctAcc[D]) GobEncode() ([]byte, error) {
	vals := make([]D, 0, d.n)
	d.root.each(func(_ uint64, v D) { vals = append(vals, v) })
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(vals); err != nil {
		return nil, fmt.Errorf("weir/stream: encode CountDistinct accumulator: %w", err)
	}
	return buf.Bytes(), nil
}

// GobDecode rebuilds the set from its values (hashed with the same
// deterministic key hash).
func (d *DistinctAcc[D]) GobDecode(b []byte) error {
	var vals []D
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&vals); err != nil {
		return fmt.Errorf("weir/stream: decode CountDistinct accumulator: %w", err)
	}
	hash := operators.HashFunc[D]()
	*d = DistinctAcc[D]{}
	for _, v := range vals {
		if root, added := d.root.insert(hash(v), v, 0); added {
			d.root, d.n = root, d.n+1
		}
	}
	return nil
}
