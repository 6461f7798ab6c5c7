package timeapi

import "fmt"

type inputState uint8

const (
	inputActive inputState = iota
	inputIdle
	inputFinished
)

// Tracker combines the watermarks of a task's inputs. The combined watermark
// is the minimum over inputs that are neither idle nor finished; a finished
// input counts as MaxWatermark. When every unfinished input is idle none of
// them will move, and the combined watermark becomes the maximum of theirs
// (as Flink's watermark valve flushes it), so it does not depend on the
// order in which the inputs went idle; when every input has finished it
// becomes MaxWatermark. The combined watermark never decreases: an idle
// input that comes back with a lower watermark holds it where it is instead
// of pulling it back, until that input catches up.
//
// Tracker is a pure state machine for one goroutine: it never reads a clock
// or blocks. Every method that changes it returns the combined watermark and
// whether it advanced, so the caller emits a watermark downstream exactly
// when the second result is true. Inputs are numbered 0..n-1; an index out of
// range panics like a slice index.
type Tracker struct {
	wm       []int64 // each input's own watermark; never decreases
	state    []inputState
	current  int64 // combined watermark
	minIdx   int   // an active input with the lowest watermark; -1 when none is active
	active   int   // inputs neither idle nor finished
	finished int
}

// NewTracker returns a Tracker for n inputs, all active at MinWatermark. It
// panics if n < 1: a task with no inputs is a source and has no tracker.
func NewTracker(n int) *Tracker {
	if n < 1 {
		panic(fmt.Sprintf("weir/timeapi: NewTracker(%d): need at least one input", n))
	}
	t := &Tracker{
		wm:      make([]int64, n),
		state:   make([]inputState, n),
		current: MinWatermark,
		active:  n,
	}
	for i := range t.wm {
		t.wm[i] = MinWatermark
	}
	return t
}

// Update records wm as input i's watermark and marks input i active. An
// input's own watermark never goes back: a value lower than the one it has is
// ignored (but still makes an idle input active). A finished input ignores
// Update. It returns the combined watermark and whether it advanced. Update
// costs O(1) unless input i held the minimum, then O(n).
func (t *Tracker) Update(i int, wm int64) (int64, bool) {
	switch t.state[i] {
	case inputFinished:
		return t.current, false
	case inputIdle:
		t.wm[i] = max(t.wm[i], wm)
		t.activate(i)
	default:
		if wm <= t.wm[i] {
			return t.current, false
		}
		t.wm[i] = wm
		if i == t.minIdx {
			t.recomputeMin()
		}
	}
	return t.combine()
}

// SetIdle marks input i idle (left out of the minimum) when idle is true, or
// active again with its last watermark when idle is false. A finished input
// ignores SetIdle. It returns the combined watermark and whether it advanced:
// an input going idle may release the minimum.
func (t *Tracker) SetIdle(i int, idle bool) (int64, bool) {
	switch {
	case t.state[i] == inputFinished || (t.state[i] == inputIdle) == idle:
		return t.current, false
	case idle:
		t.deactivate(i, inputIdle)
	default:
		t.activate(i)
	}
	return t.combine()
}

// Finish marks input i ended: from now on it counts as MaxWatermark and
// ignores Update and SetIdle. Finishing an input twice changes nothing. It
// returns the combined watermark and whether it advanced; after the last
// input finishes the combined watermark is MaxWatermark.
func (t *Tracker) Finish(i int) (int64, bool) {
	switch t.state[i] {
	case inputFinished:
		return t.current, false
	case inputActive:
		t.deactivate(i, inputFinished)
	default:
		t.state[i] = inputFinished
	}
	t.finished++
	return t.combine()
}

// Current returns the combined watermark; it starts at MinWatermark.
func (t *Tracker) Current() int64 { return t.current }

// AllIdle reports whether every unfinished input is idle, so the task's own
// output is idle. It is false once every input has finished (see Finished).
func (t *Tracker) AllIdle() bool { return t.active == 0 && t.finished < len(t.wm) }

// Finished reports whether every input has finished.
func (t *Tracker) Finished() bool { return t.finished == len(t.wm) }

// Len returns the number of inputs.
func (t *Tracker) Len() int { return len(t.wm) }

// Input returns input i's own watermark and whether it is idle or finished,
// for metrics and debugging.
func (t *Tracker) Input(i int) (wm int64, idle, finished bool) {
	return t.wm[i], t.state[i] == inputIdle, t.state[i] == inputFinished
}

func (t *Tracker) activate(i int) {
	t.state[i] = inputActive
	t.active++
	if t.minIdx < 0 || t.wm[i] < t.wm[t.minIdx] {
		t.minIdx = i
	}
}

func (t *Tracker) deactivate(i int, s inputState) {
	t.state[i] = s
	t.active--
	if i == t.minIdx {
		t.recomputeMin()
	}
}

// recomputeMin finds an active input with the lowest watermark in O(n).
func (t *Tracker) recomputeMin() {
	t.minIdx = -1
	for j, s := range t.state {
		if s == inputActive && (t.minIdx < 0 || t.wm[j] < t.wm[t.minIdx]) {
			t.minIdx = j
		}
	}
}

// combine moves the combined watermark forward if the inputs allow it.
func (t *Tracker) combine() (int64, bool) {
	if invariants {
		t.checkInvariants()
	}
	var c int64
	switch {
	case t.finished == len(t.wm):
		c = MaxWatermark
	case t.active == 0: // every unfinished input idle: the most any promised
		c = MinWatermark
		for j, s := range t.state {
			if s == inputIdle {
				c = max(c, t.wm[j])
			}
		}
	default:
		c = t.wm[t.minIdx]
	}
	if c <= t.current {
		return t.current, false
	}
	t.current = c
	return c, true
}

// checkInvariants panics if the cached counts or minimum are stale; it runs
// only with the invariants build tag.
func (t *Tracker) checkInvariants() {
	active, finished, minWm := 0, 0, MaxWatermark
	for j, s := range t.state {
		switch s {
		case inputActive:
			active++
			minWm = min(minWm, t.wm[j])
		case inputFinished:
			finished++
		}
	}
	okMin := active == 0 && t.minIdx == -1 ||
		active > 0 && t.minIdx >= 0 && t.state[t.minIdx] == inputActive && t.wm[t.minIdx] == minWm
	if active != t.active || finished != t.finished || !okMin {
		panic(fmt.Sprintf("weir/timeapi: tracker invariants broken: active %d/%d finished %d/%d minIdx %d",
			active, t.active, finished, t.finished, t.minIdx))
	}
}
