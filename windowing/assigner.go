package windowing

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidAssigner is wrapped by Assigner.Validate's errors.
var ErrInvalidAssigner = errors.New("weir/windowing: invalid window assigner")

// Kind is the kind of an Assigner.
type Kind uint8

// Assigner kinds.
const (
	KindNone     Kind = iota // the zero Assigner: invalid
	KindTumbling             // fixed-size, non-overlapping windows
	KindSliding              // fixed-size windows starting every slide (HOP)
	KindSession              // per-key windows separated by a gap of inactivity
	KindCumulate             // windows growing by step up to max, then restarting
	KindGlobal               // one window per key, fired by a Trigger only
)

func (k Kind) String() string {
	switch k {
	case KindTumbling:
		return "tumbling"
	case KindSliding:
		return "sliding"
	case KindSession:
		return "session"
	case KindCumulate:
		return "cumulate"
	case KindGlobal:
		return "global"
	}
	return "none"
}

// Assigner says which windows an element belongs to. It is a small value
// (a kind and a few millisecond fields) so that the window operator
// switches on the kind instead of calling an interface per record. Build
// one with Tumbling, Sliding, Session, Cumulate or Global; the zero value
// is invalid.
//
// Aligned windows (tumbling, sliding, cumulate) start at multiples of
// their slide since the Unix epoch, shifted by WithOffset. Their elements
// are kept in panes: a pane is gcd(size, slide) long for sliding windows,
// step long for cumulate windows and a whole window for tumbling ones, and
// every window is the union of its panes, so an element is stored once,
// not once per window that holds it.
type Assigner struct {
	kind   Kind
	size   int64 // window length (tumbling, sliding) or max (cumulate), ms
	slide  int64 // distance between window starts or ends (step for cumulate), ms
	pane   int64 // pane length, ms
	offset int64 // alignment offset in [0, slide) (cumulate: [0, size)), ms
	gap    int64 // session gap, ms
	proc   bool  // windows of processing time (ByProcessingTime)
	bad    string
}

// millis converts d to whole milliseconds; sub-millisecond parts make the
// assigner invalid.
func millis(d time.Duration, what string, bad *string) int64 {
	if d%time.Millisecond != 0 && *bad == "" {
		*bad = fmt.Sprintf("%s %v is not a whole number of milliseconds", what, d)
	}
	return int64(d / time.Millisecond)
}

// Tumbling returns fixed-size, non-overlapping windows of length size:
// [k*size, (k+1)*size).
func Tumbling(size time.Duration) Assigner {
	a := Assigner{kind: KindTumbling}
	a.size = millis(size, "size", &a.bad)
	a.slide, a.pane = a.size, a.size
	return a
}

// Sliding returns windows of length size starting every slide (HOP in
// SQL): an element belongs to about size/slide windows.
func Sliding(size, slide time.Duration) Assigner {
	a := Assigner{kind: KindSliding}
	a.size = millis(size, "size", &a.bad)
	a.slide = millis(slide, "slide", &a.bad)
	if a.size > 0 && a.slide > 0 {
		a.pane = gcd(a.size, a.slide)
	}
	return a
}

// Session returns per-key session windows: an element at t opens the
// window [t, t+gap), and windows of one key that overlap merge, so
// elements closer than gap share a window.
func Session(gap time.Duration) Assigner {
	a := Assigner{kind: KindSession}
	a.gap = millis(gap, "gap", &a.bad)
	return a
}

// Cumulate returns windows that share a start and grow by step up to max
// (CUMULATE in SQL): [k*max, k*max+step), [k*max, k*max+2*step), ...,
// [k*max, (k+1)*max). max must be a multiple of step.
func Cumulate(step, max time.Duration) Assigner {
	a := Assigner{kind: KindCumulate}
	a.slide = millis(step, "step", &a.bad)
	a.size = millis(max, "max", &a.bad)
	a.pane = a.slide
	return a
}

