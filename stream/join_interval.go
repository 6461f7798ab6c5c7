package stream

import (
	"slices"
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

// ijBuf is the interval join's state of one key: the buffered records of
// both sides, each side sorted by event time (records of equal times in
// arrival order), so that the earliest to expire are at the front.
//
// Copy-on-write rule: the table copies values shallowly when a snapshot
// shares them (statebackend.Pointers), so the arrays behind Left and Right
// may be read by a snapshot while the operator keeps changing the live
// value. The elements within a slice's length are therefore never written
// again once the slice is stored: the operator only appends (which writes
// past the length any older slice header has, so no snapshot sees it),
// reslices from the front to expire records, and builds a new array for
// every other change (a record inserted before the end, records marked
// matched). Restored state is decoded afresh, so it shares nothing.
type ijBuf[L, R any] struct {
	Left  []ijLeft[L]
	Right []ijRight[R]
}

// ijLeft is a buffered left record of an interval join, its event time and
// whether it has found a partner (outer joins).
type ijLeft[L any] struct {
	T       int64
	V       L
	Matched bool
}

// ijRight is a buffered right record of an interval join and its event
// time.
type ijRight[R any] struct {
	T int64
	V R
}

// intervalJoinOp is the interval join: per key, one table entry holds both
// sides' buffered records sorted by time; each arriving record scans the
// other side's records of its key. The expiry queue holds, for every key
// in the table, an expiry at the time its earliest record expires (plus
// stale ones, which are skipped).
type intervalJoinOp[K comparable, L, R, O any] struct {
	operators.Base
	lower, upper int64
	outer        bool
	fn           func(L, *R) O
	hash         func(K) uint64
	ctx          *operators.Context
	tab          statebackend.Table[K, statebackend.Void, ijBuf[L, R]]
	ptr          statebackend.Pointers[K, statebackend.Void, ijBuf[L, R]] // nil without in-place updates
	tmp          ijBuf[L, R]                                              // the value being changed without ptr
	q            expiryQueue[K]
	wm           int64
	late         int64
	out          *operators.Emitter[O]
}

func newIntervalJoinOp[K comparable, L, R, O any](lower, upper int64, outer bool, fn func(L, *R) O) *intervalJoinOp[K, L, R, O] {
	return &intervalJoinOp[K, L, R, O]{lower: lower, upper: upper, outer: outer, fn: fn, hash: operators.HashFunc[K]()}
}

const ijTable = "interval-join/buffer"

func (o *intervalJoinOp[K, L, R, O]) Open(ctx *operators.Context, out *operators.Emitter[O]) error {
	if o.fn == nil {
		return ErrNilFunc
	}
	if ctx.State == nil {
		return errNoState
	}
	var err error
	if o.tab, err = statebackend.Open[K, statebackend.Void, ijBuf[L, R]](ctx.State, ijTable); err != nil {
		return err
	}
	o.ptr, _ = o.tab.(statebackend.Pointers[K, statebackend.Void, ijBuf[L, R]])
	o.ctx, o.out, o.wm = ctx, out, timeapi.MinWatermark
	// Rebuild the clean-up queue from restored state.
	return forEachEntry(ctx, ijTable, func(kg int, k K, _ statebackend.Void, b ijBuf[L, R]) {
		if at, ok := o.earliest(&b); ok {
			o.q.push(expiry[K]{at: at, key: k, kg: uint16(kg)})
		}
	})
}

// buf returns the state of key k for changing it, creating it empty if
// missing when create is true (else returning nil). Without in-place
// updates it is a copy, which put stores.
func (o *intervalJoinOp[K, L, R, O]) buf(kg int, k K, create bool) *ijBuf[L, R] {
	if o.ptr != nil {
		p, _ := o.ptr.Ptr(kg, k, statebackend.Void{}, create)
		return p
	}
	v, ok := o.tab.Get(kg, k, statebackend.Void{})
	if !ok && !create {
		return nil
	}
	o.tmp = v
	return &o.tmp
}

// put stores the state b returned by buf, unless buf changed it in place.
func (o *intervalJoinOp[K, L, R, O]) put(kg int, k K, b *ijBuf[L, R]) {
	if o.ptr == nil {
		o.tab.Put(kg, k, statebackend.Void{}, *b)
		o.tmp = ijBuf[L, R]{}
	}
}

// earliest returns the time the earliest record of b expires: a left
// record at t when the watermark reaches t+upper, a right one at u when it
// reaches u-lower.
func (o *intervalJoinOp[K, L, R, O]) earliest(b *ijBuf[L, R]) (int64, bool) {
	switch {
	case len(b.Left) > 0 && len(b.Right) > 0:
		return min(b.Left[0].T+o.upper, b.Right[0].T-o.lower), true
	case len(b.Left) > 0:
		return b.Left[0].T + o.upper, true
	case len(b.Right) > 0:
		return b.Right[0].T - o.lower, true
	}
	return 0, false
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

// addLeft joins left record l at t with the right records of its key
// whose times are in [t+lower, t+upper] and buffers it.
func (o *intervalJoinOp[K, L, R, O]) addLeft(kg int, k K, l L, t int64) {
	b := o.buf(kg, k, true)
	lo, hi := t+o.lower, t+o.upper
	matched := false
	for j := firstAt(b.Right, lo, func(r *ijRight[R]) int64 { return r.T }); j < len(b.Right); j++ {
		r := &b.Right[j]
		if r.T < lo {
			continue
		}
		if r.T > hi {
			break
		}
		o.out.Emit(o.fn(l, &r.V), max(t, r.T))
		matched = true
	}
	first, had := o.earliest(b)
	rec := ijLeft[L]{T: t, V: l, Matched: matched}
	if n := len(b.Left); n == 0 || b.Left[n-1].T <= t {
		b.Left = append(b.Left, rec)
	} else {
		b.Left = insertSorted(b.Left, rec, func(x *ijLeft[L]) int64 { return x.T })
	}
	if at := t + o.upper; !had || at < first {
		o.q.push(expiry[K]{at: at, key: k, kg: uint16(kg)})
	}
	o.put(kg, k, b)
}

// addRight joins right record r at u with the left records of its key
// whose times are in [u-upper, u-lower] and buffers it. An outer join
// marks those left records matched, in a copy (see ijBuf).
func (o *intervalJoinOp[K, L, R, O]) addRight(kg int, k K, r *R, u int64) {
	b := o.buf(kg, k, true)
	lo, hi := u-o.upper, u-o.lower
	from, to, unmatched := -1, 0, false
	for j := firstAt(b.Left, lo, func(l *ijLeft[L]) int64 { return l.T }); j < len(b.Left); j++ {
		l := &b.Left[j]
		if l.T < lo {
			continue
		}
		if l.T > hi {
			break
		}
		o.out.Emit(o.fn(l.V, r), max(l.T, u))
		if from < 0 {
			from = j
		}
		to = j + 1
		unmatched = unmatched || !l.Matched
	}
	if o.outer && unmatched {
		ls := slices.Clone(b.Left)
		for j := from; j < to; j++ {
			ls[j].Matched = true
		}
		b.Left = ls
	}
	first, had := o.earliest(b)
	rec := ijRight[R]{T: u, V: *r}
	if n := len(b.Right); n == 0 || b.Right[n-1].T <= u {
		b.Right = append(b.Right, rec)
	} else {
		b.Right = insertSorted(b.Right, rec, func(x *ijRight[R]) int64 { return x.T })
	}
	if at := u - o.lower; !had || at < first {
		o.q.push(expiry[K]{at: at, key: k, kg: uint16(kg)})
	}
	o.put(kg, k, b)
}

// firstAt returns where the records of s at or after time lo start when s
// is long, else 0 (a short slice is scanned from its start).
func firstAt[E any](s []E, lo int64, time func(*E) int64) int {
	if len(s) <= 8 {
		return 0
	}
	i, j := 0, len(s)
	for i < j {
		h := int(uint(i+j) >> 1)
		if time(&s[h]) < lo {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

// insertSorted returns s with e inserted after the records of s at or
// before its time, in a new array: s may be shared with a snapshot.
func insertSorted[E any](s []E, e E, time func(*E) int64) []E {
	t := time(&e)
	i := len(s)
	for i > 0 && time(&s[i-1]) > t {
		i--
	}
	c := make([]E, len(s)+1, len(s)+1+len(s)/2)
	copy(c, s[:i])
	c[i] = e
	copy(c[i+1:], s[i:])
	return c
}

// ProcessWatermark drops the records no future record can match; an outer
// join first emits the unmatched left ones. Each key's records expire in
// time order, one expiry at a time.
func (o *intervalJoinOp[K, L, R, O]) ProcessWatermark(wm int64) error {
	o.wm = max(o.wm, wm)
	for {
		e, ok := o.q.pop(wm)
		if !ok {
			return o.out.Err()
		}
		kg := int(e.kg)
		b := o.buf(kg, e.key, false)
		if b == nil {
			continue
		}
		if at, ok := o.earliest(b); !ok || at != e.at {
			continue // stale: an earlier record came, or the key was cleaned up since
		}
		n := 0
		for ; n < len(b.Left) && b.Left[n].T+o.upper <= e.at; n++ {
			if l := &b.Left[n]; o.outer && !l.Matched {
				o.out.Emit(o.fn(l.V, nil), l.T)
			}
		}
		b.Left = trimFront(b.Left, n)
		n = 0
		for n < len(b.Right) && b.Right[n].T-o.lower <= e.at {
			n++
		}
		b.Right = trimFront(b.Right, n)
		next, ok := o.earliest(b)
		if !ok {
			o.tab.Delete(kg, e.key, statebackend.Void{})
			o.tmp = ijBuf[L, R]{}
			continue
		}
		o.q.push(expiry[K]{at: next, key: e.key, kg: e.kg})
		o.put(kg, e.key, b)
	}
}

// trimFront drops the first n records of s by reslicing (see ijBuf), or
// returns nil when none stay, which frees the array.
func trimFront[E any](s []E, n int) []E {
	if n == len(s) {
		return nil
	}
	return s[n:]
}

// JoinStats implements JoinStater. Buffered counts keys with buffered
// records.
func (o *intervalJoinOp[K, L, R, O]) JoinStats() JoinStats {
	return JoinStats{Buffered: tableLen(o.ctx, o.tab), Pending: o.q.len(), DroppedLate: o.late}
}
