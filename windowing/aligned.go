package windowing

import (
	"math"
	"slices"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
)

// alignedBatch adds a batch to the panes of tumbling, sliding or cumulate
// windows. The common case (an element after the watermark, no early
// emission) costs one table lookup.
func (o *Operator[K, T, A, R, O]) alignedBatch(in *operators.Batch[T]) error {
	early := o.opt.Trigger != nil || o.opt.Emit.IsEarly()
	for i, v := range in.Values {
		ts := in.Times[i]
		if o.proc {
			ts = o.now
		} else if ts == timeapi.NoTimestamp {
			return ErrNoTimestamp
		}
		k := o.key(v)
		kg := o.keyGroup(in, i, k)
		ps := o.a.paneOf(ts)
		if ts <= o.wm {
			if err := o.addLate(kg, k, v, ts, ps); err != nil {
				return err
			}
			continue
		}
		if o.gaps {
			if _, ok := o.a.firstEnd(ps); !ok {
				continue // between two sliding windows: in none
			}
		}
		p, found := o.pptr.Ptr(int(kg), paneKey[K]{k, ps}, statebackend.Void{}, true)
		if !found {
			p.Acc, p.Fired = o.agg.Init(), math.MinInt64
		}
		o.adder.Add(&p.Acc, v)
		p.Count++
		if !found {
			o.notePane(kg, k, ps)
			f, _ := o.a.firstEnd(ps)
			if o.sweeper != nil {
				o.noteEnd(f)
			} else {
				o.schedule(kg, k, f)
			}
		}
		if early {
			if err := o.afterAdd(kg, k, ps, ts); err != nil {
				return err
			}
		}
	}
	return nil
}

// schedule registers the timer of the window ending at f for a pane of k
// that just appeared, unless the window before it (still open) has panes
// of k: its firing registers f then.
func (o *Operator[K, T, A, R, O]) schedule(kg uint16, k K, f int64) {
	if prev, ok := o.a.prevEnd(f); ok && prev-1 > o.wm && o.hasPanes(kg, k, o.a.winStart(prev), prev) {
		return
	}
	o.timers.add(f-1, timer[K]{key: k, aux: f, kg: kg})
}

// noteEnd records that a window ending at e has panes (windows that
// sweep). Elements come in processing-time order, so e is almost always
// the last end known.
func (o *Operator[K, T, A, R, O]) noteEnd(e int64) {
	if n := len(o.ends); n > 0 && o.ends[n-1] == e {
		return
	}
	if i, found := slices.BinarySearch(o.ends, e); !found {
		o.ends = slices.Insert(o.ends, i, e)
	}
}

// sweepWindow closes the tumbling window ending at e for every key: one
// pass over each key group's panes emits and removes the window's (panes
// of a later window stay).
func (o *Operator[K, T, A, R, O]) sweepWindow(e int64) error {
	start := o.a.winStart(e)
	o.sweepStart, o.sweepWin, o.ts = start, span{start, e}.window(), resultTime(e)
	for kg := o.ctx.KeyGroups.Start; kg < o.ctx.KeyGroups.End && o.sweepErr == nil; kg++ {
		if o.panes.Len(kg) > 0 {
			o.sweeper.Sweep(kg, o.sweepFn)
		}
	}
	return o.sweepErr
}

// sweepPane is sweepWindow's visit of one pane: it emits and removes the
// closing window's. After an error it keeps the rest.
func (o *Operator[K, T, A, R, O]) sweepPane(k paneKey[K], _ statebackend.Void, p *pane[A]) bool {
	if k.Pane != o.sweepStart || o.sweepErr != nil {
		return false
	}
	if p.Count > 0 {
		o.sweepErr = o.outRow(Result[K, R]{Key: k.Key, Window: o.sweepWin, Value: o.agg.Result(p.Acc), Kind: Insert})
	}
	return true
}

// gatherEnds notes the windows of the restored panes (windows that
// sweep keep no timers in checkpoints: their panes say which windows are
// open). Only the first call after a restore does it.
func (o *Operator[K, T, A, R, O]) gatherEnds() {
	if o.sweeper == nil || o.endsKnown {
		return
	}
	o.endsKnown = true
	for kg := o.ctx.KeyGroups.Start; kg < o.ctx.KeyGroups.End; kg++ {
		if o.panes.Len(kg) > 0 {
			o.sweeper.Sweep(kg, func(k paneKey[K], _ statebackend.Void, _ *pane[A]) bool {
				f, _ := o.a.firstEnd(k.Pane)
				o.noteEnd(f)
				return false
			})
		}
	}
}