// Global returns one window per key holding all of its elements. It fires
// only through a Trigger (WindowedStream.Trigger), and once more at the
// end of a bounded input if it holds elements.
func Global() Assigner { return Assigner{kind: KindGlobal} }

// WithOffset shifts the alignment of tumbling, sliding and cumulate
// windows by d: Tumbling(time.Hour).WithOffset(15*time.Minute) gives
// windows [00:15, 01:15), [01:15, 02:15), ... A negative d counts back.
func (a Assigner) WithOffset(d time.Duration) Assigner {
	if a.kind == KindSession || a.kind == KindGlobal {
		a.bad = fmt.Sprintf("%s windows have no offset", a.kind)
		return a
	}
	off := millis(d, "offset", &a.bad)
	if period := a.period(); period > 0 {
		off = mod(off, period)
	}
	a.offset = off
	return a
}

// ByProcessingTime makes the windows follow processing time instead of
// event time (Flink's TumblingProcessingTimeWindows and kin): an element
// belongs to the windows holding the processing time at which it reaches
// the window operator, whatever its event time (it needs none), and a
// window fires when processing time reaches its end, without waiting
// for watermarks. Results carry the window's end - 1ms (processing time)
// as their event time. Elements are never late, so allowed lateness does
// not apply; the end of a bounded input fires every open window, as it
// does for event-time windows. Global windows have no time: the option is
// invalid for them.
func (a Assigner) ByProcessingTime() Assigner {
	if a.kind == KindGlobal && a.bad == "" {
		a.bad = "global windows have no time to follow"
	}
	a.proc = true
	return a
}

// IsProcessingTime reports whether the windows follow processing time
// (ByProcessingTime).
func (a Assigner) IsProcessingTime() bool { return a.proc }

// period is the length after which window starts repeat.
func (a Assigner) period() int64 {
	if a.kind == KindCumulate {
		return a.size
	}
	return a.slide
}

// Kind is the assigner's kind.
func (a Assigner) Kind() Kind { return a.kind }

// Size is the window length: the size of tumbling and sliding windows,
// the max of cumulate windows, 0 otherwise.
func (a Assigner) Size() time.Duration { return time.Duration(a.size) * time.Millisecond }

// Slide is the distance between window starts of sliding windows (the
// size of tumbling ones, the step of cumulate ones), 0 otherwise.
func (a Assigner) Slide() time.Duration { return time.Duration(a.slide) * time.Millisecond }

// Gap is the gap of session windows, 0 otherwise.
func (a Assigner) Gap() time.Duration { return time.Duration(a.gap) * time.Millisecond }

// Offset is the alignment offset, normalized to [0, Slide()) (cumulate:
// [0, Size())).
func (a Assigner) Offset() time.Duration { return time.Duration(a.offset) * time.Millisecond }

// Pane is the length of a pane of aligned windows, 0 otherwise.
func (a Assigner) Pane() time.Duration { return time.Duration(a.pane) * time.Millisecond }

// IsAligned reports whether windows are aligned to the epoch (tumbling,
// sliding, cumulate) and kept in panes.
func (a Assigner) IsAligned() bool {
	return a.kind == KindTumbling || a.kind == KindSliding || a.kind == KindCumulate
}

// Validate reports whether the assigner can be used.
func (a Assigner) Validate() error {
	if a.bad != "" {
		return fmt.Errorf("%w: %s", ErrInvalidAssigner, a.bad)
	}
	switch a.kind {
	case KindTumbling, KindSliding:
		if a.size <= 0 || a.slide <= 0 {
			return fmt.Errorf("%w: %s size and slide must be positive", ErrInvalidAssigner, a.kind)
		}
	case KindCumulate:
		if a.slide <= 0 || a.size <= 0 || a.size%a.slide != 0 {
			return fmt.Errorf("%w: cumulate step must be positive and divide max", ErrInvalidAssigner)
		}
	case KindSession:
		if a.gap <= 0 {
			return fmt.Errorf("%w: session gap must be positive", ErrInvalidAssigner)
		}
	case KindGlobal:
	default:
		return fmt.Errorf("%w: zero Assigner (use Tumbling, Sliding, Session, Cumulate or Global)", ErrInvalidAssigner)
	}
	return nil
}

