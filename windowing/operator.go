package windowing

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/weirstream/weir/internal/keycodec"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
)

// ErrNoTimestamp is returned for a record without an event time: windows
// need one (set a watermark strategy on the stream).
var ErrNoTimestamp = errors.New("weir/windowing: record without event time")

// Options configure an Operator.
type Options[K comparable, T, A, R, O any] struct {
	// Name prefixes the operator's state tables ("window" if empty).
	Name     string
	Assigner Assigner
	Key      func(T) K
	Agg      Aggregator[T, A, R]
	// Lateness is how long after a window's end late elements still update
	// it (as UpdateBefore/UpdateAfter rows); its state lives that long.
	Lateness time.Duration
	// Trigger, if set, fires windows early (time windows) or at all
	// (global windows).
	Trigger Trigger
	Emit    EmitPolicy
	// Out turns a result row into outputs, emitted with the row's event
	// time (window end - 1ms; global windows: the latest element's time).
	// If nil, O must be Result[K, R]: the rows are emitted as they are,
	// with no call per row (a window's end may send many).
	Out func(r Result[K, R], emit func(O)) error
	// Late, if set, turns an element too late for every window it belongs
	// to into outputs (a side output), emitted with the element's event
	// time; if nil, late elements are dropped and counted.
	Late func(v T, emit func(O))
}

// Operator is the window operator: a pure operators.OneInputOperator that
// keeps per-key window state in the keyed state backend, fires windows when
// the watermark passes their end, and emits results through Options.Out
// (or as they are, without Out).
// Run it with operators.Drive as a keyed operator.
//
// State: aligned windows keep one accumulator per (key, pane) in a flat
// table, so an element costs one lookup; a window fires by merging its
// panes. Sessions keep a table of sessions per key (namespace: start).
// Timers are buckets of (key group, key) by time: aligned windows register
// a key when its first pane of a window appears, and a firing window
// registers its successor if they share panes, so a key has at most one
// timer per run of windows; a duplicate is detected when it fires (the
// panes remember the last window fired) and ignored.
//
// Checkpoints: the state tables are checkpointed with the state backend;
// the timers, the dirty list of EmitPolicy Every and the watermark by the
// operator itself (see checkpoint.go). operators.Drive hides these
// capabilities from the runtime: the stream package wraps its driver to
// expose them.
type Operator[K comparable, T, A, R, O any] struct {
	operators.Base
	opt    Options[K, T, A, R, O]
	a      Assigner
	agg    Aggregator[T, A, R]
	adder  Adder[T, A, R] // agg's AddTo or Add
	key    func(T) K
	hash   func(K) uint64
	ctx    *operators.Context
	out    *operators.Emitter[O]
	emitFn func(O)
	rows   *operators.Emitter[Result[K, R]] // out, when Out is nil
	ts     int64                            // event time of what emitFn emits
	wm     int64
	late   int64 // allowed lateness, ms
	track  bool  // remember emitted rows (early or late updates possible)
	gaps   bool  // sliding windows with gaps between them
	purge  bool  // purging triggers apply (single-pane windows)
	timers timerQueue[K]
	tickAt int64 // due time of the next periodic emission (0: none)
	// Processing-time windows (Assigner.ByProcessingTime): proc is set,
	// now is the processing time of the batch being added, and wm is the
	// processing time up to which windows fired (the callback's time -
	// 1ms), so the event-time logic applies unchanged. fireAt is the
	// pending callback for the earliest timer (0: none).
	proc   bool
	now    int64
	fireAt int64
	// Processing-time tumbling windows without early or late rows close
	// for every key at once: they keep no timer per key but the ends of
	// the windows that have panes (ends, ascending), and a closing window
	// sweeps the pane table key group by key group (sweeper non-nil; the
	// table must have statebackend.Sweeper). sweep* are the closing
	// window's, for sweepPane.
	sweeper    statebackend.Sweeper[paneKey[K], statebackend.Void, pane[A]]
	ends       []int64
	sweepStart int64
	sweepWin   Window
	sweepErr   error
	sweepFn    func(k paneKey[K], _ statebackend.Void, p *pane[A]) bool
	endsKnown  bool // the ends of restored panes were gathered

	panes   statebackend.Table[paneKey[K], statebackend.Void, pane[A]]
	pptr    statebackend.Pointers[paneKey[K], statebackend.Void, pane[A]]
	sync    func() // writes back buffered state (backends without Pointers); nil otherwise
	emitted statebackend.Table[paneKey[K], statebackend.Void, emittedRow[R]]
	// spans bounds the pane starts of each key's live panes (sliding and
	// cumulate windows), so that firing a window looks up only the panes
	// that may exist. It is not state: a restored operator, whose panes
	// the spans do not know, stops using it (useSpans).
	spans    statebackend.Table[K, statebackend.Void, paneSpan]
	useSpans bool
	sess     statebackend.Table[K, int64, session[A, R]]
	sptr     statebackend.Pointers[K, int64, session[A, R]]
	// latest hints the start of each key's latest session so in-order
	// elements skip iterating the key's sessions. It is not state: a hint
	// is always checked against the sessions table, and after a restore
	// the slow path refills it.
	latest   statebackend.Table[K, statebackend.Void, int64]
	maxOther int64 // during a collect: the latest start of the sessions not overlapping
	scratch  []sessRef[A, R]
	cur      span
	collect  func(start int64, s session[A, R]) bool
	dirty    []dirtyRef[K]
	spare    []dirtyRef[K]
	dropped  int64
	codec    *keycodec.Codec[K] // keys in checkpoints
	wmSet    bool               // a restored watermark was applied
}

