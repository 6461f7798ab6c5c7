// Package timeapi is weir's model of time: event time, watermarks, idleness,
// the combination of watermarks at multi-input tasks, and processing-time
// clocks. It sits at the bottom of weir's import graph and uses only the
// standard library.
//
// # Event time
//
// Every record may carry an event time: the moment the event happened, as
// opposed to the moment weir processes it (processing time). Internally an
// event time is an int64 count of Unix milliseconds, stored next to the
// record in its batch; NoTimestamp marks a record without one. The public API
// speaks time.Time and time.Duration; Millis and Time convert.
//
// # Watermarks
//
// A watermark wm is a promise that flows with the data: no record with an
// event time <= wm follows. Windows fire and event-time timers run when the
// watermark passes their end. A record that arrives behind the watermark is
// late. MinWatermark means nothing has been promised yet; MaxWatermark means
// the input has ended and fires everything.
//
// A WatermarkStrategy says how a source extracts event times and promises
// watermarks. Each source split gets its own Generator from
// WatermarkStrategy.NewGenerator; the runtime calls Generator.Stamp once per
// batch to fill the batch's event times and then emits Generator.Watermark
// in-band, between batches, whenever it advanced. The strategies are:
//
//   - BoundedOutOfOrder: records arrive at most maxDelay behind the largest
//     event time seen, so the watermark is maxTimestamp - maxDelay - 1ms
//     (Flink semantics: a record at exactly maxTimestamp - maxDelay is still
//     on time).
//   - Ascending: event times never decrease (BoundedOutOfOrder with zero
//     delay).
//   - Punctuated: special records in the stream carry the watermark.
//
// A time.Time zero value returned by a timestamp or watermark function means
// "none": the record is stamped NoTimestamp, or no watermark is emitted.
//
// # Idleness
//
// A split that receives no records holds back the watermark of every task
// downstream, because the combined watermark is a minimum. With
// WatermarkStrategy.WithIdleness a split that has seen no records for the
// given processing time is idle (Generator.Idle): the runtime announces it
// downstream, and idle inputs are left out of the minimum until they produce
// records again. Idleness is measured with a Clock, so tests drive it with a
// ManualClock.
//
// # Combining watermarks
//
// A task with several inputs (several upstream subtasks, or the two sides of
// a join) combines their watermarks with a Tracker: the combined watermark is
// the minimum over inputs that are neither idle nor finished, a finished
// input counts as MaxWatermark, and the combined watermark never decreases.
// When every unfinished input is idle, the combined watermark moves to the
// highest of theirs (none of them will move on; Flink's valve does the same,
// and the result does not depend on the order in which they went idle) and
// the task's own output is idle (Tracker.AllIdle); when every input has
// finished it becomes MaxWatermark. The Tracker is a pure state machine:
// it takes events in and returns the combined watermark out, and never reads
// a clock.
//
// # Clocks
//
// Processing time comes from a Clock. SystemClock reads the wall clock;
// ManualClock only moves when told to, for deterministic tests.
package timeapi