// hasPanes reports whether k has a pane starting in [from, to).
func (o *Operator[K, T, A, R, O]) hasPanes(kg uint16, k K, from, to int64) bool {
	from, to, ok := o.paneRange(kg, k, from, to)
	if !ok {
		return false
	}
	for ps := from; ps < to; ps += o.a.pane {
		if p, _ := o.pptr.Ptr(int(kg), paneKey[K]{k, ps}, statebackend.Void{}, false); p != nil {
			return true
		}
	}
	return false
}

// paneSpan bounds the pane starts of a key's live panes: each starts in
// [lo, hi]. Panes freed inside the bounds leave them valid, only loose;
// the span goes when the panes up to hi are freed.
type paneSpan struct{ lo, hi int64 }

// notePane records in the spans that k has a new pane at ps.
func (o *Operator[K, T, A, R, O]) notePane(kg uint16, k K, ps int64) {
	if !o.useSpans {
		return
	}
	sp, ok := o.spans.Get(int(kg), k, statebackend.Void{})
	if !ok {
		sp = paneSpan{lo: ps, hi: ps}
	}
	o.spans.Put(int(kg), k, statebackend.Void{}, paneSpan{lo: min(sp.lo, ps), hi: max(sp.hi, ps)})
}

// paneRange narrows the pane starts [from, to) to those where k may have
// a pane; false if k has none.
func (o *Operator[K, T, A, R, O]) paneRange(kg uint16, k K, from, to int64) (int64, int64, bool) {
	if !o.useSpans {
		return from, to, true
	}
	sp, ok := o.spans.Get(int(kg), k, statebackend.Void{})
	if !ok {
		return 0, 0, false
	}
	from, to = sp.narrow(from, to, o.a.pane)
	return from, to, true
}

// narrow narrows the pane starts [from, to) to the span.
func (sp paneSpan) narrow(from, to, pane int64) (int64, int64) {
	// lo is a pane start: a loop from it stays on the pane grid
	return max(from, sp.lo), min(to, sp.hi+pane)
}

// fireAligned fires the window of k ending at e: it merges the window's
// panes, emits the result, registers the next window if it shares panes,
// and frees (or schedules freeing) the panes no later window needs.
func (o *Operator[K, T, A, R, O]) fireAligned(kg uint16, k K, e int64) error {
	start := o.a.winStart(e)
	next, hasNext := o.a.nextEnd(e)
	nextStart := o.a.winStart(next)
	var acc A
	var n, count int64
	shared := false
	from, to := start, e
	var sp *paneSpan
	if o.useSpans {
		s, ok := o.spans.Get(int(kg), k, statebackend.Void{})
		if !ok {
			return nil // no panes: a duplicate timer
		}
		sp = &s
		from, to = s.narrow(from, to, o.a.pane)
	}
	for ps := from; ps < to; ps += o.a.pane {
		p, _ := o.pptr.Ptr(int(kg), paneKey[K]{k, ps}, statebackend.Void{}, false)
		if p == nil {
			continue
		}
		if p.Fired >= e {
			return nil // a duplicate timer: the window has fired
		}
		p.Fired = e
		acc = o.mergeInto(acc, n, p.Acc)
		n++
		count += p.Count
		shared = shared || (hasNext && ps >= nextStart)
	}
	if n == 0 {
		return nil
	}
	if count > 0 {
		if err := o.emitWindow(kg, k, span{start, e}, acc, count, true); err != nil {
			return err
		}
	}
	if hasNext && (shared || o.hasPanes(kg, k, e, next)) {
		o.timers.add(next-1, timer[K]{key: k, aux: next, kg: kg})
	}
	if o.late == 0 {
		o.cleanupSpan(kg, k, e, sp)
	} else {
		o.timers.add(addSat(e-1, o.late), timer[K]{key: k, aux: e, kg: kg, cleanup: true})
	}
	return nil
}

