package stream

import (
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/windowing"
)

// Aggregate keeps a rolling aggregation per key, without windows (a
// GROUP BY without a window in SQL): the first record of a key emits an
// Insert row, every later one an UpdateBefore row with the previous result
// and an UpdateAfter row with the new one, all with the record's event
// time. Applying the rows in order yields the current result per key.
func (k KeyedStream[K, T]) Aggregate[A, R any](agg Aggregator[T, A, R]) DataStream[windowing.Change[K, R]] {
	if agg == nil {
		k.in.job.addErr("%w: Aggregate after %q", ErrNilFunc, k.in.n.name)
	}
	key := k.key
	return keyedThen[K, T, windowing.Change[K, R]](k, "Aggregate", func() operators.Operator {
		return operators.Drive[T, windowing.Change[K, R]](&rollingOp[K, T, A, R]{agg: agg, key: key})
	})
}

// rollingOp is the operator of KeyedStream.Aggregate: one accumulator per
// key, updated in place (one lookup per record).
type rollingOp[K comparable, T, A, R any] struct {
	operators.Base
	agg  Aggregator[T, A, R]
	add  windowing.Adder[T, A, R] // agg's AddTo, or Add
	key  func(T) K
	hash func(K) uint64
	maxP int
	ptrs statebackend.Pointers[K, statebackend.Void, A]
	out  *operators.Emitter[windowing.Change[K, R]]
}

func (r *rollingOp[K, T, A, R]) Open(ctx *operators.Context, out *operators.Emitter[windowing.Change[K, R]]) error {
	if r.agg == nil || r.key == nil {
		return ErrNilFunc
	}
	t, err := statebackend.Open[K, statebackend.Void, A](ctx.State, "aggregate")
	if err != nil {
		return err
	}
	p, ok := t.(statebackend.Pointers[K, statebackend.Void, A])
	if !ok {
		return errBackendPointers
	}
	r.ptrs, r.out, r.hash, r.maxP = p, out, operators.HashFunc[K](), ctx.MaxParallelism
	r.add = windowing.NewAdder(r.agg)
	return nil
}

func (r *rollingOp[K, T, A, R]) ProcessBatch(in *operators.Batch[T]) error {
	for i, v := range in.Values {
		k := r.key(v)
		var kg int
		if in.KeyGroups != nil {
			kg = int(in.KeyGroups[i])
		} else {
			kg = operators.KeyGroupOf(r.hash(k), r.maxP)
		}
		ts := in.Times[i]
		p, found := r.ptrs.Ptr(kg, k, statebackend.Void{}, true)
		if !found {
			*p = r.agg.Init()
			r.add.Add(p, v)
			r.out.Emit(windowing.Change[K, R]{Kind: windowing.Insert, Key: k, Value: r.agg.Result(*p)}, ts)
			continue
		}
		old := r.agg.Result(*p)
		r.add.Add(p, v)
		r.out.Emit(windowing.Change[K, R]{Kind: windowing.UpdateBefore, Key: k, Value: old}, ts)
		r.out.Emit(windowing.Change[K, R]{Kind: windowing.UpdateAfter, Key: k, Value: r.agg.Result(*p)}, ts)
	}
	return r.out.Err()
}
