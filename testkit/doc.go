// Package testkit lets users unit-test weir jobs deterministically.
//
//	out := testkit.Collect(counts)   // a collecting sink, safe at any parallelism
//	testkit.Run(t, job)              // the runtime's single-threaded step mode
//	got := out.Values()
//
// Run drives the real runtime (runtime.Deterministic) on the calling
// goroutine with a manual clock, so a job gives the same output, in the same
// order, every time. Collect works with runtime.Run at any parallelism too.
//
// Harness tests one KeyedProcessFunc alone: push records with event times,
// advance the watermark and processing time, and read the output and the
// pending timers, the way Flink's operator test harnesses do.
package testkit
