// Package runtime executes weir jobs on a thread-per-core layout.
//
// Run takes anything with a Graph method (a *stream.Job) and lays its job
// graph out on Parallelism workers: one goroutine per core, locked to its OS
// thread and pinned to the core with sched_setaffinity where permitted (a
// debug log otherwise). Vertices joined by a forward edge with the same
// parallelism are chained into one task and call each other directly, batch
// by batch. Every other edge becomes bounded SPSC rings, one per (producer
// subtask, consumer subtask) pair, carrying batches and, in order with them,
// watermarks, idleness and end-of-input; a second ring per pair returns
// consumed batches to the producer for reuse, so the steady state allocates
// nothing.
//
// A worker loops over its tasks cooperatively. A task whose output ring is
// full keeps what it could not send and is not stepped again until the ring
// drains (backpressure by parking, nothing dropped, the overflow bounded by
// one step). A worker with nothing to do flushes partial batches, then
// sleeps until another worker hands it work, a processing-time timer is due
// or a source may have input again.
//
// The first error of a user function, source or sink (a panic included)
// stops every worker; Run returns it as an *operators.OperatorError naming
// the operator and subtask. Canceling the context stops the job with
// ErrCanceled. Run returns after every goroutine it started has ended.
//
// Deterministic runs all workers' loops on the calling goroutine in a fixed
// order (the step mode testkit uses): the output and its order then depend
// only on the input, the options and the clock.
package runtime
