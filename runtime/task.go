package runtime

import (
	"errors"
	"io"
	"math"
	"sync/atomic"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
)

// maxEventsPerStep bounds the input events a task handles per step, so the
// tasks of a worker take turns.
const maxEventsPerStep = 8

// task is one subtask of a chain: a source reader or input queues, the
// chained operators, and the queues of the edges leaving the chain.
type task struct {
	name    string
	worker  *worker
	head    operators.Output     // first step of the chain
	ops     []operators.Operator // chained operators, downstream first
	ctxs    []*operators.Context
	timers  []*timerReq
	states  []statebackend.Backend
	source  operators.SourceReader
	inputs  []*channel
	outs    []*outChannels
	tracker *timeapi.Tracker
	build   func() error // opens the chain on the worker's goroutine

	wm        int64       // last watermark handed to the chain
	idle      bool        // last idleness status sent downstream
	ended     bool        // end of input handed to the chain
	dirty     bool        // records went into the chain since the last flush
	next      int         // round-robin position over inputs
	starving  bool        // a source that had nothing to read last time
	batchSize int         // records per batch: a smaller source read is partial
	align     *alignGroup // sources under watermark alignment; nil: none
	alignIdx  int
	paused    bool // waits for the source's slowest subtask (align)
	streak    int  // events pick read in a row from inputs[next] while another waited

	isSource   bool          // set at plan time (source is set later, on the worker)
	members    []member      // the chain's operators (and source) for snapshots
	ckpt       *checkpointer // nil without checkpointing
	barrierReq atomic.Int64  // sources: highest barrier requested
	injected   int64         // sources: last barrier injected
	aligning   int64         // barrier being aligned (0: none)
	doneID     atomic.Int64  // latest completed checkpoint
	notified   int64         // latest completion passed to listeners
	finalDone  atomic.Bool   // the final checkpoint is complete
}

// timerReq is an operator's pending processing-time callback.
type timerReq struct {
	at int64
	op operators.ProcessingTimeHandler
}

// noTimer marks a timerReq with nothing pending.
const noTimer = math.MaxInt64

func (r *timerReq) CallbackAt(at int64) {
	if at < r.at {
		r.at = at
	}
}

// done reports whether the task has handed on its end of input and all of
// its output has left.
func (t *task) done() bool {
	if !t.ended || (t.ckpt != nil && (!t.finalDone.Load() || t.notified < t.doneID.Load())) {
		return false // the final checkpoint must be complete and its commit done here
	}
	for _, o := range t.outs {
		for _, c := range o.chans {
			if len(c.pending) > 0 {
				return false
			}
		}
	}
	return true
}

// blocked drains pending output and reports whether some is still pending.
func (t *task) blocked() (moved, blocked bool) {
	for _, o := range t.outs {
		m, b := o.drain()
		moved = moved || m
		blocked = blocked || b
	}
	return moved, blocked
}