// mergeInto adds pane accumulator pa to the window accumulator acc, which
// holds n panes so far. A single-pane window (tumbling) reads the pane's
// accumulator itself; otherwise merging starts from Init, so that Merge
// never modifies an accumulator held in state.
func (o *Operator[K, T, A, R, O]) mergeInto(acc A, n int64, pa A) A {
	if o.a.kind == KindTumbling {
		return pa
	}
	if n == 0 {
		acc = o.agg.Init()
	}
	return o.agg.Merge(acc, pa)
}

// cleanupAligned frees the panes whose last window ends at e and the row
// emitted for that window.
func (o *Operator[K, T, A, R, O]) cleanupAligned(kg uint16, k K, e int64) {
	var sp *paneSpan
	if o.useSpans {
		if s, ok := o.spans.Get(int(kg), k, statebackend.Void{}); ok {
			sp = &s
		}
	}
	o.cleanupSpan(kg, k, e, sp)
}

// cleanupSpan is cleanupAligned given k's pane span (nil: k has no panes,
// or the spans are off).
func (o *Operator[K, T, A, R, O]) cleanupSpan(kg uint16, k K, e int64, sp *paneSpan) {
	from, to := o.a.retired(e)
	lo, hi := from, to
	switch {
	case sp != nil:
		lo, hi = sp.narrow(from, to, o.a.pane)
		if from < to && sp.hi < to {
			o.spans.Delete(int(kg), k, statebackend.Void{}) // no pane of k is left
		}
	case o.useSpans:
		hi = lo // k has no panes
	}
	for ps := lo; ps < hi; ps += o.a.pane {
		o.panes.Delete(int(kg), paneKey[K]{k, ps}, statebackend.Void{})
	}
	if o.emitted != nil {
		o.emitted.Delete(int(kg), paneKey[K]{k, e}, statebackend.Void{})
	}
}

// windowAcc merges the panes of k's window ending at e.
func (o *Operator[K, T, A, R, O]) windowAcc(kg uint16, k K, e int64) (acc A, count int64) {
	var n int64
	for ps := o.a.winStart(e); ps < e; ps += o.a.pane {
		if p, ok := o.panes.Get(int(kg), paneKey[K]{k, ps}, statebackend.Void{}); ok {
			acc = o.mergeInto(acc, n, p.Acc)
			n++
			count += p.Count
		}
	}
	if n == 0 {
		acc = o.agg.Init()
	}
	return acc, count
}

// emitWindow emits the result of window sp of k. Without tracking it is
// one Insert row. With tracking (early or late updates possible) it is an
// Insert the first time and an UpdateBefore/UpdateAfter pair later, and
// nothing when the window's count has not changed since the last row;
// final says the window is closing (its row is forgotten unless lateness
// keeps it).
func (o *Operator[K, T, A, R, O]) emitWindow(kg uint16, k K, sp span, acc A, count int64, final bool) error {
	r := o.agg.Result(acc)
	if !o.track {
		return o.emitRow(Insert, k, sp.window(), r, resultTime(sp.end))
	}
	wk := paneKey[K]{k, sp.end}
	prev, ok := o.emitted.Get(int(kg), wk, statebackend.Void{})
	if ok && prev.Count == count {
		return nil
	}
	if err := o.changelog(k, sp.window(), prev.R, ok, r, resultTime(sp.end)); err != nil {
		return err
	}
	if final && o.late == 0 {
		return nil // cleanupAligned deletes the row right after
	}
	o.emitted.Put(int(kg), wk, statebackend.Void{}, emittedRow[R]{R: r, Count: count})
	return nil
}

// changelog emits Insert r, or UpdateBefore prev and UpdateAfter r.
func (o *Operator[K, T, A, R, O]) changelog(k K, w Window, prev R, hasPrev bool, r R, ts int64) error {
	if !hasPrev {
		return o.emitRow(Insert, k, w, r, ts)
	}
	if err := o.emitRow(UpdateBefore, k, w, prev, ts); err != nil {
		return err
	}
	return o.emitRow(UpdateAfter, k, w, r, ts)
}

