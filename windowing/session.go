package windowing

import (
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
	"math"
)

// session is the state of one session window of a key; its start is the
// namespace it is stored under, so a session that only grows to the right
// (in-order input) is updated in place.
type session[A, R any] struct {
	End     int64
	Acc     A
	Count   int64 // elements since the last purge
	Fired   bool  // the watermark passed end; kept for allowed lateness
	Dirty   bool  // changed since the last periodic emission (Every)
	HasEmit bool  // a row was emitted for [start, end) (tracking only)
	EmCount int64 // count when it was emitted
	Emitted R
}

// sessRef is a session read out of the table.
type sessRef[A, R any] struct {
	start int64
	s     session[A, R]
}

// collectOverlapping gathers the sessions overlapping o.cur into
// o.scratch (built once in Open as Table.Namespaces' callback, so that
// iterating allocates nothing).
func (o *Operator[K, T, A, R, O]) collectOverlapping(start int64, s session[A, R]) bool {
	if start < o.cur.end && o.cur.start < s.End {
		o.scratch = append(o.scratch, sessRef[A, R]{start: start, s: s})
	} else {
		o.maxOther = max(o.maxOther, start)
	}
	return true
}

// extendLatest is the in-order fast path: the element falls in or extends
// the key's latest session (no later session can overlap it), which is
// updated in place without iterating the key's sessions.
func (o *Operator[K, T, A, R, O]) extendLatest(kg uint16, k K, v T, ts int64) bool {
	ls, ok := o.latest.Get(int(kg), k, statebackend.Void{})
	if !ok || ls > ts {
		return false
	}
	p, _ := o.sptr.Ptr(int(kg), k, ls, false)
	if p == nil || ts >= p.End || p.Fired {
		return false
	}
	p.End = max(p.End, ts+o.a.gap)
	o.adder.Add(&p.Acc, v)
	p.Count++
	return true
}

// forgetLatest drops the hint of key when its session at start goes.
func (o *Operator[K, T, A, R, O]) forgetLatest(kg int, k K, start int64) {
	if ls, ok := o.latest.Get(kg, k, statebackend.Void{}); ok && ls == start {
		o.latest.Delete(kg, k, statebackend.Void{})
	}
}

// sessionBatch adds a batch to session windows. An element that falls in
// or extends to the right the one session it overlaps (in-order input) is
// added in place; others create or merge sessions.
func (o *Operator[K, T, A, R, O]) sessionBatch(in *operators.Batch[T]) error {
	fast := o.opt.Trigger == nil && !o.opt.Emit.IsEarly() && o.sptr != nil
	for i, v := range in.Values {
		ts := in.Times[i]
		if o.proc {
			ts = o.now
		} else if ts == timeapi.NoTimestamp {
			return ErrNoTimestamp
		}
		k := o.key(v)
		kg := o.keyGroup(in, i, k)
		if fast && o.extendLatest(kg, k, v, ts) {
			continue
		}
		o.cur = span{ts, ts + o.a.gap}
		o.scratch = o.scratch[:0]
		o.maxOther = math.MinInt64
		o.sess.Namespaces(int(kg), k, o.collect)
		if fast && len(o.scratch) == 1 && o.scratch[0].start <= ts && !o.scratch[0].s.Fired {
			p, _ := o.sptr.Ptr(int(kg), k, o.scratch[0].start, false)
			p.End = max(p.End, o.cur.end)
			o.adder.Add(&p.Acc, v)
			p.Count++
			if o.scratch[0].start > o.maxOther { // it is the latest session
				o.latest.Put(int(kg), k, statebackend.Void{}, o.scratch[0].start)
			}
			continue
		}
		if err := o.sessionMerge(kg, k, v, ts); err != nil {
			return err
		}
	}
	clear(o.scratch)
	return nil
}

// sessionMerge adds an element to a new session, merging the sessions it
// overlaps (in o.scratch): rows emitted for merged sessions whose window
// changed are retracted (Delete), and a session that ends at or before
// the watermark (a late element within the allowed lateness) emits at once.
func (o *Operator[K, T, A, R, O]) sessionMerge(kg uint16, k K, v T, ts int64) error {
	start, end := o.cur.start, o.cur.end
	// Merge in window order, so that results do not depend on the order
	// of the table's iteration (insertion sort: a handful of sessions).
	for i := 1; i < len(o.scratch); i++ {
		for j := i; j > 0 && o.scratch[j].start < o.scratch[j-1].start; j-- {
			o.scratch[j], o.scratch[j-1] = o.scratch[j-1], o.scratch[j]
		}
	}
	for _, r := range o.scratch {
		start, end = min(start, r.start), max(end, r.s.End)
	}
	if addSat(end-1, o.late) <= o.wm {
		o.lateElement(v, ts)
		return nil
	}
	s, reuse, err := o.mergeSessions(kg, k, start, end)
	if err != nil {
		return err
	}
	o.adder.Add(&s.Acc, v)
	s.Count++
	if !reuse || s.Fired {
		o.timers.add(end-1, timer[K]{key: k, aux: start, kg: kg})
	}
	s.Fired = false
	if end-1 <= o.wm { // late, within lateness: the window fires now
		if err := o.sessionEmit(k, start, &s); err != nil {
			return err
		}
		s.Fired = true
	} else if err := o.sessionEarly(kg, k, start, &s, ts); err != nil {
		return err
	}
	o.sess.Put(int(kg), k, start, s)
	o.latest.Put(int(kg), k, statebackend.Void{}, max(start, o.maxOther))
	return nil
}