// step does a bounded amount of work and reports whether it made progress.
func (t *task) step(now int64) (bool, error) {
	notified, err := t.notifyComplete()
	if err != nil {
		return true, err
	}
	moved, blocked := t.blocked()
	moved = moved || notified
	if blocked || t.ended {
		return moved, nil
	}
	if r := t.barrierReq.Load(); t.source != nil && r > t.injected {
		// every channel must see every barrier, in order
		for t.injected < r {
			t.injected++
			if err := t.checkpoint(t.injected); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	var progress bool
	if t.source != nil {
		progress, err = t.stepSource(now)
	} else {
		progress, err = t.stepInputs()
	}
	return progress || moved, err
}

func (t *task) stepSource(now int64) (bool, error) {
	if t.align != nil {
		if t.paused = t.align.ahead(t.alignIdx, t.wm); t.paused {
			return false, nil // wait for the slowest subtask of this source
		}
	}
	n, err := t.source.Poll(t.head, now)
	if n > 0 {
		t.dirty = true
	}
	t.starving = n == 0
	if errors.Is(err, io.EOF) {
		return true, t.endInput()
	}
	if err != nil {
		return false, err
	}
	if wm := t.source.Watermark(now); wm > t.wm {
		if err := t.watermark(wm); err != nil {
			return true, err
		}
	}
	if idle := t.source.Idle(); idle != t.idle {
		if err := t.setIdle(idle); err != nil {
			return true, err
		}
	}
	if n > 0 && n < t.batchSize {
		// A partial batch: the source has caught up with its input, so
		// nothing fills the chain's partial batches soon. Move them on now
		// rather than when the worker runs dry (adaptive batching: full
		// batches under load, low latency when caught up).
		if err := t.flush(); err != nil {
			return true, err
		}
	}
	return n > 0, nil
}

func (t *task) stepInputs() (bool, error) {
	if len(t.inputs) == 0 || t.tracker.Finished() {
		return true, t.endInput()
	}
	handled := 0
	for handled < maxEventsPerStep {
		c := t.pick()
		if c == nil {
			break
		}
		ev, _ := c.data.TryPop()
		handled++
		if c.producer != t.worker {
			c.producer.notify() // room in a queue it may be waiting for
		}
		if err := t.handle(c, ev); err != nil {
			return true, err
		}
		if t.ended {
			break
		}
		if _, blocked := t.blocked(); blocked {
			break
		}
	}
	return handled > 0, nil
}

// pick returns the input to read next, nil if none has events: of the
// inputs with events and not held by a barrier, the one whose next event
// stands earliest in event time (event.at), the last one read on a tie.
// When one input runs ahead of another (its producer is on this worker,
// or another source split leads), reading in event-time order keeps
// records that belong together in order across inputs: an auction before
// the bids that follow it, rather than the bids first, buffered as early.
// An input is not kept waiting longer than maxStreak events of another
// (say one that carries no event time, always earliest): then the next
// input with events in turn is read once.
func (t *task) pick() *channel {
	if len(t.inputs) == 1 {
		if c := t.inputs[0]; !c.blocked && !c.data.Empty() {
			return c
		}
		return nil
	}
	best, alt, bestAt := -1, -1, int64(0)
	for k := range t.inputs {
		i := (t.next + k) % len(t.inputs)
		c := t.inputs[i]
		if c.blocked {
			continue
		}
		ev, ok := c.data.Peek()
		if !ok {
			continue
		}
		if alt < 0 && i != t.next {
			alt = i
		}
		if best < 0 || ev.at < bestAt {
			best, bestAt = i, ev.at
		}
	}
	if best < 0 {
		return nil
	}
	if alt >= 0 && best == t.next && t.streak >= maxStreak {
		best = alt
	}
	if best != t.next || alt < 0 {
		t.streak = 0
	}
	if alt >= 0 {
		t.streak++
	}
	t.next = best
	return t.inputs[best]
}

// maxStreak is how many events in a row pick reads from one input while
// another has events waiting.
const maxStreak = 64

func (t *task) handle(c *channel, ev event) error {
	switch ev.kind {
	case evBatch:
		t.dirty = true
		err := t.head.Push(ev.batch)
		c.recycle(ev.batch)
		return err
	case evWatermark:
		if wm, adv := t.tracker.Update(c.input, ev.wm); adv {
			return t.watermark(wm)
		}
	case evIdle, evActive:
		if wm, adv := t.tracker.SetIdle(c.input, ev.kind == evIdle); adv {
			if err := t.watermark(wm); err != nil {
				return err
			}
		}
		if idle := t.tracker.AllIdle(); idle != t.idle {
			return t.setIdle(idle)
		}
	case evBarrier:
		if t.aligning == 0 {
			t.aligning = ev.wm
		}
		c.blocked = true
		return t.tryAlign()
	case evEnd:
		c.finished = true
		if err := t.tryAlign(); err != nil {
			return err
		}
		if wm, adv := t.tracker.Finish(c.input); adv && wm != timeapi.MaxWatermark {
			if err := t.watermark(wm); err != nil {
				return err
			}
		}
		if t.tracker.Finished() {
			return t.endInput()
		}
	}
	return nil
}

func (t *task) watermark(wm int64) error {
	if wm <= t.wm {
		return nil
	}
	t.wm = wm
	t.dirty = false // the chain flushes before a watermark moves on
	return t.head.Watermark(wm)
}

func (t *task) setIdle(idle bool) error {
	if err := t.flush(); err != nil {
		return err
	}
	t.idle = idle
	if t.align != nil {
		if idle {
			t.align.set(t.alignIdx, math.MaxInt64) // an idle split holds no one back
		} else {
			t.align.set(t.alignIdx, t.wm)
		}
	}
	for _, o := range t.outs {
		o.status(idle)
	}
	return nil
}

func (t *task) endInput() error {
	if t.ended {
		return nil
	}
	if err := t.watermark(math.MaxInt64); err != nil {
		return err
	}
	if t.align != nil {
		t.align.set(t.alignIdx, math.MaxInt64)
	}
	t.ended = true
	if err := t.head.EndInput(); err != nil {
		return err
	}
	if t.ckpt != nil {
		return t.finalSnapshot()
	}
	return nil
}

// flush moves partial batches on when records went in since the last flush.
func (t *task) flush() error {
	if !t.dirty || t.ended {
		return nil
	}
	t.dirty = false
	return t.head.Flush()
}

// nextTimer is the earliest requested processing-time callback (noTimer:
// none).
func (t *task) nextTimer() int64 {
	at := int64(noTimer)
	for _, r := range t.timers {
		at = min(at, r.at)
	}
	return at
}

// fireTimers calls the operators whose processing-time callback is due
// and flushes the chain after them.
func (t *task) fireTimers(now int64) (bool, error) {
	if t.ended {
		return false, nil
	}
	fired := false
	for _, r := range t.timers {
		if r.at <= now {
			r.at = noTimer
			fired = true
			t.dirty = true
			if err := r.op.OnProcessingTime(now); err != nil {
				return true, err
			}
		}
	}
	if fired {
		// What the timers emitted moves on now, as results before a
		// watermark do, not when later records fill its batch.
		return true, t.flush()
	}
	return false, nil
}
