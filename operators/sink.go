package operators

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Sink is the contract of every output of a job.
type Sink[T any] interface {
	// Open returns the writer of one sink subtask.
	Open(ctx *Context) (Writer[T], error)
}

// Writer writes the records of one sink subtask. It is used by one
// goroutine. An error from any method fails the job.
type Writer[T any] interface {
	// Write consumes a batch; it must not keep b after returning.
	Write(b *Batch[T]) error
	// Close frees resources; it is called once, also after a failure.
	Close() error
}

// EndOfInput is an optional Writer capability: called once when a bounded
// input has been written completely, before Close.
type EndOfInput interface {
	EndOfInput() error
}

// SinkFunc adapts a function to a Sink whose writers call it per batch.
type SinkFunc[T any] func(ctx *Context, b *Batch[T]) error

// Open implements Sink.
func (f SinkFunc[T]) Open(ctx *Context) (Writer[T], error) { return funcWriter[T]{f, ctx}, nil }

type funcWriter[T any] struct {
	f   SinkFunc[T]
	ctx *Context
}

func (w funcWriter[T]) Write(b *Batch[T]) error { return w.f(w.ctx, b) }
func (w funcWriter[T]) Close() error            { return nil }

// SinkOperator returns the last step of a chain, writing into sink. For a
// TwoPhaseCommitWriter it runs the commit protocol: pre-commit at each
// barrier (the pending transactions are the operator's checkpointed
// state), commit when a checkpoint completes, commit the restored pending
// transactions on recovery, and commit the final transaction at the end of
// a bounded input when the job takes no checkpoints.
func SinkOperator[T any](sink Sink[T]) Operator { return &sinkOp[T]{sink: sink} }

type sinkOp[T any] struct {
	sink      Sink[T]
	w         Writer[T]
	tpc       TwoPhaseCommitWriter
	ctx       *Context
	pending   map[int64][]byte // pre-committed, not yet committed
	restored  [][]byte
	recovered bool
	lastID    int64 // latest regular checkpoint pre-committed
}

func (s *sinkOp[T]) Open(ctx *Context, _ Output) (err error) {
	defer Recover(ctx, &err)
	s.ctx = ctx
	if s.sink == nil {
		return Wrap(ctx, fmt.Errorf("weir/operators: nil sink"))
	}
	w, err := s.sink.Open(ctx)
	if err != nil {
		return Wrap(ctx, err)
	}
	s.w = w
	s.tpc, _ = w.(TwoPhaseCommitWriter)
	s.pending = map[int64][]byte{}
	return nil
}

// recover runs the writer's Recover once, before its first use.
func (s *sinkOp[T]) recover() error {
	if s.recovered || s.tpc == nil {
		return nil
	}
	s.recovered = true
	return Wrap(s.ctx, s.tpc.Recover(s.restored))
}

func (s *sinkOp[T]) Push(batch any) (err error) {
	defer Recover(s.ctx, &err)
	b, ok := batch.(*Batch[T])
	if !ok {
		return Wrap(s.ctx, fmt.Errorf("weir: got %T, want %T", batch, b))
	}
	if err := s.recover(); err != nil {
		return err
	}
	return Wrap(s.ctx, s.w.Write(b))
}

func (s *sinkOp[T]) Watermark(int64) error { return nil }
func (s *sinkOp[T]) Flush() error          { return nil }

func (s *sinkOp[T]) EndInput() (err error) {
	defer Recover(s.ctx, &err)
	if err := s.recover(); err != nil {
		return err
	}
	if e, ok := s.w.(EndOfInput); ok {
		if err := e.EndOfInput(); err != nil {
			return Wrap(s.ctx, err)
		}
	}
	if s.tpc != nil && !s.ctx.Checkpointing {
		h, err := s.tpc.PreCommit(FinalCheckpointID)
		if err != nil {
			return Wrap(s.ctx, err)
		}
		return Wrap(s.ctx, s.tpc.Commit(h))
	}
	return nil
}

// SnapshotState pre-commits the open transaction and returns every
// transaction not yet committed.
func (s *sinkOp[T]) SnapshotState(id int64) (_ []byte, err error) {
	if s.tpc == nil {
		return nil, nil
	}
	defer Recover(s.ctx, &err)
	if err := s.recover(); err != nil {
		return nil, err
	}
	h, err := s.tpc.PreCommit(id)
	if err != nil {
		return nil, Wrap(s.ctx, err)
	}
	s.pending[id] = h
	if id != FinalCheckpointID {
		s.lastID = id
	}
	ids := make([]int64, 0, len(s.pending))
	for pid := range s.pending {
		ids = append(ids, pid)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	all := make([][]byte, len(ids))
	for i, pid := range ids {
		all[i] = s.pending[pid]
	}
	return json.Marshal(all)
}

// RestoreState commits the transactions a restored checkpoint had
// pre-committed (Commit is idempotent); the writer then cleans up the rest
// in Recover.
func (s *sinkOp[T]) RestoreState(data []byte) (err error) {
	if s.tpc == nil || len(data) == 0 {
		return nil
	}
	defer Recover(s.ctx, &err)
	var hs [][]byte
	if err := json.Unmarshal(data, &hs); err != nil {
		return Wrap(s.ctx, fmt.Errorf("restore sink state: %w", err))
	}
	for _, h := range hs {
		if err := s.tpc.Commit(h); err != nil {
			return Wrap(s.ctx, fmt.Errorf("commit restored transaction: %w", err))
		}
	}
	s.restored = append(s.restored, hs...)
	return nil
}

// CheckpointComplete commits the transactions pre-committed at or before
// checkpoint id, and the final one once a checkpoint this subtask took no
// regular snapshot for completes (its manifest holds the final snapshot).
func (s *sinkOp[T]) CheckpointComplete(id int64) (err error) {
	if s.tpc == nil {
		return nil
	}
	defer Recover(s.ctx, &err)
	for pid, h := range s.pending {
		if (pid <= id && pid != FinalCheckpointID) || (pid == FinalCheckpointID && id > s.lastID) {
			if err := s.tpc.Commit(h); err != nil {
				return Wrap(s.ctx, err)
			}
			delete(s.pending, pid)
		}
	}
	return nil
}

func (s *sinkOp[T]) Close() (err error) {
	if s.w == nil {
		return nil
	}
	defer Recover(s.ctx, &err)
	return Wrap(s.ctx, s.w.Close())
}
