package timeapi

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidStrategy is wrapped by every error WatermarkStrategy.Validate
// returns; test for it with errors.Is.
var ErrInvalidStrategy = errors.New("weir/timeapi: invalid watermark strategy")

type strategyKind uint8

const (
	kindNone strategyKind = iota
	kindBounded
	kindAscending
	kindPunctuated
	kindRecord
)

// WatermarkStrategy describes how a source split extracts the event time of
// its records of type T and which watermarks it promises. It is a small value:
// copy it freely. The zero value means "no event time": records are stamped
// NoTimestamp and the watermark stays MinWatermark until the input ends.
//
// Build one with BoundedOutOfOrder, Ascending or Punctuated, optionally
// followed by WithIdleness; check it with Validate when the job is built, and
// call NewGenerator once per source split.
type WatermarkStrategy[T any] struct {
	kind     strategyKind
	record   bool // prefer the records' own timestamps (WithRecordTimestamps)
	ts       func(T) time.Time
	punct    func(v T, ts time.Time) (time.Time, bool)
	maxDelay time.Duration
	idleness time.Duration
}

// BoundedOutOfOrder returns a strategy for records that arrive at most
// maxDelay behind the largest event time seen so far. ts returns a record's
// event time (the zero time.Time for none). The watermark is
// maxTimestamp - maxDelay - 1ms, so a record at exactly
// maxTimestamp - maxDelay is still on time (Flink semantics); maxDelay is
// truncated to whole milliseconds.
func BoundedOutOfOrder[T any](ts func(T) time.Time, maxDelay time.Duration) WatermarkStrategy[T] {
	return WatermarkStrategy[T]{kind: kindBounded, ts: ts, maxDelay: maxDelay}
}

// Ascending returns a strategy for records whose event times never decrease:
// BoundedOutOfOrder with zero delay, so the watermark is maxTimestamp - 1ms.
func Ascending[T any](ts func(T) time.Time) WatermarkStrategy[T] {
	return WatermarkStrategy[T]{kind: kindAscending, ts: ts}
}

// RecordTimestamps returns a bounded out-of-orderness strategy over the
// event times the records already carry: the native timestamps a source's
// reader appends to the batch (operators.Reader), or the records' times
// when set mid-stream. Nothing is extracted per record, which matters for
// large records; a record without a time counts as NoTimestamp.
func RecordTimestamps[T any](maxDelay time.Duration) WatermarkStrategy[T] {
	return WatermarkStrategy[T]{kind: kindRecord, maxDelay: maxDelay}
}

// WithRecordTimestamps returns a copy of s that takes the event times the
// records already carry when there are some: the native timestamps a
// source reader appends to its batch, or the records' times mid-stream.
// The timestamp function is then called only for records of readers that
// give none. Bounded and ascending strategies only (a punctuated one needs
// every record).
func (s WatermarkStrategy[T]) WithRecordTimestamps() WatermarkStrategy[T] {
	if s.kind == kindBounded || s.kind == kindAscending {
		s.record = true
	}
	return s
}

// Punctuated returns a strategy whose watermarks come from special records.
// ts returns a record's event time; wm is called for every record with that
// time and returns (watermark, true) when the record carries a watermark. A
// watermark lower than one already promised, or the zero time.Time, is
// ignored.
func Punctuated[T any](ts func(T) time.Time, wm func(v T, ts time.Time) (time.Time, bool)) WatermarkStrategy[T] {
	return WatermarkStrategy[T]{kind: kindPunctuated, ts: ts, punct: wm}
}

// WithIdleness returns a copy of s under which a split that has received no
// records for d of processing time is idle (see Generator.Idle). Zero
// disables idleness detection, which is the default.
func (s WatermarkStrategy[T]) WithIdleness(d time.Duration) WatermarkStrategy[T] {
	s.idleness = d
	return s
}

// IsZero reports whether s is the zero strategy: no event time, no idleness.
func (s WatermarkStrategy[T]) IsZero() bool {
	return s.kind == kindNone && s.idleness == 0
}

// Validate reports a strategy that cannot work: a nil timestamp or watermark
// function, a negative delay or idleness, or idleness on a strategy without
// event time. The zero strategy is valid. Every error wraps
// ErrInvalidStrategy; the job that declared the strategy fails to build.
func (s WatermarkStrategy[T]) Validate() error {
	switch {
	case s.kind == kindNone && s.idleness != 0:
		return fmt.Errorf("%w: idleness without a timestamp function", ErrInvalidStrategy)
	case s.kind != kindNone && s.kind != kindRecord && s.ts == nil:
		return fmt.Errorf("%w: nil timestamp function", ErrInvalidStrategy)
	case s.kind == kindPunctuated && s.punct == nil:
		return fmt.Errorf("%w: nil watermark function", ErrInvalidStrategy)
	case s.maxDelay < 0:
		return fmt.Errorf("%w: negative max delay %v", ErrInvalidStrategy, s.maxDelay)
	case s.idleness < 0:
		return fmt.Errorf("%w: negative idleness %v", ErrInvalidStrategy, s.idleness)
	}
	return nil
}

// String describes s the way it was built, for plans and logs, for example
// "BoundedOutOfOrder(5s).WithIdleness(1m0s)".
func (s WatermarkStrategy[T]) String() string {
	var b string
	switch s.kind {
	case kindNone:
		b = "NoEventTime"
	case kindBounded:
		b = "BoundedOutOfOrder(" + s.maxDelay.String() + ")"
	case kindAscending:
		b = "Ascending"
	case kindPunctuated:
		b = "Punctuated"
	case kindRecord:
		b = "RecordTimestamps(" + s.maxDelay.String() + ")"
	}
	if s.record {
		b += ".WithRecordTimestamps()"
	}
	if s.idleness != 0 {
		b += ".WithIdleness(" + s.idleness.String() + ")"
	}
	return b
}

// NewGenerator returns a fresh Generator for one source split. It does not
// validate s (the job builder calls Validate): a nil timestamp function stamps
// NoTimestamp, a nil watermark function never promises a watermark, and
// negative durations count as zero.
func (s WatermarkStrategy[T]) NewGenerator() *Generator[T] {
	g := &Generator[T]{
		ts:      s.ts,
		maxTs:   MinWatermark,
		punctWm: MinWatermark,
		idleMs:  durationMillisCeil(s.idleness),
	}
	switch {
	case s.kind == kindRecord:
		g.ts, g.native = nil, true
		g.delayMs = max(s.maxDelay.Milliseconds(), 0)
	case s.ts == nil:
		g.ts = nil // no event time, whatever the kind
	case s.kind == kindPunctuated:
		g.punct = s.punct
		if g.punct == nil {
			g.punct = func(T, time.Time) (time.Time, bool) { return time.Time{}, false }
		}
	default:
		g.delayMs = max(s.maxDelay.Milliseconds(), 0)
		g.native = s.record
	}
	return g
}
