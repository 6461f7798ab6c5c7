package stream

import (
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
)

// IntervalJoin joins k with other on equal keys: for every record t of k
// and u of other with u's event time in [t's + lower, t's + upper], it
// emits fn(t, u) with the later of the two event times. Both inputs are
// buffered in keyed state until the watermark (the minimum of both
// inputs') passes the last time a partner could arrive, then dropped;
// records arriving behind the watermark are dropped (counted as late).
// lower must not exceed upper; both are whole milliseconds.
func (k KeyedStream[K, T]) IntervalJoin[U, O any](other KeyedStream[K, U], lower, upper time.Duration, fn func(T, U) O) DataStream[O] {
	if fn == nil {
		k.in.job.addErr("%w: IntervalJoin after %q", ErrNilFunc, k.in.n.name)
	}
	return intervalJoin[K, T, U, O](k, other, lower, upper, false, func(t T, u *U) O { return fn(t, *u) })
}

// IntervalJoinOuter is the left outer IntervalJoin: it also emits fn(t,
// nil) for every record t of k that found no partner, once its interval
// has passed (the watermark reached t's time + upper), with t's event
// time. So that those records are not late downstream, the join holds its
// output watermark back by upper (when upper > 0).
func (k KeyedStream[K, T]) IntervalJoinOuter[U, O any](other KeyedStream[K, U], lower, upper time.Duration, fn func(T, *U) O) DataStream[O] {
	if fn == nil {
		k.in.job.addErr("%w: IntervalJoinOuter after %q", ErrNilFunc, k.in.n.name)
	}
	return intervalJoin[K, T, U, O](k, other, lower, upper, true, fn)
}

func intervalJoin[K comparable, L, R, O any](left KeyedStream[K, L], right KeyedStream[K, R], lower, upper time.Duration,
	outer bool, fn func(L, *R) O) DataStream[O] {
	j := left.in.job
	lo, up := wholeMillis(j, lower, "interval join lower bound"), wholeMillis(j, upper, "interval join upper bound")
	if lo > up {
		j.addErr("%w: interval join after %q: lower bound %v > upper bound %v", ErrBadSetting, left.in.n.name, lower, upper)
	}
	return twoInputThen[K, L, R, R, O](left, right, "IntervalJoin", same[R], func() operators.Operator {
		op := operators.Drive[joinIn[K, L, R], O](newIntervalJoinOp[K, L, R, O](lo, up, outer, fn))
		if outer && up > 0 {
			return &holdBack{Operator: op, d: up}
		}
		return op
	})
}

// ijLeft is a buffered left record of an interval join and whether it has
// found a partner (outer joins).
type ijLeft[L any] struct {
	V       L
	Matched bool
}

const (
	sideLeft uint8 = iota
	sideRight
)

// intervalJoinOp is the interval join: per key, left records in a table by
// timestamp (namespace) and right records likewise; each arriving record
// scans the other side's timestamps of its key.
type intervalJoinOp[K comparable, L, R, O any] struct {
	operators.Base
	lower, upper int64
	outer        bool
	fn           func(L, *R) O
	hash         func(K) uint64
	ctx          *operators.Context
	left         statebackend.Table[K, int64, []ijLeft[L]]
	right        statebackend.Table[K, int64, []R]
	q            expiryQueue[K]
	wm           int64
	late         int64
	out          *operators.Emitter[O]
	scratch      []int64
	// The record being joined and the bound scan callbacks: a closure per
	// record would allocate.
	curL      L
	curR      *R
	curT      int64
	matched   bool
	scanRight func(u int64, rs []R) bool
	scanLeft  func(t int64, ls []ijLeft[L]) bool
}

func newIntervalJoinOp[K comparable, L, R, O any](lower, upper int64, outer bool, fn func(L, *R) O) *intervalJoinOp[K, L, R, O] {
	return &intervalJoinOp[K, L, R, O]{lower: lower, upper: upper, outer: outer, fn: fn, hash: operators.HashFunc[K]()}
}

func (o *intervalJoinOp[K, L, R, O]) Open(ctx *operators.Context, out *operators.Emitter[O]) error {
	if o.fn == nil {
		return ErrNilFunc
	}
	if ctx.State == nil {
		return errNoState
	}
	var err error
	if o.left, err = statebackend.Open[K, int64, []ijLeft[L]](ctx.State, "interval-join/left"); err != nil {
		return err
	}
	if o.right, err = statebackend.Open[K, int64, []R](ctx.State, "interval-join/right"); err != nil {
		return err
	}
	o.ctx, o.out, o.wm = ctx, out, timeapi.MinWatermark
	o.scanRight, o.scanLeft = o.matchRight, o.matchLeft
	// Rebuild the clean-up queue from restored state.
	if err := forEachEntry(ctx, "interval-join/left", func(kg int, k K, ts int64, _ []ijLeft[L]) {
		o.q.push(expiry[K]{at: ts + o.upper, key: k, ns: ts, kg: uint16(kg), side: sideLeft})
	}); err != nil {
		return err
	}
	return forEachEntry(ctx, "interval-join/right", func(kg int, k K, ts int64, _ []R) {
		o.q.push(expiry[K]{at: ts - o.lower, key: k, ns: ts, kg: uint16(kg), side: sideRight})
	})
}

