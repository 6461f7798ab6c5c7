package stream

import (
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// TemporalJoin joins each record of left with the version of a versioned
// table valid at the record's event time (FOR SYSTEM_TIME AS OF in SQL,
// e.g. orders against currency rates). The table is built from the
// changelog stream table: a row's event time is the time its version
// becomes valid; Insert and UpdateAfter rows set the version of their
// key from then on, Delete rows end it (UpdateBefore rows are ignored).
// A left record waits in state until the watermark (the minimum of both
// inputs') passes its time, so every version valid then has arrived; it
// then emits fn(t, v) with its own event time, or with LeftOuterJoin
// fn(t, nil) when no version was valid. Versions older than the one valid
// at the watermark are dropped. Left records behind the watermark are
// dropped (counted as late). kind must be InnerJoin or LeftOuterJoin.
func TemporalJoin[K comparable, T, V, O any](left KeyedStream[K, T], table DataStream[windowing.Change[K, V]],
	kind JoinKind, fn func(t T, v *V) O) DataStream[O] {
	j := left.in.job
	if fn == nil {
		j.addErr("%w: TemporalJoin after %q", ErrNilFunc, left.in.n.name)
	}
	if kind != InnerJoin && kind != LeftOuterJoin {
		j.addErr("%w: TemporalJoin after %q: %v (inner or left outer only)", ErrBadSetting, left.in.n.name, kind)
	}
	versions := KeyedStream[K, windowing.Change[K, V]]{in: table, key: func(c windowing.Change[K, V]) K { return c.Key }}
	tag := func(c windowing.Change[K, V]) (tver[V], bool) {
		return tver[V]{V: c.Value, Del: c.Kind == windowing.Delete}, c.Kind != windowing.UpdateBefore
	}
	return twoInputThen[K, T, windowing.Change[K, V], tver[V], O](left, versions, "TemporalJoin", tag, func() operators.Operator {
		return operators.Drive[joinIn[K, T, tver[V]], O](&temporalOp[K, T, V, O]{
			outer: kind == LeftOuterJoin, tol: -1, fn: fn, hash: operators.HashFunc[K]()})
	})
}

// AsofDirection says where an ASOF join looks for a partner.
type AsofDirection uint8

// ASOF directions.
const (
	// Backward matches the latest right record at or before the left
	// record's time.
	Backward AsofDirection = iota
	// Forward matches the earliest right record at or after it; it needs
	// a Tolerance.
	Forward
)

// AsofOptions configure AsofJoin.
type AsofOptions struct {
	Direction AsofDirection
	// Tolerance, if positive, is the largest time distance of a match.
	// Zero means any distance (Backward only).
	Tolerance time.Duration
	// Outer also emits fn(t, nil) for a left record without a match.
	Outer bool
}

// AsofJoin joins each record of left with the nearest record of right of
// the same key by event time: the latest at or before it (Backward) or
// the earliest at or after it (Forward), within opts.Tolerance; of right
// records with equal times the last to arrive counts. A left record t is
// emitted, as fn(t, u) with t's event time, once the watermark (the
// minimum of both inputs') guarantees its match is final: at t for
// Backward, at t + Tolerance for Forward. Right records no future left
// record can match are dropped from state with the watermark; left
// records behind the watermark are dropped (counted as late).
func AsofJoin[K comparable, T, U, O any](left KeyedStream[K, T], right KeyedStream[K, U], opts AsofOptions,
	fn func(t T, u *U) O) DataStream[O] {
	j := left.in.job
	if fn == nil {
		j.addErr("%w: AsofJoin after %q", ErrNilFunc, left.in.n.name)
	}
	tol := wholeMillis(j, opts.Tolerance, "ASOF tolerance")
	switch {
	case opts.Tolerance < 0 || opts.Direction > Forward:
		j.addErr("%w: AsofJoin after %q: %+v", ErrBadSetting, left.in.n.name, opts)
	case opts.Direction == Forward && tol <= 0:
		j.addErr("%w: forward AsofJoin after %q needs a positive tolerance", ErrBadSetting, left.in.n.name)
	case tol == 0:
		tol = -1 // unbounded
	}
	tag := func(u U) (tver[U], bool) { return tver[U]{V: u}, true }
	return twoInputThen[K, T, U, tver[U], O](left, right, "AsofJoin", tag, func() operators.Operator {
		return operators.Drive[joinIn[K, T, tver[U]], O](&temporalOp[K, T, U, O]{
			outer: opts.Outer, tol: tol, forward: opts.Direction == Forward, fn: fn, hash: operators.HashFunc[K]()})
	})
}

// tver is a version of a temporal table (valid from its namespace, a
// time), or a deletion.
type tver[V any] struct {
	V   V
	Del bool
}

// temporalOp is the temporal and ASOF join: per key, pending left records
// by time and versions by valid-from time. Each pending time has one
// expiry (emission when the watermark reaches it), each version one
// (compaction).
type temporalOp[K comparable, L, V, O any] struct {
	operators.Base
	outer   bool
	forward bool
	tol     int64 // < 0: unbounded
	fn      func(L, *V) O
	hash    func(K) uint64
	ctx     *operators.Context
	pending statebackend.Table[K, int64, []L]
	vers    statebackend.Table[K, int64, tver[V]]
	q       expiryQueue[K]
	wm      int64
	late    int64
	out     *operators.Emitter[O]
	scratch []int64
}

func (o *temporalOp[K, L, V, O]) Open(ctx *operators.Context, out *operators.Emitter[O]) error {
	if o.fn == nil {
		return ErrNilFunc
	}
	if ctx.State == nil {
		return errNoState
	}
	var err error
	if o.pending, err = statebackend.Open[K, int64, []L](ctx.State, "temporal-join/pending"); err != nil {
		return err
	}
	if o.vers, err = statebackend.Open[K, int64, tver[V]](ctx.State, "temporal-join/versions"); err != nil {
		return err
	}
	o.ctx, o.out, o.wm = ctx, out, timeapi.MinWatermark
	if err := forEachEntry(ctx, "temporal-join/pending", func(kg int, k K, t int64, _ []L) {
		o.q.push(expiry[K]{at: o.emitAt(t), key: k, ns: t, kg: uint16(kg), side: sideLeft})
	}); err != nil {
		return err
	}
	return forEachEntry(ctx, "temporal-join/versions", func(kg int, k K, t int64, _ tver[V]) {
		o.q.push(expiry[K]{at: o.compactAt(t), key: k, ns: t, kg: uint16(kg), side: sideRight})
	})
}

// emitAt is when a left record at t is final.
func (o *temporalOp[K, L, V, O]) emitAt(t int64) int64 {
	if o.forward {
		return t + o.tol
	}
	return t
}

// compactAt is when a version at t is checked: backward, once it is valid
// at the watermark (older ones go); forward, once no pending or future
// left record can reach it (it goes).
func (o *temporalOp[K, L, V, O]) compactAt(t int64) int64 {
	if o.forward {
		return t + o.tol + 1
	}
	return t
}

func (o *temporalOp[K, L, V, O]) ProcessBatch(in *operators.Batch[joinIn[K, L, tver[V]]]) error {
	for i := range in.Values {
		e := &in.Values[i]
		ts := in.Times[i]
		if ts == timeapi.NoTimestamp {
			return errJoinNoTimestamp
		}
		kg := keyGroup(in, i, e.key, o.hash, o.ctx.MaxParallelism)
		if e.right {
			_, found := o.vers.Get(kg, e.key, ts)
			o.vers.Put(kg, e.key, ts, e.r)
			if !found {
				o.q.push(expiry[K]{at: o.compactAt(ts), key: e.key, ns: ts, kg: uint16(kg), side: sideRight})
			}
			continue
		}
		if ts <= o.wm {
			o.late++
			continue
		}
		ls, found := o.pending.Get(kg, e.key, ts)
		o.pending.Put(kg, e.key, ts, append(ls, e.l))
		if !found {
			o.q.push(expiry[K]{at: o.emitAt(ts), key: e.key, ns: ts, kg: uint16(kg), side: sideLeft})
		}
	}
	return o.out.Err()
}

// ProcessWatermark emits the pending left records the watermark made
// final and compacts versions, in time order.
func (o *temporalOp[K, L, V, O]) ProcessWatermark(wm int64) error {
	o.wm = max(o.wm, wm)
	for {
		e, ok := o.q.pop(wm)
		if !ok {
			return o.out.Err()
		}
		kg := int(e.kg)
		if e.side == sideRight {
			o.compact(kg, e.key, e.ns)
			continue
		}
		ls, _ := o.pending.Get(kg, e.key, e.ns)
		v := o.lookup(kg, e.key, e.ns)
		for _, l := range ls {
			if v != nil || o.outer {
				o.out.Emit(o.fn(l, v), e.ns)
			}
		}
		o.pending.Delete(kg, e.key, e.ns)
	}
}

// lookup returns the version matching a left record at t, or nil.
func (o *temporalOp[K, L, V, O]) lookup(kg int, k K, t int64) *V {
	var best tver[V]
	bt, found := int64(0), false
	o.vers.Namespaces(kg, k, func(vt int64, v tver[V]) bool {
		var ok bool
		if o.forward {
			ok = vt >= t && vt-t <= o.tol && (!found || vt < bt)
		} else {
			ok = vt <= t && (o.tol < 0 || t-vt <= o.tol) && (!found || vt > bt)
		}
		if ok {
			best, bt, found = v, vt, true
		}
		return true
	})
	if !found || best.Del {
		return nil
	}
	return &best.V
}

// compact drops the versions no record can match any more.
func (o *temporalOp[K, L, V, O]) compact(kg int, k K, at int64) {
	if o.forward {
		o.vers.Delete(kg, k, at)
		return
	}
	// Backward: every later left record is after at, so of the versions
	// at or before at only the latest can still match.
	keep, found := int64(0), false
	o.vers.Namespaces(kg, k, func(vt int64, _ tver[V]) bool {
		if vt <= at && (!found || vt > keep) {
			keep, found = vt, true
		}
		return true
	})
	if !found {
		return
	}
	o.scratch = o.scratch[:0]
	o.vers.Namespaces(kg, k, func(vt int64, _ tver[V]) bool {
		if vt < keep {
			o.scratch = append(o.scratch, vt)
		}
		return true
	})
	for _, vt := range o.scratch {
		o.vers.Delete(kg, k, vt)
	}
	if v, _ := o.vers.Get(kg, k, keep); v.Del {
		o.vers.Delete(kg, k, keep)
	}
}

// JoinStats implements JoinStater.
func (o *temporalOp[K, L, V, O]) JoinStats() JoinStats {
	return JoinStats{Buffered: tableLen(o.ctx, o.pending) + tableLen(o.ctx, o.vers), Pending: o.q.len(), DroppedLate: o.late}
}