// paneKey addresses a pane (aligned windows: its start; global: 0) or, in
// the emitted table, a window (by its end).
type paneKey[K comparable] struct {
	Key  K
	Pane int64
}

// pane is the state of one (key, pane). Its fields are exported so that
// state backends can encode it with encoding/gob (as session's).
type pane[A any] struct {
	Acc   A
	Count int64 // elements since the last purge
	Fired int64 // end of the last window fired with this pane
	MaxTs int64 // latest element time (global windows' result time)
	Dirty bool  // changed since the last periodic emission (Every)
}

// emittedRow is the last row emitted for a window and the window's
// element count then (a window whose count has not changed is not emitted
// again).
type emittedRow[R any] struct {
	R     R
	Count int64
}

// dirtyRef names a pane or session changed since the last periodic
// emission.
type dirtyRef[K comparable] struct {
	key K
	at  int64 // pane start or session start
	kg  uint16
}

// NewOperator returns a window operator; Open validates the options.
func NewOperator[K comparable, T, A, R, O any](opt Options[K, T, A, R, O]) *Operator[K, T, A, R, O] {
	return &Operator[K, T, A, R, O]{opt: opt}
}

// validate checks the options.
func (o *Operator[K, T, A, R, O]) validate(ctx *operators.Context) error {
	opt := &o.opt
	switch {
	case opt.Key == nil || opt.Agg == nil:
		return errors.New("weir/windowing: Key and Agg are required")
	case opt.Lateness < 0:
		return fmt.Errorf("weir/windowing: negative allowed lateness %v", opt.Lateness)
	case ctx.State == nil:
		return errors.New("weir/windowing: the window operator needs keyed state")
	case opt.Lateness > 0 && opt.Assigner.IsProcessingTime():
		return fmt.Errorf("weir/windowing: allowed lateness %v on processing-time windows (their elements are never late)", opt.Lateness)
	}
	if err := opt.Assigner.Validate(); err != nil {
		return err
	}
	return opt.Emit.Validate()
}

// Open implements operators.OneInputOperator.
func (o *Operator[K, T, A, R, O]) Open(ctx *operators.Context, out *operators.Emitter[O]) error {
	if err := o.validate(ctx); err != nil {
		return err
	}
	opt := &o.opt
	o.ctx, o.out, o.a, o.agg, o.key = ctx, out, opt.Assigner, opt.Agg, opt.Key
	o.adder = NewAdder(opt.Agg)
	o.hash, o.wm, o.timers = operators.HashFunc[K](), timeapi.MinWatermark, newTimerQueue[K]()
	o.codec = keycodec.New[K]()
	o.late = int64(opt.Lateness / time.Millisecond)
	o.track = o.late > 0 || opt.Emit.IsEarly() || opt.Trigger != nil
	o.gaps = o.a.kind == KindSliding && o.a.slide > o.a.size
	o.purge = o.a.kind == KindTumbling || o.a.kind == KindSession || o.a.kind == KindGlobal
	o.proc = o.a.proc
	o.emitFn = func(v O) { o.out.Emit(v, o.ts) }
	if opt.Out == nil {
		rows, ok := any(out).(*operators.Emitter[Result[K, R]])
		if !ok {
			return fmt.Errorf("weir/windowing: Out is required for outputs of type %v (without it the operator emits its Result rows)", reflect.TypeFor[O]())
		}
		o.rows = rows
	}
	return o.openTables()
}

