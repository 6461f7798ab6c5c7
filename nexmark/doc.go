// Package nexmark holds the Nexmark benchmark queries as weir jobs over the
// event stream of the connectors/nexmark generator. The queries follow the
// Flink nexmark suite (the same numbering, semantics and output columns);
// where Flink's SQL emits an updating result, the job here emits the
// same final values (see each query's doc comment).
//
// Every query is registered (Register, Spec) with:
//   - the job, a function from the event stream to its result stream, so it
//     can be run by runtime.Run, testkit.Run or `weir nexmark`;
//   - a hand-written single-goroutine implementation over the same events,
//     which the tests compare results with and `weir nexmark --baseline`
//     and BenchmarkQuery compare speed with;
//   - how to format, compare and time its results.
//
// Queries lists them; Lookup finds one by name ("q5"). The event types are
// re-exported here as aliases.
package nexmark
