package runtime

import (
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
)

// member is one vertex of a task's chain, as checkpoints see it.
type member struct {
	name  string
	ctx   *operators.Context
	op    operators.Operator // nil for a source
	state statebackend.Backend
}

// requestBarrier asks a source task to inject barrier id (any goroutine).
func (t *task) requestBarrier(id int64) {
	raiseTo(&t.barrierReq, id)
	t.worker.wake()
}

// raiseTo sets a to v unless it already holds more.
func raiseTo(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

// checkpointDone records that checkpoint id is complete (any goroutine).
func (t *task) checkpointDone(id int64, final bool) {
	raiseTo(&t.doneID, id)
	if final {
		t.finalDone.Store(true)
	}
	t.worker.wake()
}

// hasRequests reports whether a barrier or a completion waits for the task.
func (t *task) hasRequests() bool {
	return (t.source != nil && !t.ended && t.barrierReq.Load() > t.injected) || t.doneID.Load() > t.notified ||
		(t.ended && t.finalDone.Load() && t.notified < t.doneID.Load())
}

// notifyComplete tells the chain's listeners about a completed checkpoint.
func (t *task) notifyComplete() (bool, error) {
	id := t.doneID.Load()
	if id <= t.notified {
		return false, nil
	}
	t.notified = id
	for _, m := range t.members {
		if l, ok := m.op.(operators.CheckpointListener); ok {
			if err := l.CheckpointComplete(id); err != nil {
				return true, operators.Wrap(m.ctx, err)
			}
		}
	}
	if l, ok := t.source.(operators.CheckpointListener); ok {
		if err := l.CheckpointComplete(id); err != nil {
			return true, err
		}
	}
	return true, nil
}

// tryAlign completes the alignment of the current barrier once every input
// has delivered it or ended: the task snapshots and forwards the barrier.
func (t *task) tryAlign() error {
	if t.aligning == 0 {
		return nil
	}
	for _, c := range t.inputs {
		if !c.blocked && !c.finished {
			return nil
		}
	}
	id := t.aligning
	t.aligning = 0
	for _, c := range t.inputs {
		c.blocked = false
	}
	return t.checkpoint(id)
}

// checkpoint takes the task's snapshot for barrier id and sends the
// barrier on: the chain is flushed first so everything before the barrier
// has left; the state is captured as cheap copy-on-write views and written
// by the checkpointer in the background.
func (t *task) checkpoint(id int64) error {
	start := time.Now()
	if !t.ended {
		if err := t.head.Flush(); err != nil {
			return err
		}
		t.dirty = false
	}
	snap, err := t.snapshot(id, false)
	if err != nil {
		return err
	}
	for _, o := range t.outs {
		o.barrier(id)
	}
	t.ckpt.recordPause(time.Since(start))
	t.ckpt.submit(id, snap)
	return nil
}

// finalSnapshot is taken when the task has handed on its end of input; it
// stands for the task in every later checkpoint.
func (t *task) finalSnapshot() error {
	snap, err := t.snapshot(operators.FinalCheckpointID, true)
	if err != nil {
		return err
	}
	t.ckpt.submit(0, snap)
	return nil
}

func (t *task) snapshot(id int64, final bool) (*taskSnap, error) {
	s := &taskSnap{task: t, final: final}
	for _, m := range t.members {
		o := opSnap{vertex: m.name, subtask: m.ctx.Subtask, par: m.ctx.Parallelism}
		if m.state != nil {
			v, err := m.state.Snapshot(m.ctx.KeyGroups)
			if err != nil {
				return nil, operators.Wrap(m.ctx, err)
			}
			o.view = v
		}
		if err := snapshotOp(m, id, &o); err != nil {
			return nil, err
		}
		if m.op == nil && t.source != nil {
			pos, err := t.source.Positions()
			if err != nil {
				return nil, err
			}
			o.positions = pos
		}
		s.ops = append(s.ops, o)
	}
	return s, nil
}

func snapshotOp(m member, id int64, o *opSnap) error {
	if ks, ok := m.op.(operators.KeyGroupSnapshotter); ok {
		st, err := ks.SnapshotKeyGroups(m.ctx.KeyGroups)
		if err != nil {
			return operators.Wrap(m.ctx, err)
		}
		o.kgState = st
	}
	if sn, ok := m.op.(operators.Snapshotter); ok {
		st, err := sn.SnapshotState(id)
		if err != nil {
			return operators.Wrap(m.ctx, err)
		}
		o.opState, o.hasState = st, true
	}
	return nil
}