func (o *Operator[K, T, A, R, O]) openTables() error {
	name := o.opt.Name
	if name == "" {
		name = "window"
	}
	var err error
	if o.a.kind == KindSession {
		o.sess, err = statebackend.Open[K, int64, session[A, R]](o.ctx.State, name+"/sessions")
		if err != nil {
			return err
		}
		o.sptr, _ = o.sess.(statebackend.Pointers[K, int64, session[A, R]])
		o.latest = statebackend.NewHeapTable[K, statebackend.Void, int64](o.ctx.State.Info())
		o.collect = o.collectOverlapping
		return nil
	}
	o.panes, err = statebackend.Open[paneKey[K], statebackend.Void, pane[A]](o.ctx.State, name+"/panes")
	if err != nil {
		return err
	}
	o.pptr, _ = o.panes.(statebackend.Pointers[paneKey[K], statebackend.Void, pane[A]])
	if o.pptr == nil { // a byte backend: buffer one entry, written back after every call
		bt := statebackend.Buffered(o.panes)
		o.panes, o.pptr, o.sync = bt, bt, bt.Flush
	}
	if o.track {
		o.emitted, err = statebackend.Open[paneKey[K], statebackend.Void, emittedRow[R]](o.ctx.State, name+"/emitted")
	}
	if o.proc && o.a.kind == KindTumbling && !o.track {
		o.sweeper, _ = o.panes.(statebackend.Sweeper[paneKey[K], statebackend.Void, pane[A]])
		o.sweepFn = o.sweepPane
	}
	if o.a.kind != KindTumbling && o.a.size > o.a.pane {
		o.spans = statebackend.NewHeapTable[K, statebackend.Void, paneSpan](o.ctx.State.Info())
		o.useSpans = true
	}
	return err
}

// keyGroup returns the key group of record i of in.
func (o *Operator[K, T, A, R, O]) keyGroup(in *operators.Batch[T], i int, k K) uint16 {
	if in.KeyGroups != nil {
		return in.KeyGroups[i]
	}
	return uint16(operators.KeyGroupOf(o.hash(k), o.ctx.MaxParallelism))
}

// ProcessBatch implements operators.OneInputOperator.
func (o *Operator[K, T, A, R, O]) ProcessBatch(in *operators.Batch[T]) error {
	defer o.syncState()
	if o.proc {
		// A clock that steps back must not reopen a window that fired.
		o.now = max(timeapi.NowMillis(o.ctx.Clock), o.wm+1)
		defer o.armFire()
	}
	var err error
	switch o.a.kind {
	case KindSession:
		err = o.sessionBatch(in)
	case KindGlobal:
		err = o.globalBatch(in)
	default:
		err = o.alignedBatch(in)
	}
	if err != nil {
		return err
	}
	return o.out.Err()
}

// ProcessWatermark fires the windows whose end the watermark passed, in
// time order, and frees the state of windows past their lateness.
// Processing-time windows ignore watermarks but the end of input's
// (timeapi.MaxWatermark), which fires them all.
func (o *Operator[K, T, A, R, O]) ProcessWatermark(wm int64) error {
	defer o.syncState()
	if wm <= o.wm || (o.proc && wm < timeapi.MaxWatermark) {
		return nil
	}
	return o.fireUpTo(wm)
}

// fireUpTo moves the operator's time (watermark, or processing time -
// 1ms) to t and fires the timers due, in time order.
func (o *Operator[K, T, A, R, O]) fireUpTo(t int64) error {
	o.wm = t
	for len(o.ends) > 0 && o.ends[0]-1 <= t {
		e := o.ends[0]
		o.ends = o.ends[1:]
		if err := o.sweepWindow(e); err != nil {
			return err
		}
	}
	for {
		t, b, ok := o.timers.pop(o.wm)
		if !ok {
			return o.out.Err()
		}
		for _, run := range o.timers.byKeyGroup(b) {
			for _, tm := range run {
				if err := o.onTimer(t, tm); err != nil {
					return err
				}
			}
		}
		o.timers.recycle(b)
	}
}

func (o *Operator[K, T, A, R, O]) onTimer(t int64, tm timer[K]) error {
	switch {
	case o.a.kind == KindSession:
		return o.sessionTimer(t, tm)
	case tm.cleanup:
		o.cleanupAligned(tm.kg, tm.key, tm.aux)
		return nil
	case o.a.kind == KindGlobal:
		return o.fireGlobal(tm.kg, tm.key)
	}
	return o.fireAligned(tm.kg, tm.key, tm.aux)
}

