package windowing

import (
	"fmt"
	"time"

	"github.com/weirstream/weir/timeapi"
)

// Window is the half-open event-time interval [Start, End).
type Window struct{ Start, End time.Time }

// MaxTimestamp is the last instant inside the window (End - 1ms): window
// results carry it as their event time.
func (w Window) MaxTimestamp() time.Time { return w.End.Add(-time.Millisecond) }

func (w Window) String() string {
	return fmt.Sprintf("[%s, %s)", w.Start.UTC().Format("15:04:05.000"), w.End.UTC().Format("15:04:05.000"))
}

// span is a window in Unix milliseconds, [start, end).
type span struct{ start, end int64 }

func (s span) window() Window { return Window{Start: timeapi.Time(s.start), End: timeapi.Time(s.end)} }

// RowKind is the kind of a changelog row: what applying it to a table does.
type RowKind int8

// Changelog row kinds (Flink's RowKind).
const (
	Insert       RowKind = iota // +I: a new row
	UpdateBefore                // -U: retracts the previous version of a row
	UpdateAfter                 // +U: the new version of a row
	Delete                      // -D: removes a row
)

func (k RowKind) String() string {
	switch k {
	case Insert:
		return "+I"
	case UpdateBefore:
		return "-U"
	case UpdateAfter:
		return "+U"
	case Delete:
		return "-D"
	}
	return fmt.Sprintf("RowKind(%d)", int(k))
}

// IsRetraction reports whether the row takes a previous row back.
func (k RowKind) IsRetraction() bool { return k == UpdateBefore || k == Delete }

// Result is the result of an aggregation over one window of one key. With
// the default emit policy every (key, window) gets exactly one Result of
// kind Insert; early and late updates follow as UpdateBefore/UpdateAfter
// pairs.
type Result[K comparable, R any] struct {
	Key    K
	Window Window
	Value  R
	Kind   RowKind
}

// Change is one row of a rolling (unwindowed) aggregation's changelog:
// Insert for the first result of a key, then an UpdateBefore/UpdateAfter
// pair per update.
type Change[K comparable, R any] struct {
	Kind  RowKind
	Key   K
	Value R
}

// Aggregator is an incremental aggregation over the elements of a window.
// It has the method set of stream.Aggregator, so every stream.Aggregator
// is one (windowing does not import stream).
//
// Add and Merge may modify and return their first argument when it is an
// accumulator they were given by Init or by an earlier Add or Merge of the
// same window, but must never modify memory shared with an accumulator
// stored before: state snapshots are copy-on-write and shallow, so an
// accumulator holding a map or a slice must be replaced, not changed in
// place (a slice may be appended to, since that writes past the length
// the stored copy sees). Merge never modifies b.
type Aggregator[T, A, R any] interface {
	Init() A
	Add(acc A, v T) A
	Merge(a, b A) A
	Result(acc A) R
}

// AdderTo is an optional method of an Aggregator: AddTo folds v into the
// accumulator where it is stored, leaving *acc as Add(*acc, v) would,
// under the same rules of sharing. The window operators call it instead
// of Add when the aggregator has it, which saves copying the accumulator
// in and out (an interface call cannot be inlined away) for every record:
// worth it for an accumulator of more than a few words.
type AdderTo[T, A any] interface {
	AddTo(acc *A, v T)
}

// Adder folds records into accumulators with an Aggregator's AddTo when
// it has one, else with Add: the window operators and stream's rolling
// aggregation add through it.
type Adder[T, A, R any] struct {
	agg Aggregator[T, A, R]
	to  AdderTo[T, A]
}

// NewAdder returns the Adder of agg.
func NewAdder[T, A, R any](agg Aggregator[T, A, R]) Adder[T, A, R] {
	to, _ := agg.(AdderTo[T, A])
	return Adder[T, A, R]{agg: agg, to: to}
}

// Add folds v into *acc.
func (a Adder[T, A, R]) Add(acc *A, v T) {
	if a.to != nil {
		a.to.AddTo(acc, v)
		return
	}
	*acc = a.agg.Add(*acc, v)
}
