package stream

import "github.com/weirstream/weir/operators"

// Transform adds a custom operator fed by s through a forward edge (like
// Flink's DataStream.transform): newOp is called once per subtask and
// returns the operator of that subtask, written against the implementer
// contract of package operators. It sees whole batches, the watermark
// (ProcessWatermark runs before the watermark moves on) and, if it
// implements operators.ProcessingTimeHandler, the processing-time
// callbacks it asks for through Context.Timers.
//
// The operator is not keyed: it has no keyed state and runs in the chain
// of s, so records do not cross an exchange. That makes it the place for
// per-subtask work such as the local phase of a two-phase aggregation.
// State it keeps must be checkpointed through operators.Snapshotter (it
// is restored by calling RestoreState with the state of every subtask of
// the checkpointed run, on every subtask of the restored one).
func (s DataStream[T]) Transform[O any](name string, newOp func() operators.OneInputOperator[T, O]) DataStream[O] {
	if newOp == nil {
		s.job.addErr("%w: Transform %q after %q", ErrNilFunc, name, s.n.name)
	}
	out := then[T, O](s, "Transform", func() operators.Operator { return operators.Drive(newOp()) })
	if name != "" {
		out.n.name = name
	}
	return out
}
