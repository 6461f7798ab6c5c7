package stream

import "github.com/weirstream/weir/windowing"

// Aggregator is an incremental aggregation: windows and rolling
// aggregations add records to an accumulator and read a result from it.
//
// An Aggregator whose accumulator is more than a few words may also have
// AddTo (AdderTo): windows and rolling aggregations then fold records into
// the stored accumulator instead of copying it in and out of Add.
type Aggregator[T, A, R any] interface {
	Init() A          // a fresh accumulator
	Add(acc A, v T) A // fold one record in
	Merge(a, b A) A   // session merging, sliding-window panes
	Result(acc A) R
}

// AdderTo is the optional in-place Add of an Aggregator: AddTo(acc, v)
// leaves *acc as *acc = Add(*acc, v) would.
type AdderTo[T, A any] = windowing.AdderTo[T, A]

type countAgg[T any] struct{}

func (countAgg[T]) Init() int64              { return 0 }
func (countAgg[T]) Add(acc int64, _ T) int64 { return acc + 1 }
func (countAgg[T]) Merge(a, b int64) int64   { return a + b }
func (countAgg[T]) Result(acc int64) int64   { return acc }

// Count counts records.
func Count[T any]() Aggregator[T, int64, int64] { return countAgg[T]{} }

// ReduceAcc is the accumulator of Reducing: the reduction so far, if any.
type ReduceAcc[T any] struct {
	Value T
	Set   bool
}

type reducingAgg[T any] struct{ f func(a, b T) T }

func (r reducingAgg[T]) Init() ReduceAcc[T] { return ReduceAcc[T]{} }

func (r reducingAgg[T]) Add(acc ReduceAcc[T], v T) ReduceAcc[T] {
	r.AddTo(&acc, v)
	return acc
}

// AddTo is Add in place (AdderTo): a record may be large.
func (r reducingAgg[T]) AddTo(acc *ReduceAcc[T], v T) {
	if !acc.Set {
		*acc = ReduceAcc[T]{Value: v, Set: true}
		return
	}
	acc.Value = r.f(acc.Value, v)
}

func (r reducingAgg[T]) Merge(a, b ReduceAcc[T]) ReduceAcc[T] {
	switch {
	case !a.Set:
		return b
	case !b.Set:
		return a
	}
	return ReduceAcc[T]{Value: r.f(a.Value, b.Value), Set: true}
}

func (r reducingAgg[T]) Result(acc ReduceAcc[T]) T { return acc.Value }

// Reducing turns a reduce function into an Aggregator (a window reduce is
// Aggregate(Reducing(f))).
func Reducing[T any](f func(a, b T) T) Aggregator[T, ReduceAcc[T], T] { return reducingAgg[T]{f: f} }
