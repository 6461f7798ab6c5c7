// Package windowing holds weir's windows: assigners, triggers, emit
// policies and the window operator that stream.KeyedStream.Window runs.
//
// # Assigners
//
// An Assigner says which windows an element belongs to, by its event time:
//
//   - Tumbling(size): [k*size, (k+1)*size), WithOffset(d) shifts them.
//   - Sliding(size, slide): windows of length size starting every slide
//     (HOP in SQL); an element is in about size/slide windows.
//   - Cumulate(step, max): [k*max, k*max+j*step) for j = 1..max/step,
//     windows that grow by step and restart every max (CUMULATE).
//   - Session(gap): per key, an element at t opens [t, t+gap) and windows
//     that overlap merge, so elements closer than gap share a session
//     (touching windows, exactly gap apart, do not merge).
//   - Global(): one window per key, fired by a Trigger only (and once
//     more at the end of a bounded input if it holds elements).
//
// Any of them but Global follows processing time instead with
// ByProcessingTime: an element belongs to the windows holding the
// processing time at which it reaches the operator (read once per batch
// from the context's clock; its event time is ignored and may be
// missing).
//
// Aligned windows (tumbling, sliding, cumulate) start at multiples of
// their slide since the Unix epoch, plus the offset. Windows are half-open
// intervals [Start, End); a result carries the event time End - 1ms.
//
// # Panes
//
// Aligned windows are stored as panes, not windows: a pane is
// gcd(size, slide) long for sliding windows, step long for cumulate ones,
// a whole window for tumbling ones. Each element is added to the
// accumulator of its (key, pane), one state lookup, and a window that
// fires merges the accumulators of its panes with Aggregator.Merge. An
// element is thus stored once, however many windows hold it.
//
// # Firing and timers
//
// A window fires when the watermark passes its last instant (End - 1ms);
// the end of a bounded input sends the maximum watermark, which fires every
// window. Timers are buckets of keys by time: a key is registered under a
// window end only when its first pane of that window appears, and a firing
// window registers the next window of the key if they share panes, so
// timers never grow with the number of elements. Sessions register their
// end when they open; a timer of a session that grew or merged meanwhile
// re-registers or is dropped when it fires.
//
// Processing-time windows fire through the operator's processing-time
// callback (operators.TimerService): the operator asks for one at its
// earliest timer, and the callback fires every timer up to the time it
// runs at - 1ms, as a watermark would; watermarks themselves are ignored,
// except the end of input's, which fires the rest. A clock that steps
// back never reopens a fired window: an element then goes to the window
// after the last one fired. Allowed lateness is refused (nothing is late).
//
// Processing-time tumbling windows without early or late rows (no
// trigger, no early emit policy) close for every key at once, so they
// keep no timer per key: the operator notes the ends of the windows that
// have panes, and a closing window sweeps the pane table once per key
// group (statebackend.Sweeper), emitting and removing its panes. The pass
// costs a fraction of a lookup and a delete per key (Nexmark q12: 40 ns
// against 165 per key on 50k keys). Checkpoints need nothing more: a
// restored operator finds the open windows in its panes. On a table
// without Sweep (pebblestate) they take timers like the others.
//
// # Emit policies and the changelog
//
// By default (OnWindowClose) every (key, window) gets exactly one Result
// of kind Insert when it closes. OnUpdate emits after every element and
// Every(d) every d of processing time (windows changed since the last
// emission); these early results, trigger fires and late updates form a
// changelog: Insert for a window's first row, then UpdateBefore (the old
// row) and UpdateAfter (the new one) pairs; a session that merges into a
// bigger one retracts its row with Delete. Applying the rows in order
// gives the final table. Purging triggers (CountTrigger) make each firing
// a row of its own (Insert).
//
// # Triggers
//
// A Trigger sees every element with its window's count and may Fire,
// Purge or FireAndPurge. Time windows still fire at their end. Purging
// applies to single-pane windows (tumbling, session, global).
//
// # Lateness
//
// An element at or before the watermark is late for the windows that
// fired. With allowed lateness L, a window keeps its state until the
// watermark passes End - 1ms + L; a late element within that time updates
// it and the window emits an UpdateBefore/UpdateAfter pair at once (an
// Insert if the key had no row for it). An element too late for all of its
// windows goes to the late-data side output (stream's LateData) or is
// dropped and counted (Stats.DroppedLate). State and timers of a window
// are freed when its lateness has passed, so state stays bounded on an
// endless stream.
//
// # Accumulators and copy-on-write state
//
// State snapshots share memory with live state (copy-on-write is shallow).
// Aggregators must therefore never change memory that an earlier
// accumulator can reach, except by appending to a slice: stream's
// CountDistinct keeps an immutable hash trie for this reason.
//
// # Checkpoints
//
// Panes, sessions and emitted rows are state tables, checkpointed by the
// state backend (heap backends encode keys, accumulators and results with
// encoding/gob: they need exported fields). The Operator checkpoints the
// rest itself: its timers and the entries waiting for a periodic emission
// per key group (operators.KeyGroupSnapshotter), and its watermark
// (operators.Snapshotter). Keys are encoded compactly when K is made of
// integer, float, bool and string kinds (arrays and structs of them
// included); other key types must be gob-encodable. A restored operator
// fires, frees and treats late elements like the interrupted one.
//
// The Operator is pure: it takes batches, watermarks and processing-time
// callbacks and emits; it never starts goroutines, reads clocks other
// than the context's, or does I/O.
package windowing