// addLate adds an element at or before the watermark: too late for all of
// its windows, it goes to the side output; otherwise windows that fired
// already (within their lateness) emit an update at once and open ones
// take it as usual.
func (o *Operator[K, T, A, R, O]) addLate(kg uint16, k K, v T, ts, ps int64) error {
	first, ok := o.a.firstEnd(ps)
	if !ok {
		return nil
	}
	last := o.a.lastEnd(ps)
	if addSat(last-1, o.late) <= o.wm {
		o.lateElement(v, ts)
		return nil
	}
	p, found := o.pptr.Ptr(int(kg), paneKey[K]{k, ps}, statebackend.Void{}, true)
	if !found {
		p.Acc, p.Fired = o.agg.Init(), math.MinInt64
		o.notePane(kg, k, ps)
	}
	o.adder.Add(&p.Acc, v)
	p.Count++
	for e := first; e <= last; e += o.a.slide {
		if e-1 > o.wm { // the first window still open
			if !found {
				o.schedule(kg, k, e)
			}
			return o.afterAdd(kg, k, ps, ts)
		}
		if addSat(e-1, o.late) <= o.wm {
			continue // this window's lateness has passed
		}
		if err := o.lateUpdate(kg, k, e); err != nil {
			return err
		}
	}
	return nil
}

// lateUpdate emits the new result of a fired window of k ending at e.
func (o *Operator[K, T, A, R, O]) lateUpdate(kg uint16, k K, e int64) error {
	if _, ok := o.emitted.Get(int(kg), paneKey[K]{k, e}, statebackend.Void{}); !ok {
		// The window never fired for k: free it after its lateness.
		o.timers.add(addSat(e-1, o.late), timer[K]{key: k, aux: e, kg: kg, cleanup: true})
	}
	acc, count := o.windowAcc(kg, k, e)
	return o.emitWindow(kg, k, span{o.a.winStart(e), e}, acc, count, false)
}

// afterAdd applies the trigger and the early emit policy to the open
// windows of pane ps after an element at ts was added.
func (o *Operator[K, T, A, R, O]) afterAdd(kg uint16, k K, ps, ts int64) error {
	if o.opt.Emit.early == emitEvery {
		p, _ := o.pptr.Ptr(int(kg), paneKey[K]{k, ps}, statebackend.Void{}, false)
		if !p.Dirty {
			p.Dirty = true
			o.markDirty(kg, k, ps)
		}
	}
	if o.opt.Trigger == nil && o.opt.Emit.early != emitOnUpdate {
		return nil
	}
	first, _ := o.a.firstEnd(ps)
	for e := first; e <= o.a.lastEnd(ps); e += o.a.slide {
		if e-1 <= o.wm {
			continue
		}
		if err := o.earlyFire(kg, k, ps, e, ts); err != nil {
			return err
		}
	}
	return nil
}

// earlyFire asks the trigger about the window of k ending at e and emits
// its result if the trigger or the OnUpdate policy says so.
func (o *Operator[K, T, A, R, O]) earlyFire(kg uint16, k K, ps, e, ts int64) error {
	sp := span{o.a.winStart(e), e}
	acc, count := o.windowAcc(kg, k, e)
	act := Continue
	if o.opt.Trigger != nil {
		act = o.opt.Trigger.OnElement(sp.window(), timeapi.Time(ts), count)
	}
	if o.purge && (act == Purge || act == FireAndPurge) {
		return o.purgePane(kg, k, ps, sp, acc, act == FireAndPurge, resultTime(e))
	}
	if act == Fire || act == FireAndPurge || o.opt.Emit.early == emitOnUpdate {
		return o.emitWindow(kg, k, sp, acc, count, false)
	}
	return nil
}

// purgePane empties the single pane of a window (tumbling, global), after
// emitting its result as an Insert row of its own if fire is set.
func (o *Operator[K, T, A, R, O]) purgePane(kg uint16, k K, ps int64, sp span, acc A, fire bool, ts int64) error {
	if fire {
		w := sp.window()
		if o.a.kind == KindGlobal {
			w = Window{}
		}
		if err := o.emitRow(Insert, k, w, o.agg.Result(acc), ts); err != nil {
			return err
		}
	}
	if p, _ := o.pptr.Ptr(int(kg), paneKey[K]{k, ps}, statebackend.Void{}, false); p != nil {
		p.Acc, p.Count = o.agg.Init(), 0
	}
	o.emitted.Delete(int(kg), paneKey[K]{k, sp.end}, statebackend.Void{})
	return nil
}

