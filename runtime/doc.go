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
// While a threaded job runs, GOMAXPROCS is at least one more than the
// workers of all running jobs (SpareProc, on by default). A worker keeps
// its P (the Go scheduler's slot) running or in short sleeps; with no P to
// spare, the scheduler takes a sleeping worker's P to run its own
// goroutines and the collector's mark workers, and the worker queues for it
// when it wakes. Traced at 1M Nexmark events/s (q4) on 2 workers, that
// was 3,500 waits a second for a P the worker had just had, up to 3.5 ms
// each (0.9 s of waiting in a 6 s run), and the Go monitor thread using
// 12% of a core to hand the Ps back and forth; with the spare P, 450 waits
// a second, 32 ms in all, none over 1 ms.
//
// A checkpoint's snapshots are encoded and written by one writer goroutine
// while the workers go on, on the same CPUs. LowPriorityIO runs it on an
// OS thread of its own at nice 19, where it takes only the time the
// workers leave: a shorter latency tail for a job with time to spare. A
// checkpoint that is still being written when the next is due is finished
// at normal priority, between two key groups of a heap backend's state
// (statebackend.StepPersister), so a job without time to spare still gets
// its checkpoints (see LowPriorityIO). A stop-the-world
// pause of the collector waits for every thread that holds a P, the
// writer's too; in throughput runs of q18, q20 and q5 with a checkpoint a
// second, the longest pause of a run was 0.3-4.1 ms with the writer at
// nice 19 (5 runs) and 1.1-18 ms without (5 runs): no worse.
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
