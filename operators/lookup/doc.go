// Package lookup is weir's lookup join: it enriches every record of a
// stream with a row of an external table (Redis, PostgreSQL, a service),
// read through a per-subtask cache with batched, asynchronous gets.
//
// # Contract
//
// A Table answers GetBatch(ctx, keys) with one value and one found flag
// per key. Connectors implement it (connectors/redis, connectors/postgres);
// MemTable is an in-memory table with fault injection for tests.
//
// # Model
//
// The Operator runs on its task's goroutine like any other, and never
// blocks it on I/O in the steady state:
//
//   - A record whose key is cached (found or not found) is joined at once.
//   - A miss is held in a bounded ring (Options.Capacity records); its key
//     joins the request being built for the current input batch (keys are
//     deduplicated, also against requests already in flight), capped at
//     Options.MaxBatchKeys keys per request.
//   - At the end of each input batch the request goes to one of
//     Options.MaxInFlight helper goroutines, which call Table.GetBatch and
//     put the finished request on a completion queue. At most MaxInFlight
//     requests are in progress; further ones wait, built, in the operator.
//   - The task goroutine takes completions in on every call it gets (a
//     batch, a watermark, a flush) and on a processing-time callback it
//     asks for every Options.PollInterval while lookups are in progress.
//     Results go into the cache and to the waiting records.
//
// Backpressure: when the ring is full, the call that brought the next
// record waits on the task goroutine for lookups to complete (bounded by
// Options.FailAfter plus one Timeout). Upstream then sees a slow operator,
// exactly like a full output queue.
//
// Order: in Ordered mode (the default) results leave in input order. In
// Unordered mode a result leaves as soon as its lookup completes, but only
// among the records between the same two watermarks. In both modes a
// watermark is held back until every record before it has left, so no
// record is ever late because of the lookup.
//
// Cache: an LRU map bounded by Options.CacheSize entries; found values live
// Options.CacheTTL, not-found keys Options.NegativeTTL. Each subtask has its
// own cache, owned by its task goroutine (no locks); a hit does not
// allocate.
//
// Failures: a failed GetBatch is retried with exponential backoff
// (Options.RetryBackoff doubling up to RetryMaxBackoff, each attempt
// bounded by Options.Timeout) for up to Options.FailAfter; then the job
// fails with an error wrapping ErrTableDown that names the table and the
// number of keys. Errors marked with Permanent fail the job at once.
//
// End of input and checkpoints: EndInput waits for every lookup and emits
// everything before passing the end on. When the job takes checkpoints,
// Flush (which runs before a barrier passes the operator) also waits, so a
// checkpoint never has records in flight inside the operator; the operator
// keeps no checkpointed state (the cache is rebuilt after a restore).
//
// With a manual clock (testkit's deterministic mode) processing-time
// callbacks do not fire unless the test advances the clock; results then
// come out at flushes and at the end of input.
package lookup