// paneTick emits the open windows of a pane that changed since the last
// periodic emission.
func (o *Operator[K, T, A, R, O]) paneTick(d dirtyRef[K]) error {
	p, _ := o.pptr.Ptr(int(d.kg), paneKey[K]{d.key, d.at}, statebackend.Void{}, false)
	if p == nil || !p.Dirty {
		return nil
	}
	p.Dirty = false
	if o.a.kind == KindGlobal {
		return o.emitGlobal(d.kg, d.key, false)
	}
	first, _ := o.a.firstEnd(d.at)
	for e := first; e <= o.a.lastEnd(d.at); e += o.a.slide {
		if e-1 <= o.wm {
			continue
		}
		acc, count := o.windowAcc(d.kg, d.key, e)
		if err := o.emitWindow(d.kg, d.key, span{o.a.winStart(e), e}, acc, count, false); err != nil {
			return err
		}
	}
	return nil
}

// globalEnd is the end of the global window: its timer fires at the end
// of a bounded input only.
const globalEnd = math.MaxInt64

// globalBatch adds a batch to the global windows of its keys.
func (o *Operator[K, T, A, R, O]) globalBatch(in *operators.Batch[T]) error {
	for i, v := range in.Values {
		k := o.key(v)
		kg := o.keyGroup(in, i, k)
		p, found := o.pptr.Ptr(int(kg), paneKey[K]{k, 0}, statebackend.Void{}, true)
		if !found {
			p.Acc, p.MaxTs = o.agg.Init(), math.MinInt64
			o.timers.add(globalEnd-1, timer[K]{key: k, aux: globalEnd, kg: kg})
		}
		o.adder.Add(&p.Acc, v)
		p.Count++
		p.MaxTs = max(p.MaxTs, in.Times[i])
		if err := o.globalEarly(kg, k, p.Acc, p.Count, in.Times[i]); err != nil {
			return err
		}
	}
	return nil
}

// globalEarly applies the trigger and the emit policy to k's global
// window after an element at ts.
func (o *Operator[K, T, A, R, O]) globalEarly(kg uint16, k K, acc A, count, ts int64) error {
	act := Continue
	if o.opt.Trigger != nil {
		act = o.opt.Trigger.OnElement(Window{}, time.UnixMilli(ts), count)
	}
	switch {
	case act == Purge || act == FireAndPurge:
		return o.purgePane(kg, k, 0, span{0, globalEnd}, acc, act == FireAndPurge, ts)
	case act == Fire || o.opt.Emit.early == emitOnUpdate:
		return o.emitGlobal(kg, k, false)
	case o.opt.Emit.early == emitEvery:
		p, _ := o.pptr.Ptr(int(kg), paneKey[K]{k, 0}, statebackend.Void{}, false)
		if !p.Dirty {
			p.Dirty = true
			o.markDirty(kg, k, 0)
		}
	}
	return nil
}

// emitGlobal emits the current result of k's global window.
func (o *Operator[K, T, A, R, O]) emitGlobal(kg uint16, k K, final bool) error {
	p, ok := o.panes.Get(int(kg), paneKey[K]{k, 0}, statebackend.Void{})
	if !ok || p.Count == 0 {
		return nil
	}
	r := o.agg.Result(p.Acc)
	if !o.track {
		return o.emitRow(Insert, k, Window{}, r, p.MaxTs)
	}
	wk := paneKey[K]{k, globalEnd}
	prev, had := o.emitted.Get(int(kg), wk, statebackend.Void{})
	if had && prev.Count == p.Count {
		return nil
	}
	if err := o.changelog(k, Window{}, prev.R, had, r, p.MaxTs); err != nil {
		return err
	}
	if !final {
		o.emitted.Put(int(kg), wk, statebackend.Void{}, emittedRow[R]{R: r, Count: p.Count})
	}
	return nil
}

// fireGlobal fires k's global window at the end of the input and frees it.
func (o *Operator[K, T, A, R, O]) fireGlobal(kg uint16, k K) error {
	if err := o.emitGlobal(kg, k, true); err != nil {
		return err
	}
	o.panes.Delete(int(kg), paneKey[K]{k, 0}, statebackend.Void{})
	if o.emitted != nil {
		o.emitted.Delete(int(kg), paneKey[K]{k, globalEnd}, statebackend.Void{})
	}
	return nil
}
