package runtime

import (
	"context"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weirstream/weir/timeapi"
)

// worker runs a set of tasks cooperatively on one goroutine (pinned to one
// core in the threaded mode).
type worker struct {
	id       int
	tasks    []*task
	wakeC    chan struct{}
	sleeping atomic.Bool
	clock    timeapi.Clock
}

func newWorker(id int, clock timeapi.Clock) *worker {
	return &worker{id: id, wakeC: make(chan struct{}, 1), clock: clock}
}

// notify wakes the worker if it sleeps. Called by other workers after they
// changed a queue this worker waits on.
func (w *worker) notify() {
	if w.sleeping.Load() {
		select {
		case w.wakeC <- struct{}{}:
		default:
		}
	}
}

// wake makes the worker take a turn, asleep or not (a request from the
// checkpointer or a stop): a pending token costs at most one extra pass.
func (w *worker) wake() {
	select {
	case w.wakeC <- struct{}{}:
	default:
	}
}

// pass steps every task once. It returns whether any progressed, whether
// all are done, and the first error.
func (w *worker) pass(now int64) (progress, done bool, err error) {
	done = true
	for _, t := range w.tasks {
		if t.done() {
			continue
		}
		fired, err := t.fireTimers(now)
		if err != nil {
			return true, false, err
		}
		p, err := t.step(now)
		if err != nil {
			return true, false, err
		}
		progress = progress || p || fired
		if !t.done() {
			done = false
		}
	}
	return progress, done, nil
}

// flush moves partial batches on; it reports whether anything moved.
func (w *worker) flush() (bool, error) {
	moved := false
	for _, t := range w.tasks {
		if t.dirty && !t.ended {
			moved = true
			if err := t.flush(); err != nil {
				return true, err
			}
		}
	}
	return moved, nil
}

// hasWork reports whether a step could progress now: an input queue holds
// events, or a blocked task's queue has room again.
func (w *worker) hasWork() bool {
	for _, t := range w.tasks {
		if t.hasRequests() {
			return true
		}
		if t.paused && !t.ended && !t.align.tooFar(t.wm) {
			return true // the slowest subtask of the source caught up
		}
		for _, c := range t.inputs {
			if !t.ended && !c.blocked && !c.data.Empty() {
				return true
			}
		}
		for _, o := range t.outs {
			for _, c := range o.chans {
				if len(c.pending) > 0 && !c.data.Full() {
					return true
				}
			}
		}
	}
	return false
}

// wait returns how long the worker may sleep: until the next processing-
// time timer, or a short poll interval when a source had nothing to read.
func (w *worker) wait(now int64, backoff time.Duration) (d time.Duration, precise bool) {
	d = time.Duration(-1)
	for _, t := range w.tasks {
		if t.ended {
			continue
		}
		if t.source != nil {
			sd, hinted := backoff, false
			if t.paused {
				// waiting for another worker: check for it often (hasWork)
				// rather than sleep as long as the timer overshoots
				hinted = true
			} else if at := t.source.NextReady(); at > 0 {
				// a paced source: sleep until its next records, not
				// longer (nor shorter) than that
				sd, hinted = min(max(time.Duration(at-time.Now().UnixNano()), 0), maxBackoff), true
			}
			if d < 0 || sd < d {
				d, precise = sd, hinted
			}
		}
		if at := t.nextTimer(); at != noTimer {
			td := time.Duration(at-now) * time.Millisecond
			if d < 0 || td < d {
				d, precise = max(td, 0), false
			}
		}
	}
	return d, precise
}

// run is the threaded worker loop.
func (w *worker) run(ctx context.Context, stop *atomic.Bool) error {
	backoff := minBackoff
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for !stop.Load() {
		now := timeapi.NowMillis(w.clock)
		progress, done, err := w.pass(now)
		if err != nil || done {
			return err
		}
		if progress {
			backoff = minBackoff
			continue
		}
		if moved, err := w.flush(); err != nil || moved {
			if err != nil {
				return err
			}
			continue
		}
		d, precise := w.wait(now, backoff)
		w.sleep(ctx, timer, d, precise)
		backoff = min(2*backoff, maxBackoff)
	}
	return nil
}

const (
	minBackoff = 20 * time.Microsecond
	maxBackoff = time.Millisecond
)

func (w *worker) sleep(ctx context.Context, timer *time.Timer, d time.Duration, precise bool) {
	w.sleeping.Store(true)
	defer w.sleeping.Store(false)
	if w.hasWork() {
		return
	}
	if precise && d >= 0 && d <= maxBackoff {
		w.sleepPrecise(ctx, d)
		return
	}
	var tc <-chan time.Time
	if d >= 0 {
		timer.Reset(d)
		tc = timer.C
	}
	select {
	case <-w.wakeC:
	case <-tc:
	case <-ctx.Done():
	}
	if tc != nil && !timer.Stop() {
		select {
		case <-timer.C:
		default:
		}
	}
}

// preciseSlice is the longest a precise sleep is deaf to a wake.
const preciseSlice = 50 * time.Microsecond

// sleepPrecise sleeps d in short nanosleeps, checking for a wake between
// them. A Go timer wakes up to a millisecond late on Linux, which a paced
// source waiting for its next records (a latency measurement) cannot
// afford; the slices cost a few thousand syscalls a second, only while
// such a source waits.
func (w *worker) sleepPrecise(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		select {
		case <-w.wakeC:
			return
		case <-ctx.Done():
			return
		default:
		}
		rem := time.Until(deadline)
		if rem <= 0 || w.hasWork() {
			return
		}
		ts := syscall.NsecToTimespec(int64(min(rem, preciseSlice)))
		_ = syscall.Nanosleep(&ts, nil)
	}
}