// mergeSessions combines the sessions in o.scratch into one session
// [start, end), deleting those stored under another start and retracting
// their rows. reuse reports that a session already started at start (its
// timer stays valid).
func (o *Operator[K, T, A, R, O]) mergeSessions(kg uint16, k K, start, end int64) (s session[A, R], reuse bool, err error) {
	if len(o.scratch) == 1 && o.scratch[0].start == start {
		s, reuse = o.scratch[0].s, true // keep the accumulator: no merge
	} else {
		s.Acc = o.agg.Init()
		for _, r := range o.scratch {
			s.Acc = o.agg.Merge(s.Acc, r.s.Acc)
			s.Count += r.s.Count
			if r.start == start {
				reuse = true
				s.Fired, s.HasEmit, s.EmCount, s.Emitted = r.s.Fired, r.s.HasEmit, r.s.EmCount, r.s.Emitted
			}
		}
	}
	for _, r := range o.scratch {
		if r.s.HasEmit && (r.start != start || r.s.End != end) {
			if err := o.emitRow(Delete, k, span{r.start, r.s.End}.window(), r.s.Emitted, resultTime(r.s.End)); err != nil {
				return s, reuse, err
			}
		}
		if r.start != start {
			o.sess.Delete(int(kg), k, r.start)
		}
	}
	if s.End != end {
		s.HasEmit = false // the window changed: its old row was retracted
	}
	s.End = end
	return s, reuse, nil
}

// sessionEarly applies the trigger and the early emit policy to session
// [start, s.end) of k after an element at ts.
func (o *Operator[K, T, A, R, O]) sessionEarly(kg uint16, k K, start int64, s *session[A, R], ts int64) error {
	act := Continue
	if o.opt.Trigger != nil {
		act = o.opt.Trigger.OnElement(span{start, s.End}.window(), timeapi.Time(ts), s.Count)
	}
	switch {
	case act == Purge || act == FireAndPurge:
		if act == FireAndPurge {
			r := o.agg.Result(s.Acc)
			if err := o.emitRow(Insert, k, span{start, s.End}.window(), r, resultTime(s.End)); err != nil {
				return err
			}
		}
		s.Acc, s.Count, s.HasEmit = o.agg.Init(), 0, false
	case act == Fire || o.opt.Emit.early == emitOnUpdate:
		return o.sessionEmit(k, start, s)
	case o.opt.Emit.early == emitEvery && !s.Dirty:
		s.Dirty = true
		o.markDirty(kg, k, start)
	}
	return nil
}

// sessionEmit emits the result of session [start, s.end) of k: one Insert
// row without tracking; with tracking an Insert or an UpdateBefore/
// UpdateAfter pair, or nothing if the count did not change.
func (o *Operator[K, T, A, R, O]) sessionEmit(k K, start int64, s *session[A, R]) error {
	if s.Count == 0 {
		return nil
	}
	w := span{start, s.End}.window()
	r := o.agg.Result(s.Acc)
	if !o.track {
		return o.emitRow(Insert, k, w, r, resultTime(s.End))
	}
	if s.HasEmit && s.EmCount == s.Count {
		return nil
	}
	if err := o.changelog(k, w, s.Emitted, s.HasEmit, r, resultTime(s.End)); err != nil {
		return err
	}
	s.HasEmit, s.EmCount, s.Emitted = true, s.Count, r
	return nil
}

// sessionTimer handles a timer of k's session starting at tm.aux: it fires
// the session when the watermark passed its end (re-registering itself if
// the session grew meanwhile) and frees it once its lateness passed. A
// timer of a session merged away finds nothing and is dropped.
func (o *Operator[K, T, A, R, O]) sessionTimer(t int64, tm timer[K]) error {
	kg, start := int(tm.kg), tm.aux
	s, ok := o.sess.Get(kg, tm.key, start)
	if !ok {
		return nil
	}
	if !s.Fired {
		if s.End-1 > t {
			o.timers.add(s.End-1, tm)
			return nil
		}
		if err := o.sessionEmit(tm.key, start, &s); err != nil {
			return err
		}
		if o.late == 0 {
			o.sess.Delete(kg, tm.key, start)
			o.forgetLatest(kg, tm.key, start)
			return nil
		}
		s.Fired = true
		o.sess.Put(kg, tm.key, start, s)
	}
	if cleanup := addSat(s.End-1, o.late); cleanup > t {
		o.timers.add(cleanup, tm)
		return nil
	}
	o.sess.Delete(kg, tm.key, start)
	o.forgetLatest(kg, tm.key, start)
	return nil
}

// sessionTick emits a session that changed since the last periodic
// emission.
func (o *Operator[K, T, A, R, O]) sessionTick(d dirtyRef[K]) error {
	s, ok := o.sess.Get(int(d.kg), d.key, d.at)
	if !ok || !s.Dirty {
		return nil
	}
	s.Dirty = false
	if !s.Fired {
		if err := o.sessionEmit(d.key, d.at, &s); err != nil {
			return err
		}
	}
	o.sess.Put(int(d.kg), d.key, d.at, s)
	return nil
}
