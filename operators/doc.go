// Package operators is weir's implementer contract: the Source and Sink
// interfaces, the non-generic task interface the runtime drives, and the
// generic drivers and stateless kernels that adapt typed code to it.
//
// # Batches and type erasure
//
// Records travel in batches (*Batch[T]): parallel slices of values, event
// timestamps (int64 Unix milliseconds) and, after a hash exchange, key
// groups. The runtime never sees T: it moves batches as `any` holding a
// *Batch[T] (a pointer, so no allocation), and the typed code on either end
// asserts the type once per batch. Inside a batch every call is a plain typed
// function call.
//
// # Operators
//
// An Operator is one step of a chain. It receives batches, watermarks, flush
// requests and the end of input through the Output methods it implements, and
// writes its results to the Output of the next step (another operator, an
// exchange writer or a sink). A batch passed to Push belongs to the caller:
// the callee processes it during the call and must not keep it. Typed
// operators implement OneInputOperator[I, O] and are adapted with Drive,
// which also recovers panics and names the operator in every error.
//
// # Sources and sinks
//
// A Source[T] splits its input into Splits; the runtime assigns splits to
// source subtasks and opens one Reader per split. A Reader appends records to
// a batch and reports io.EOF at the end of a bounded split, and its Position
// says where a restored reader starts (checkpoints store it). A Sink[T]
// opens one Writer per subtask. Optional capabilities are small interfaces
// checked by type assertion (EndOfInput on a Writer).
//
// # Key groups
//
// A key is hashed with xxhash into one of maxParallelism key groups; key
// group kg belongs to subtask kg*p/maxParallelism. KeyGroupRangeFor gives the
// contiguous range of a subtask (the same assignment as Flink), so state can
// be redistributed by key group when parallelism changes.
package operators
