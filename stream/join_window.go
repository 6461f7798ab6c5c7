package stream

import (
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/windowing"
)

// WindowJoin joins two keyed streams window by window: both are cut into
// the windows of a (Tumbling, Sliding, Session, Cumulate), and when the
// watermark (the minimum of both inputs') passes a window's end, fn is
// called for every pair of a left and a right record of one key in that
// window, and with kind LeftOuterJoin, RightOuterJoin or FullOuterJoin for
// every record of an outer side whose window holds no record of the other
// side (nil pointer for the missing one). Session windows are formed over
// the records of both sides together. Results carry the event time
// Window.End - 1ms. Records arriving behind the watermark for all their
// windows are dropped. fn must not keep the pointers.
func WindowJoin[K comparable, L, R, O any](left KeyedStream[K, L], right KeyedStream[K, R], a windowing.Assigner,
	kind JoinKind, fn func(key K, l *L, r *R) O) DataStream[O] {
	j := left.in.job
	if fn == nil {
		j.addErr("%w: WindowJoin after %q", ErrNilFunc, left.in.n.name)
	}
	if err := a.Validate(); err != nil {
		j.addErr("WindowJoin after %q: %w", left.in.n.name, err)
	}
	if !kind.valid() {
		j.addErr("%w: WindowJoin after %q: %v", ErrBadSetting, left.in.n.name, kind)
	}
	return twoInputThen[K, L, R, R, O](left, right, "WindowJoin", same[R], func() operators.Operator {
		wj := &windowJoiner[K, L, R, O]{kind: kind, fn: fn}
		opt := windowing.Options[K, joinIn[K, L, R], []joinIn[K, L, R], []joinIn[K, L, R], O]{
			Name:     "window-join",
			Assigner: a,
			Key:      func(e joinIn[K, L, R]) K { return e.key },
			Agg:      collectAgg[joinIn[K, L, R]]{},
			Out:      wj.out,
		}
		return operators.Drive[joinIn[K, L, R], O](windowing.NewOperator(opt))
	})
}

// windowJoiner joins the records of one fired window (one per subtask:
// it keeps scratch slices).
type windowJoiner[K comparable, L, R, O any] struct {
	kind JoinKind
	fn   func(key K, l *L, r *R) O
	ls   []*L
	rs   []*R
}

func (w *windowJoiner[K, L, R, O]) out(res windowing.Result[K, []joinIn[K, L, R]], emit func(O)) error {
	if res.Kind.IsRetraction() {
		return nil
	}
	w.ls, w.rs = w.ls[:0], w.rs[:0]
	for i := range res.Value {
		e := &res.Value[i]
		if e.right {
			w.rs = append(w.rs, &e.r)
		} else {
			w.ls = append(w.ls, &e.l)
		}
	}
	k := res.Key
	if len(w.rs) == 0 || len(w.ls) == 0 {
		w.unmatched(k, emit)
		return nil
	}
	for _, l := range w.ls {
		for _, r := range w.rs {
			emit(w.fn(k, l, r))
		}
	}
	return nil
}

// unmatched emits the outer rows of a window holding one side only.
func (w *windowJoiner[K, L, R, O]) unmatched(k K, emit func(O)) {
	if w.kind.leftOuter() {
		for _, l := range w.ls {
			emit(w.fn(k, l, nil))
		}
	}
	if w.kind.rightOuter() {
		for _, r := range w.rs {
			emit(w.fn(k, nil, r))
		}
	}
}