func (a Assigner) String() string {
	d := func(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
	var s string
	switch a.kind {
	case KindTumbling:
		s = fmt.Sprintf("Tumbling(%v)", d(a.size))
	case KindSliding:
		s = fmt.Sprintf("Sliding(%v, %v)", d(a.size), d(a.slide))
	case KindCumulate:
		s = fmt.Sprintf("Cumulate(%v, %v)", d(a.slide), d(a.size))
	case KindSession:
		s = fmt.Sprintf("Session(%v)", d(a.gap))
	case KindGlobal:
		return "Global()"
	default:
		return "Assigner(none)"
	}
	if a.offset != 0 {
		s += fmt.Sprintf(".WithOffset(%v)", d(a.offset))
	}
	if a.proc {
		s += ".ByProcessingTime()"
	}
	return s
}

// Windows returns the windows an element with event time t belongs to, in
// order of their end (sessions: the window the element opens before
// merging; global: the zero Window).
func (a Assigner) Windows(t time.Time) []Window {
	ts := t.UnixMilli()
	switch a.kind {
	case KindSession:
		return []Window{span{ts, ts + a.gap}.window()}
	case KindGlobal:
		return []Window{{}}
	}
	var out []Window
	ps := a.paneOf(ts)
	for e, ok := a.firstEnd(ps); ok && e <= a.lastEnd(ps); e, ok = a.nextEnd(e) {
		out = append(out, span{a.winStart(e), e}.window())
	}
	return out
}

// paneOf returns the start of the pane holding event time ts.
func (a Assigner) paneOf(ts int64) int64 { return alignDown(ts, a.pane, a.offset) }

// firstEnd returns the end of the earliest window holding pane ps; false
// if no window holds it (a gap between sliding windows).
func (a Assigner) firstEnd(ps int64) (int64, bool) {
	if a.kind == KindCumulate {
		return ps + a.pane, true
	}
	first := alignDown(ps-a.size, a.slide, a.offset) + a.slide
	return first + a.size, first <= alignDown(ps, a.slide, a.offset)
}

// lastEnd returns the end of the latest window holding pane ps.
func (a Assigner) lastEnd(ps int64) int64 {
	if a.kind == KindCumulate {
		return alignDown(ps, a.size, a.offset) + a.size
	}
	return alignDown(ps, a.slide, a.offset) + a.size
}

// winStart returns the start of the window ending at e.
func (a Assigner) winStart(e int64) int64 {
	if a.kind == KindCumulate {
		return alignDown(e-1, a.size, a.offset)
	}
	return e - a.size
}

// nextEnd returns the end of the window after the one ending at e that
// shares panes with it, if any.
func (a Assigner) nextEnd(e int64) (int64, bool) {
	if a.kind == KindCumulate {
		return e + a.slide, e < a.winStart(e)+a.size
	}
	return e + a.slide, a.slide < a.size
}

// prevEnd returns the end of the window before the one ending at e that
// shares panes with it, if any.
func (a Assigner) prevEnd(e int64) (int64, bool) {
	if a.kind == KindCumulate {
		return e - a.slide, e-a.slide > a.winStart(e)
	}
	return e - a.slide, a.slide < a.size
}

// retired returns the panes [from, to) whose last window ends at e: they
// can be freed once that window is cleaned up.
func (a Assigner) retired(e int64) (from, to int64) {
	if a.kind == KindCumulate {
		if start := a.winStart(e); e == start+a.size {
			return start, e
		}
		return e, e
	}
	return e - a.size, e - a.size + a.slide
}

// alignDown returns the largest t <= ts with t ≡ offset (mod unit).
func alignDown(ts, unit, offset int64) int64 { return ts - mod(ts-offset, unit) }

// mod is the non-negative remainder of a / b (b > 0).
func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// addSat is a + b, saturating at math.MaxInt64 (b >= 0).
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
