package stream

import (
	"errors"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/windowing"
)

// WindowedStream is a keyed stream cut into windows by an Assigner,
// waiting for an aggregation (Aggregate, Process). It is a small value:
// the setting methods return a modified copy.
type WindowedStream[K comparable, T any] struct {
	keyed    KeyedStream[K, T]
	assigner windowing.Assigner
	lateness time.Duration
	trigger  windowing.Trigger
	emit     windowing.EmitPolicy
	late     func(DataStream[T])
}

// Window groups the keyed stream into windows: Tumbling, Sliding,
// Session, Cumulate or Global (see package windowing).
func (k KeyedStream[K, T]) Window(a windowing.Assigner) WindowedStream[K, T] {
	if err := a.Validate(); err != nil {
		k.in.job.addErr("Window after %q: %w", k.in.n.name, err)
	}
	return WindowedStream[K, T]{keyed: k, assigner: a}
}

// AllowedLateness keeps each window's state for d after its end: elements
// arriving that late still update it, and the window emits its new result
// at once as an UpdateBefore/UpdateAfter pair. Later elements are late
// data (see LateData).
func (w WindowedStream[K, T]) AllowedLateness(d time.Duration) WindowedStream[K, T] {
	if d < 0 {
		w.keyed.in.job.addErr("%w: negative allowed lateness %v after %q", ErrBadSetting, d, w.keyed.in.n.name)
		return w
	}
	w.lateness = d
	return w
}

// Trigger sets a trigger that fires windows early (time windows, as
// changelog updates) or at all (Global windows), e.g.
// windowing.CountTrigger(100).
func (w WindowedStream[K, T]) Trigger(t windowing.Trigger) WindowedStream[K, T] {
	if t == nil {
		w.keyed.in.job.addErr("%w: nil Trigger after %q", ErrNilFunc, w.keyed.in.n.name)
	}
	w.trigger = t
	return w
}

// Emit sets when results are emitted: windowing.OnWindowClose (default),
// windowing.OnUpdate or windowing.Every(d).
func (w WindowedStream[K, T]) Emit(p windowing.EmitPolicy) WindowedStream[K, T] {
	if err := p.Validate(); err != nil {
		w.keyed.in.job.addErr("Emit after %q: %w", w.keyed.in.n.name, err)
	}
	w.emit = p
	return w
}

// LateData asks for the elements too late for all of their windows (past
// the allowed lateness) as a stream of their own: fn receives it when the
// window operation is added (Aggregate, Process) and may attach any
// operations and sinks to it. Without LateData, late elements are dropped.
func (w WindowedStream[K, T]) LateData(fn func(late DataStream[T])) WindowedStream[K, T] {
	if fn == nil {
		w.keyed.in.job.addErr("%w: LateData after %q", ErrNilFunc, w.keyed.in.n.name)
	}
	w.late = fn
	return w
}

// Aggregate aggregates each window incrementally: one Result per (key,
// window) when the window closes, or a changelog of results with an early
// emit policy, a trigger or allowed lateness (see windowing.Result.Kind).
// Results carry the event time Window.End - 1ms. A window reduce is
// Aggregate(Reducing(f)).
func (w WindowedStream[K, T]) Aggregate[A, R any](agg Aggregator[T, A, R]) DataStream[windowing.Result[K, R]] {
	if agg == nil {
		w.keyed.in.job.addErr("%w: Aggregate after %q", ErrNilFunc, w.keyed.in.n.name)
	}
	out := passResult[K, R]
	if w.late == nil {
		out = nil // the operator emits its rows itself, with no call per row
	}
	return windowThen[K, T, A, R, windowing.Result[K, R]](w, "Window", agg, out)
}

func passResult[K comparable, R any](r windowing.Result[K, R], emit func(windowing.Result[K, R])) error {
	emit(r)
	return nil
}

// Process calls fn with all the elements of each window, in arrival order
// (merged sessions: by session start), when the window fires; fn emits any
// number of outputs, which carry the event time Window.End - 1ms. With
// early or late firings fn is called again with the window's elements so
// far; retractions are not passed to fn. Process keeps every element in
// state: prefer Aggregate where an incremental aggregation exists.
func (w WindowedStream[K, T]) Process[O any](fn func(key K, win windowing.Window, elems []T, emit func(O)) error) DataStream[O] {
	if fn == nil {
		w.keyed.in.job.addErr("%w: Process after %q", ErrNilFunc, w.keyed.in.n.name)
	}
	out := func(r windowing.Result[K, []T], emit func(O)) error {
		if r.Kind.IsRetraction() {
			return nil
		}
		return fn(r.Key, r.Window, r.Value, emit)
	}
	return windowThen[K, T, []T, []T, O](w, "WindowProcess", collectAgg[T]{}, out)
}

