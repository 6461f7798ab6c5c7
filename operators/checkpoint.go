package operators

import (
	"math"

	"github.com/weirstream/weir/statebackend"
)

// FinalCheckpointID is the checkpoint id of the snapshot a task takes at
// the end of a bounded input (the final transaction of a sink is
// pre-committed under it, so its names are the same on every replay).
const FinalCheckpointID = math.MaxInt64

// Checkpoints. The runtime injects a barrier at every source; barriers
// travel in-band with the records (Output.Barrier is not a method: the
// runtime calls the interfaces below on every operator of a task once the
// barrier has passed the whole chain, so each operator has seen exactly the
// records before it). Keyed state in the state backend is snapshotted by
// the runtime itself; these optional interfaces cover what an operator
// keeps elsewhere.

// Snapshotter is an optional Operator capability for operator state kept
// outside the keyed state backend. SnapshotState runs on the task's
// goroutine at the barrier and must return bytes the operator no longer
// changes; RestoreState runs after Open when the job is restored.
type Snapshotter interface {
	SnapshotState(checkpointID int64) ([]byte, error)
	RestoreState(data []byte) error
}

// KeyGroupSnapshotter is an optional capability of keyed operators for
// keyed state kept outside tables (timers, indexes): it is split by key
// group so a restore at another parallelism can redistribute it.
type KeyGroupSnapshotter interface {
	// SnapshotKeyGroups returns the state of each non-empty key group in r.
	SnapshotKeyGroups(r statebackend.KeyGroupRange) (map[int][]byte, error)
	// RestoreKeyGroup loads one key group's state (after Open).
	RestoreKeyGroup(kg int, data []byte) error
}

// CheckpointListener is an optional capability of operators, sink writers
// and source readers: told when a checkpoint is complete (durable in its
// manifest) or abandoned.
type CheckpointListener interface {
	CheckpointComplete(checkpointID int64) error
}

// TwoPhaseCommitWriter is an optional Writer capability for exactly-once
// sinks. The contract:
//
//   - Write adds records to the open transaction.
//   - PreCommit(id) runs at checkpoint id's barrier: it flushes and prepares
//     the open transaction so it can be committed later, opens the next one,
//     and returns a handle naming the prepared transaction (stored in the
//     checkpoint manifest).
//   - Commit(handle) runs once the checkpoint is complete, and again on
//     recovery for every handle the restored manifest names: it must be
//     idempotent.
//   - Abort(handle) drops a prepared transaction that will not be
//     committed.
//   - Recover(committed) runs once before any Write when a job is restored:
//     committed holds the handles of the restored checkpoint (already
//     committed by the runtime through Commit); the writer aborts every
//     other transaction it left behind (the sink knows its naming scheme).
//   - At the end of a bounded input, EndOfInput (if implemented) flushes and
//     the final transaction is pre-committed as part of the final
//     checkpoint, or committed directly when checkpointing is off.
type TwoPhaseCommitWriter interface {
	PreCommit(checkpointID int64) ([]byte, error)
	Commit(handle []byte) error
	Abort(handle []byte) error
	Recover(committed [][]byte) error
}
