package stream

import (
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// JoinOptions configure Join.
type JoinOptions struct {
	// TTL, if positive, drops a record from the join's state once TTL has
	// passed since it arrived; later records of the other side no longer
	// find it (no retraction is emitted). Zero keeps every record forever.
	TTL time.Duration
	// TTLDomain is the clock of TTL: EventTime (the default) expires a
	// record when the watermark passes its event time + TTL;
	// ProcessingTime when the clock passes its arrival + TTL.
	TTLDomain TimeDomain
}

// Join joins two keyed streams on equal keys without time bounds (a
// regular SQL join), producing a changelog: every record is kept in keyed
// state (see JoinOptions.TTL) and joined with all records of the other
// side that arrived before it, so the result of the join so far is the
// table obtained by applying the rows in order. For each new pair it
// emits Insert fn(key, l, r). With an outer kind, a record of an outer
// side without a partner emits Insert fn(key, l, nil) (or fn(key, nil, r));
// when its first partner arrives that row is retracted with Delete before
// the pair's Insert. Rows carry the event time of the record that caused
// them. fn must not keep the pointers and must be deterministic: a
// retraction recomputes the row it takes back.
func Join[K comparable, L, R, O any](left KeyedStream[K, L], right KeyedStream[K, R], kind JoinKind, opts JoinOptions,
	fn func(key K, l *L, r *R) O) DataStream[windowing.Change[K, O]] {
	j := left.in.job
	if fn == nil {
		j.addErr("%w: Join after %q", ErrNilFunc, left.in.n.name)
	}
	if !kind.valid() {
		j.addErr("%w: Join after %q: %v", ErrBadSetting, left.in.n.name, kind)
	}
	if opts.TTL < 0 || opts.TTLDomain > ProcessingTime {
		j.addErr("%w: Join after %q: TTL %v (%v)", ErrBadSetting, left.in.n.name, opts.TTL, opts.TTLDomain)
	}
	ttl := wholeMillis(j, opts.TTL, "join TTL")
	return twoInputThen[K, L, R, R, windowing.Change[K, O]](left, right, "Join", same[R], func() operators.Operator {
		return operators.Drive[joinIn[K, L, R], windowing.Change[K, O]](&regularJoinOp[K, L, R, O]{
			kind: kind, ttl: ttl, domain: opts.TTLDomain, fn: fn, hash: operators.HashFunc[K]()})
	})
}

// jrow is a record in a regular join's state: its value, the time its TTL
// counts from and whether it has found a partner (outer sides).
type jrow[V any] struct {
	V       V
	At      int64
	Matched bool
}

// regularJoinOp keeps, per key, the list of records of each side.
type regularJoinOp[K comparable, L, R, O any] struct {
	operators.Base
	kind   JoinKind
	ttl    int64
	domain TimeDomain
	fn     func(key K, l *L, r *R) O
	flip   func(key K, r *R, l *L) O
	hash   func(K) uint64
	ctx    *operators.Context
	left   statebackend.Table[K, statebackend.Void, []jrow[L]]
	right  statebackend.Table[K, statebackend.Void, []jrow[R]]
	q      expiryQueue[K]
	wm     int64
	out    *operators.Emitter[windowing.Change[K, O]]
}

func (o *regularJoinOp[K, L, R, O]) Open(ctx *operators.Context, out *operators.Emitter[windowing.Change[K, O]]) error {
	if o.fn == nil {
		return ErrNilFunc
	}
	if ctx.State == nil {
		return errNoState
	}
	var err error
	if o.left, err = statebackend.Open[K, statebackend.Void, []jrow[L]](ctx.State, "join/left"); err != nil {
		return err
	}
	if o.right, err = statebackend.Open[K, statebackend.Void, []jrow[R]](ctx.State, "join/right"); err != nil {
		return err
	}
	o.ctx, o.out, o.wm = ctx, out, timeapi.MinWatermark
	fn := o.fn
	o.flip = func(k K, r *R, l *L) O { return fn(k, l, r) }
	if o.ttl == 0 {
		return nil
	}
	if err := forEachEntry(ctx, "join/left", func(kg int, k K, _ statebackend.Void, rows []jrow[L]) {
		o.expireAt(kg, k, sideLeft, minAt(rows))
	}); err != nil {
		return err
	}
	return forEachEntry(ctx, "join/right", func(kg int, k K, _ statebackend.Void, rows []jrow[R]) {
		o.expireAt(kg, k, sideRight, minAt(rows))
	})
}

func minAt[V any](rows []jrow[V]) int64 {
	m := rows[0].At
	for _, r := range rows[1:] {
		m = min(m, r.At)
	}
	return m
}

// expireAt schedules the TTL check of one key's side for rows stored at at.
func (o *regularJoinOp[K, L, R, O]) expireAt(kg int, k K, side uint8, at int64) {
	o.q.push(expiry[K]{at: at + o.ttl, key: k, kg: uint16(kg), side: side})
	if o.domain == ProcessingTime && o.ctx.Timers != nil {
		o.ctx.Timers.CallbackAt(at + o.ttl)
	}
}

func (o *regularJoinOp[K, L, R, O]) ProcessBatch(in *operators.Batch[joinIn[K, L, R]]) error {
	now := int64(0)
	if o.ttl > 0 && o.domain == ProcessingTime {
		now = timeapi.NowMillis(o.ctx.Clock)
	}
	for i := range in.Values {
		e := &in.Values[i]
		ts := in.Times[i]
		at := now
		if o.ttl > 0 && o.domain == EventTime {
			if ts == timeapi.NoTimestamp {
				return errJoinNoTimestamp
			}
			at = ts
		}
		kg := keyGroup(in, i, e.key, o.hash, o.ctx.MaxParallelism)
		emit := func(kind windowing.RowKind, v O) {
			o.out.Emit(windowing.Change[K, O]{Kind: kind, Key: e.key, Value: v}, ts)
		}
		var first bool
		if e.right {
			first = arrive(o.right, o.left, o.kind.rightOuter(), o.kind.leftOuter(), kg, e.key, &e.r, at, o.flip, emit)
		} else {
			first = arrive(o.left, o.right, o.kind.leftOuter(), o.kind.rightOuter(), kg, e.key, &e.l, at, o.fn, emit)
		}
		if first && o.ttl > 0 {
			side := sideLeft
			if e.right {
				side = sideRight
			}
			o.expireAt(kg, e.key, side, at)
		}
	}
	return o.out.Err()
}

// arrive joins record v of one side (mine) with the stored records of the
// other side, emits the rows, and stores v. It reports whether v is the
// first stored record of its key on its side.
func arrive[K comparable, A, B, O any](mine statebackend.Table[K, statebackend.Void, []jrow[A]],
	other statebackend.Table[K, statebackend.Void, []jrow[B]], mineOuter, otherOuter bool,
	kg int, k K, v *A, at int64, pair func(k K, a *A, b *B) O, emit func(windowing.RowKind, O)) bool {
	os, _ := other.Get(kg, k, statebackend.Void{})
	retracted := false
	for i := range os {
		b := &os[i]
		if otherOuter && !b.Matched {
			emit(windowing.Delete, pair(k, nil, &b.V))
			retracted = true
		}
		emit(windowing.Insert, pair(k, v, &b.V))
	}
	if retracted { // state is copy-on-write: replace the list
		c := make([]jrow[B], len(os))
		for i, b := range os {
			c[i] = jrow[B]{V: b.V, At: b.At, Matched: true}
		}
		other.Put(kg, k, statebackend.Void{}, c)
	}
	if len(os) == 0 && mineOuter {
		emit(windowing.Insert, pair(k, v, nil))
	}
	ms, _ := mine.Get(kg, k, statebackend.Void{})
	mine.Put(kg, k, statebackend.Void{}, append(ms, jrow[A]{V: *v, At: at, Matched: len(os) > 0}))
	return len(ms) == 0
}

// ProcessWatermark expires records with an event-time TTL.
func (o *regularJoinOp[K, L, R, O]) ProcessWatermark(wm int64) error {
	o.wm = max(o.wm, wm)
	if o.ttl > 0 && o.domain == EventTime {
		o.expire(wm)
	}
	return o.out.Err()
}

// OnProcessingTime expires records with a processing-time TTL.
func (o *regularJoinOp[K, L, R, O]) OnProcessingTime(now int64) error {
	if o.ttl > 0 && o.domain == ProcessingTime {
		o.expire(now)
		if at, ok := o.q.peek(); ok {
			o.ctx.Timers.CallbackAt(at)
		}
	}
	return o.out.Err()
}

func (o *regularJoinOp[K, L, R, O]) expire(upTo int64) {
	for {
		e, ok := o.q.pop(upTo)
		if !ok {
			return
		}
		kg := int(e.kg)
		var next int64
		var more bool
		if e.side == sideLeft {
			next, more = expireRows(o.left, kg, e.key, upTo-o.ttl)
		} else {
			next, more = expireRows(o.right, kg, e.key, upTo-o.ttl)
		}
		if more {
			o.q.push(expiry[K]{at: next + o.ttl, key: e.key, kg: e.kg, side: e.side})
		}
	}
}

// expireRows drops the rows of a key stored at or before cut; it returns
// the earliest time of the rows left, if any.
func expireRows[K comparable, V any](t statebackend.Table[K, statebackend.Void, []jrow[V]], kg int, k K, cut int64) (int64, bool) {
	rows, _ := t.Get(kg, k, statebackend.Void{})
	var keep []jrow[V]
	for _, r := range rows {
		if r.At > cut {
			keep = append(keep, r)
		}
	}
	if len(keep) == 0 {
		t.Delete(kg, k, statebackend.Void{})
		return 0, false
	}
	if len(keep) < len(rows) {
		t.Put(kg, k, statebackend.Void{}, keep)
	}
	return minAt(keep), true
}

// JoinStats implements JoinStater.
func (o *regularJoinOp[K, L, R, O]) JoinStats() JoinStats {
	return JoinStats{Buffered: tableLen(o.ctx, o.left) + tableLen(o.ctx, o.right), Pending: o.q.len()}
}