func (o *intervalJoinOp[K, L, R, O]) ProcessBatch(in *operators.Batch[joinIn[K, L, R]]) error {
	for i := range in.Values {
		e := &in.Values[i]
		ts := in.Times[i]
		if ts == timeapi.NoTimestamp {
			return errJoinNoTimestamp
		}
		if ts <= o.wm {
			o.late++
			continue
		}
		kg := keyGroup(in, i, e.key, o.hash, o.ctx.MaxParallelism)
		if e.right {
			o.addRight(kg, e.key, &e.r, ts)
		} else {
			o.addLeft(kg, e.key, e.l, ts)
		}
	}
	return o.out.Err()
}

func (o *intervalJoinOp[K, L, R, O]) addLeft(kg int, k K, l L, t int64) {
	o.curL, o.curT, o.matched = l, t, false
	o.right.Namespaces(kg, k, o.scanRight)
	matched := o.matched
	var zero L
	o.curL = zero
	ls, found := o.left.Get(kg, k, t)
	o.left.Put(kg, k, t, append(ls, ijLeft[L]{V: l, Matched: matched}))
	if !found {
		o.q.push(expiry[K]{at: t + o.upper, key: k, ns: t, kg: uint16(kg), side: sideLeft})
	}
}

// matchRight joins the current left record with the right records of one
// timestamp.
func (o *intervalJoinOp[K, L, R, O]) matchRight(u int64, rs []R) bool {
	t := o.curT
	if u >= t+o.lower && u <= t+o.upper {
		ts := max(t, u)
		for j := range rs {
			o.out.Emit(o.fn(o.curL, &rs[j]), ts)
		}
		o.matched = o.matched || len(rs) > 0
	}
	return true
}

func (o *intervalJoinOp[K, L, R, O]) addRight(kg int, k K, r *R, u int64) {
	o.scratch = o.scratch[:0]
	o.curR, o.curT = r, u
	o.left.Namespaces(kg, k, o.scanLeft)
	o.curR = nil
	for _, t := range o.scratch { // mark matched: copy, state is copy-on-write
		ls, _ := o.left.Get(kg, k, t)
		c := make([]ijLeft[L], len(ls))
		for j, l := range ls {
			c[j] = ijLeft[L]{V: l.V, Matched: true}
		}
		o.left.Put(kg, k, t, c)
	}
	rs, found := o.right.Get(kg, k, u)
	o.right.Put(kg, k, u, append(rs, *r))
	if !found {
		o.q.push(expiry[K]{at: u - o.lower, key: k, ns: u, kg: uint16(kg), side: sideRight})
	}
}

// matchLeft joins the current right record with the left records of one
// timestamp; an outer join notes the timestamps it must mark matched.
func (o *intervalJoinOp[K, L, R, O]) matchLeft(t int64, ls []ijLeft[L]) bool {
	u := o.curT
	if t >= u-o.upper && t <= u-o.lower {
		ts := max(t, u)
		unmatched := false
		for j := range ls {
			o.out.Emit(o.fn(ls[j].V, o.curR), ts)
			unmatched = unmatched || !ls[j].Matched
		}
		if o.outer && unmatched {
			o.scratch = append(o.scratch, t)
		}
	}
	return true
}

// ProcessWatermark drops the records no future record can match; an outer
// join first emits the unmatched left ones.
func (o *intervalJoinOp[K, L, R, O]) ProcessWatermark(wm int64) error {
	o.wm = max(o.wm, wm)
	for {
		e, ok := o.q.pop(wm)
		if !ok {
			return o.out.Err()
		}
		kg := int(e.kg)
		if e.side == sideRight {
			o.right.Delete(kg, e.key, e.ns)
			continue
		}
		if o.outer {
			ls, _ := o.left.Get(kg, e.key, e.ns)
			for _, l := range ls {
				if !l.Matched {
					o.out.Emit(o.fn(l.V, nil), e.ns)
				}
			}
		}
		o.left.Delete(kg, e.key, e.ns)
	}
}

// JoinStats implements JoinStater.
func (o *intervalJoinOp[K, L, R, O]) JoinStats() JoinStats {
	return JoinStats{Buffered: tableLen(o.ctx, o.left) + tableLen(o.ctx, o.right), Pending: o.q.len(), DroppedLate: o.late}
}
