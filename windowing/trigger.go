package windowing

import (
	"fmt"
	"time"
)

// TriggerAction is what a Trigger asks the window operator to do.
type TriggerAction uint8

// Trigger actions.
const (
	Continue     TriggerAction = iota // do nothing
	Fire                              // emit the window's current result
	Purge                             // drop the window's contents
	FireAndPurge                      // emit the result, then drop the contents
)

func (a TriggerAction) String() string {
	switch a {
	case Continue:
		return "CONTINUE"
	case Fire:
		return "FIRE"
	case Purge:
		return "PURGE"
	case FireAndPurge:
		return "FIRE_AND_PURGE"
	}
	return fmt.Sprintf("TriggerAction(%d)", int(a))
}

// Trigger decides, element by element, when a window fires before its end
// (time windows) or at all (global windows). Time windows still fire when
// the watermark passes their end. A trigger is shared by all keys and
// subtasks: it must not keep per-window state of its own; count is the
// number of elements in the window (since its last purge), including the
// current one, and w is the zero Window for global windows.
//
// A Fire emits a changelog update of the window's row (Insert first, then
// UpdateBefore/UpdateAfter pairs). A FireAndPurge emits an Insert row
// and starts the window afresh, so each purge yields a row of its own.
// Purging is done for tumbling, session and global windows; sliding and
// cumulate windows share panes with their neighbours and treat Purge as
// Continue and FireAndPurge as Fire.
type Trigger interface {
	OnElement(w Window, ts time.Time, count int64) TriggerAction
}

// TriggerFunc adapts a function to a Trigger.
type TriggerFunc func(w Window, ts time.Time, count int64) TriggerAction

// OnElement implements Trigger.
func (f TriggerFunc) OnElement(w Window, ts time.Time, count int64) TriggerAction {
	return f(w, ts, count)
}

// CountTrigger fires and purges a window every n elements (Flink's
// PurgingTrigger.of(CountTrigger.of(n))); with Global windows it makes
// count windows.
func CountTrigger(n int64) Trigger { return countTrigger(n) }

type countTrigger int64

func (n countTrigger) OnElement(_ Window, _ time.Time, count int64) TriggerAction {
	if n > 0 && count >= int64(n) {
		return FireAndPurge
	}
	return Continue
}

func (n countTrigger) String() string { return fmt.Sprintf("CountTrigger(%d)", int64(n)) }

// EmitPolicy says when a window emits results (SQL's EMIT clause). The
// zero value is OnWindowClose.
type EmitPolicy struct {
	early    emitKind
	interval int64 // ms, for Every
}

type emitKind uint8

const (
	emitOnClose emitKind = iota
	emitOnUpdate
	emitEvery
)

// OnWindowClose emits one final Insert row per (key, window) when the
// watermark passes the window's end (the default; EMIT ON WINDOW CLOSE).
func OnWindowClose() EmitPolicy { return EmitPolicy{} }

// OnUpdate emits the window's result after every element (EMIT CHANGES):
// Insert for the first, then an UpdateBefore/UpdateAfter pair per change.
func OnUpdate() EmitPolicy { return EmitPolicy{early: emitOnUpdate} }

// Every emits the windows that changed every d of processing time (EMIT
// EVERY d), as Insert or UpdateBefore/UpdateAfter rows; a change not yet
// emitted when the window closes is emitted then.
func Every(d time.Duration) EmitPolicy {
	ms := int64(d / time.Millisecond)
	if d > 0 && ms == 0 {
		ms = 1
	}
	return EmitPolicy{early: emitEvery, interval: ms}
}

// Validate reports whether the policy can be used.
func (p EmitPolicy) Validate() error {
	if p.early == emitEvery && p.interval <= 0 {
		return fmt.Errorf("weir/windowing: Every needs a positive interval")
	}
	return nil
}

// IsEarly reports whether the policy emits results before windows close.
func (p EmitPolicy) IsEarly() bool { return p.early != emitOnClose }

func (p EmitPolicy) String() string {
	switch p.early {
	case emitOnUpdate:
		return "OnUpdate()"
	case emitEvery:
		return fmt.Sprintf("Every(%v)", time.Duration(p.interval)*time.Millisecond)
	}
	return "OnWindowClose()"
}
