package stream

import (
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime/jobgraph"
	"github.com/weirstream/weir/statebackend"
)

// KeyedStream is a stream partitioned by a key of type K.
type KeyedStream[K comparable, T any] struct {
	in  DataStream[T]
	key func(T) K
}

// Job is the job the stream belongs to.
func (k KeyedStream[K, T]) Job() *Job { return k.in.job }

// KeySelector returns the key function.
func (k KeyedStream[K, T]) KeySelector() func(T) K { return k.key }

// hashEdge is the exchange feeding a keyed operator.
func (k KeyedStream[K, T]) hashEdge() *edge {
	key := k.key
	return &edge{from: k.in.n, kind: jobgraph.Hash, newWriter: func(ch operators.Channels, maxP, bs int) operators.Output {
		return operators.NewHashWriter[T, K](key, operators.HashFunc[K](), maxP, ch, bs)
	}, newChained: func(next operators.Output, maxP int) operators.Output {
		return operators.NewKeyGroupWriter[T, K](key, operators.HashFunc[K](), maxP, next)
	}}
}

// keyedThen adds a keyed operator after the hash exchange.
func keyedThen[K comparable, T, O any](k KeyedStream[K, T], kind string, newOp func() operators.Operator) DataStream[O] {
	j := k.in.job
	n := j.add(kind, &node{newOp: newOp, keyed: true, inputs: []*edge{k.hashEdge()}})
	return DataStream[O]{job: j, n: n}
}

// Reduce keeps a rolling reduction per key: for every record it emits
// f(previous result, record), or the record itself for the first of its
// key. The result is kept in keyed state (checkpointed with the job).
func (k KeyedStream[K, T]) Reduce(f func(acc, v T) T) DataStream[T] {
	if f == nil {
		k.in.job.addErr("%w: Reduce after %q", ErrNilFunc, k.in.n.name)
	}
	key := k.key
	return keyedThen[K, T, T](k, "Reduce", func() operators.Operator {
		return operators.Drive(&reduceOp[K, T]{f: f, key: key})
	})
}

// reduceOp is the rolling reduce. With a heap backend it updates the
// accumulator in place: one map lookup per record.
type reduceOp[K comparable, T any] struct {
	operators.Base
	f     func(acc, v T) T
	key   func(T) K
	table statebackend.Table[K, statebackend.Void, T]
	ptrs  statebackend.Pointers[K, statebackend.Void, T]
	out   *operators.Emitter[T]
}

func (r *reduceOp[K, T]) Open(ctx *operators.Context, out *operators.Emitter[T]) error {
	if r.f == nil || r.key == nil {
		return ErrNilFunc
	}
	t, err := statebackend.Open[K, statebackend.Void, T](ctx.State, "reduce")
	if err != nil {
		return err
	}
	r.table, r.out = t, out
	r.ptrs, _ = t.(statebackend.Pointers[K, statebackend.Void, T])
	return nil
}

func (r *reduceOp[K, T]) ProcessBatch(in *operators.Batch[T]) error {
	if r.ptrs != nil {
		return r.processPtrs(in)
	}
	for i, v := range in.Values {
		kg, k := int(in.KeyGroups[i]), r.key(v)
		if acc, ok := r.table.Get(kg, k, statebackend.Void{}); ok {
			v = r.f(acc, v)
		}
		r.table.Put(kg, k, statebackend.Void{}, v)
		r.out.Emit(v, in.Times[i])
	}
	return r.out.Err()
}

// processPtrs is the hot path: one lookup per record, results appended to
// the output batch directly in chunks that fit.
func (r *reduceOp[K, T]) processPtrs(in *operators.Batch[T]) error {
	vals, times, kgs := in.Values, in.Times, in.KeyGroups
	for len(vals) > 0 {
		ob := r.out.Batch()
		n := min(r.out.Room(), len(vals))
		for i, v := range vals[:n] {
			p, found := r.ptrs.Ptr(int(kgs[i]), r.key(v), statebackend.Void{}, true)
			if found {
				v = r.f(*p, v)
			}
			*p = v
			ob.Values = append(ob.Values, v)
		}
		ob.Times = append(ob.Times, times[:n]...)
		vals, times, kgs = vals[n:], times[n:], kgs[n:]
		if r.out.Full() {
			if err := r.out.Flush(); err != nil {
				return err
			}
		}
	}
	return r.out.Err()
}