// OnProcessingTime fires processing-time windows that ended by now and
// emits the windows changed since the last periodic emission (EmitPolicy
// Every). The runtime keeps one pending callback per operator, the
// earliest asked for, and drops it when it calls: the operator asks again
// for whatever is still pending.
func (o *Operator[K, T, A, R, O]) OnProcessingTime(now int64) error {
	defer o.syncState()
	if o.proc {
		o.fireAt = 0
		if now-1 > o.wm {
			if err := o.fireUpTo(now - 1); err != nil {
				return err
			}
		}
		o.armFire()
	}
	if o.tickAt == 0 {
		return nil
	}
	if now < o.tickAt {
		if o.ctx.Timers != nil {
			o.ctx.Timers.CallbackAt(o.tickAt)
		}
		return nil
	}
	o.tickAt = 0
	refs := o.dirty
	o.dirty = o.spare[:0]
	for _, d := range refs {
		var err error
		if o.a.kind == KindSession {
			err = o.sessionTick(d)
		} else {
			err = o.paneTick(d)
		}
		if err != nil {
			return err
		}
	}
	clear(refs)
	o.spare = refs[:0]
	if len(o.dirty) > 0 {
		o.scheduleTick(now)
	}
	return o.out.Err()
}

// markDirty records a changed pane or session for the next periodic
// emission.
func (o *Operator[K, T, A, R, O]) markDirty(kg uint16, k K, at int64) {
	o.dirty = append(o.dirty, dirtyRef[K]{key: k, at: at, kg: kg})
	if o.tickAt == 0 {
		o.scheduleTick(timeapi.NowMillis(o.ctx.Clock))
	}
}

// armFire asks for a processing-time callback when the earliest timer of
// processing-time windows is due: a timer at t (a window's end - 1ms)
// fires once processing time reaches t+1, the window's end.
func (o *Operator[K, T, A, R, O]) armFire() {
	t, _, ok := o.timers.Min()
	if len(o.ends) > 0 && (!ok || o.ends[0]-1 < t) {
		t, ok = o.ends[0]-1, true
	}
	if !ok || t >= timeapi.MaxWatermark {
		return
	}
	if at := t + 1; o.fireAt == 0 || at < o.fireAt {
		o.fireAt = at
		if o.ctx.Timers != nil {
			o.ctx.Timers.CallbackAt(at)
		}
	}
}

func (o *Operator[K, T, A, R, O]) scheduleTick(now int64) {
	o.tickAt = now + o.opt.Emit.interval
	if o.ctx.Timers != nil {
		o.ctx.Timers.CallbackAt(o.tickAt)
	}
}

// lateElement sends v to the side output, or drops and counts it.
func (o *Operator[K, T, A, R, O]) lateElement(v T, ts int64) {
	if o.opt.Late == nil {
		o.dropped++
		return
	}
	o.ts = ts
	o.opt.Late(v, o.emitFn)
}

// emitRow emits one result row with event time ts.
func (o *Operator[K, T, A, R, O]) emitRow(kind RowKind, k K, w Window, r R, ts int64) error {
	o.ts = ts
	return o.outRow(Result[K, R]{Key: k, Window: w, Value: r, Kind: kind})
}

// outRow passes a result row to Out, or emits it as it is (Out nil): a
// downstream error then surfaces from the emitter (o.out.Err), as Out's
// emits do.
func (o *Operator[K, T, A, R, O]) outRow(row Result[K, R]) error {
	if o.rows != nil {
		o.rows.Emit(row, o.ts)
		return nil
	}
	return o.opt.Out(row, o.emitFn)
}

// Stats describes an operator's state.
type Stats struct {
	Entries     int   // state entries: panes, sessions, emitted rows
	Timers      int   // pending timers (windows that sweep: one per window end)
	DroppedLate int64 // late elements dropped (no side output)
	Hints       int   // pane spans kept in memory (not state)
}

// Stats returns the operator's state size; tests use it to check that
// state is freed.
func (o *Operator[K, T, A, R, O]) Stats() Stats {
	s := Stats{Timers: o.timers.len() + len(o.ends), DroppedLate: o.dropped}
	for kg := o.ctx.KeyGroups.Start; kg < o.ctx.KeyGroups.End; kg++ {
		if o.sess != nil {
			s.Entries += o.sess.Len(kg)
		}
		if o.panes != nil {
			s.Entries += o.panes.Len(kg)
		}
		if o.emitted != nil {
			s.Entries += o.emitted.Len(kg)
		}
		if o.spans != nil {
			s.Hints += o.spans.Len(kg)
		}
	}
	return s
}

// resultTime is the event time of a window's results: its end - 1ms.
func resultTime(end int64) int64 {
	if end == math.MinInt64 {
		return end
	}
	return end - 1
}

// syncState writes back state buffered for a backend without Pointers.
func (o *Operator[K, T, A, R, O]) syncState() {
	if o.sync != nil {
		o.sync()
	}
}