// collectAgg keeps all elements. Merge copies, so merging never writes
// into a slice held in state; Add appends, which writes past the length a
// snapshot sees.
type collectAgg[T any] struct{}

func (collectAgg[T]) Init() []T            { return nil }
func (collectAgg[T]) Add(acc []T, v T) []T { return append(acc, v) }
func (collectAgg[T]) Merge(a, b []T) []T   { return append(a[:len(a):len(a)], b...) }
func (collectAgg[T]) Result(acc []T) []T   { return acc }

// sideOut is the output of a window operator with a late-data side
// output: a result or a late element.
type sideOut[T, O any] struct {
	out  O
	elem T
	late bool
}

// windowThen adds the window operator after the hash exchange of w. With
// LateData, the operator emits sideOut values and two selecting operators
// follow it through forward edges: the results and the late elements.
func windowThen[K comparable, T, A, R, O any](w WindowedStream[K, T], kind string, agg windowing.Aggregator[T, A, R],
	out func(windowing.Result[K, R], func(O)) error) DataStream[O] {
	opt := windowing.Options[K, T, A, R, O]{
		Assigner: w.assigner, Key: w.keyed.key, Agg: agg, Lateness: w.lateness,
		Trigger: w.trigger, Emit: w.emit, Out: out,
	}
	if w.late == nil {
		return keyedThen[K, T, O](w.keyed, kind, func() operators.Operator {
			return operators.Drive[T, O](windowing.NewOperator(opt))
		})
	}
	// No DataStream[sideOut[T, O]] may appear here: its methods would
	// instantiate windowThen with T wrapped (an instantiation cycle), so the
	// three nodes are added directly.
	j := w.keyed.in.job
	both := j.add(kind, &node{keyed: true, inputs: []*edge{w.keyed.hashEdge()}, newOp: func() operators.Operator {
		return operators.Drive[T, sideOut[T, O]](windowing.NewOperator(sideOptions(opt)))
	}})
	lateNode := j.add("LateData", &node{inputs: []*edge{forwardEdge[sideOut[T, O]](both)}, newOp: func() operators.Operator {
		return operators.Drive(&operators.FlatMapOp[sideOut[T, O], T]{F: func(s sideOut[T, O], emit func(T)) {
			if s.late {
				emit(s.elem)
			}
		}})
	}})
	mainNode := j.add(kind+"Results", &node{inputs: []*edge{forwardEdge[sideOut[T, O]](both)}, newOp: func() operators.Operator {
		return operators.Drive(&operators.FlatMapOp[sideOut[T, O], O]{F: func(s sideOut[T, O], emit func(O)) {
			if !s.late {
				emit(s.out)
			}
		}})
	}})
	late, main := DataStream[T]{job: j, n: lateNode}, DataStream[O]{job: j, n: mainNode}
	w.late(late)
	return main
}

// sideOptions turns the options of a window operator emitting O into those
// of one emitting sideOut values. The wrapping emit function is built on
// the first result (the operator passes the same emit function every
// time), so no result allocates.
func sideOptions[K comparable, T, A, R, O any](opt windowing.Options[K, T, A, R, O]) windowing.Options[K, T, A, R, sideOut[T, O]] {
	var wrap func(O)
	return windowing.Options[K, T, A, R, sideOut[T, O]]{
		Assigner: opt.Assigner, Key: opt.Key, Agg: opt.Agg, Lateness: opt.Lateness,
		Trigger: opt.Trigger, Emit: opt.Emit,
		Out: func(r windowing.Result[K, R], emit func(sideOut[T, O])) error {
			if wrap == nil {
				wrap = func(o O) { emit(sideOut[T, O]{out: o}) }
			}
			return opt.Out(r, wrap)
		},
		Late: func(v T, emit func(sideOut[T, O])) { emit(sideOut[T, O]{elem: v, late: true}) },
	}
}

var errBackendPointers = errors.New("weir/stream: the state backend's tables lack in-place updates (statebackend.Pointers)")
