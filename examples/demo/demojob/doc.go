// Package demojob is the job behind `make demo`, `go run ./examples/demo`
// and `weir demo`: a bounded generator of purchase events, filtered,
// mapped, keyed by user and summed with a rolling Reduce, into a sink that
// keeps the last total of every user.
//
//	FromGenerator(events) -> Filter(amount > 0) -> Map(to Spend)
//	    -> KeyBy(user) -> Reduce(sum) -> summary sink
//
// After the run it prints a summary (events, distinct keys, top users,
// elapsed time, throughput, parallelism) and cross-checks every user's total
// against a plain Go loop over the same events. Events are derived from
// their id alone, so the job and the loop see the same input at any
// parallelism.
package demojob
