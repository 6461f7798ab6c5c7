package operators

import (
	"errors"
	"fmt"
	"runtime/debug"

	"go.uber.org/zap"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
)

// Output receives what an upstream step produces. The runtime, operators,
// exchange writers and sinks all implement it, so a chain is a list of
// Outputs. All methods are called by the task's goroutine only.
type Output interface {
	// Push hands over a batch (a *Batch[T] for the stream's T). The batch
	// belongs to the caller: the callee must not keep it after returning.
	Push(batch any) error
	// Watermark says no record with an event time <= wm follows.
	Watermark(wm int64) error
	// Flush asks buffered records to move on (the worker is about to idle
	// or a control event follows).
	Flush() error
	// EndInput says the input is complete; nothing follows.
	EndInput() error
}

// Operator is one step of a chain as the runtime sees it: an Output that is
// opened with the Output of the next step and closed at the end.
type Operator interface {
	Output
	// Open prepares the operator; out is the next step.
	Open(ctx *Context, out Output) error
	// Close frees resources. It is called once, also after a failure.
	Close() error
}

// ProcessingTimeHandler is implemented by operators that asked for a
// processing-time callback through Context.Timers.
type ProcessingTimeHandler interface {
	OnProcessingTime(now int64) error
}

// TimerService lets an operator ask for a processing-time callback.
type TimerService interface {
	// CallbackAt asks for OnProcessingTime to be called once processing
	// time reaches at (Unix ms). Only the earliest pending request counts:
	// the operator asks again from its callback.
	CallbackAt(at int64)
}

// Context describes the subtask an operator runs in.
type Context struct {
	Operator       string
	Subtask        int
	Parallelism    int
	MaxParallelism int
	BatchSize      int
	// KeyGroups and State are set for keyed operators only.
	KeyGroups statebackend.KeyGroupRange
	State     statebackend.Backend
	Clock     timeapi.Clock
	Logger    *zap.Logger
	Timers    TimerService
	// Checkpointing is true when the job takes checkpoints: exactly-once
	// sinks then commit when a checkpoint completes, else at the end.
	Checkpointing bool
}

// OperatorError is the error of a step, naming it.
type OperatorError struct {
	Operator string
	Subtask  int
	Err      error
}

func (e *OperatorError) Error() string {
	return fmt.Sprintf("weir: operator %q (subtask %d): %v", e.Operator, e.Subtask, e.Err)
}

func (e *OperatorError) Unwrap() error { return e.Err }

// ErrPanic marks an error made from a recovered panic.
var ErrPanic = errors.New("panic")

// Wrap names the operator of ctx in err; an error that already names an
// operator is returned as it is, so the innermost operator is reported.
func Wrap(ctx *Context, err error) error {
	if err == nil {
		return nil
	}
	var oe *OperatorError
	if errors.As(err, &oe) {
		return err
	}
	return &OperatorError{Operator: ctx.Operator, Subtask: ctx.Subtask, Err: err}
}

// Recover turns a panic into an error naming the operator of ctx. Use it as
// `defer operators.Recover(ctx, &err)`.
func Recover(ctx *Context, err *error) {
	if r := recover(); r != nil {
		*err = &OperatorError{Operator: ctx.Operator, Subtask: ctx.Subtask,
			Err: fmt.Errorf("%w: %v\n%s", ErrPanic, r, debug.Stack())}
	}
}

// OneInputOperator is a typed operator with one input. The driver (Drive)
// does the type assertion once per batch and forwards watermarks, flushes
// and the end of input after the operator has handled them.
type OneInputOperator[I, O any] interface {
	// Open prepares the operator; it emits its results through out.
	Open(ctx *Context, out *Emitter[O]) error
	ProcessBatch(in *Batch[I]) error
	// ProcessWatermark runs before the watermark moves downstream (fire
	// timers here). End of input first delivers timeapi.MaxWatermark.
	ProcessWatermark(wm int64) error
	// EndInput runs after the last batch and watermark.
	EndInput() error
	Close() error
}

// Drive adapts a typed operator to the Operator interface. The checkpoint
// capabilities of op (Snapshotter, KeyGroupSnapshotter,
// CheckpointListener) stay visible to the runtime through the adapter.
func Drive[I, O any](op OneInputOperator[I, O]) Operator {
	d := &driver[I, O]{op: op}
	ks, _ := any(op).(KeyGroupSnapshotter)
	sn, _ := any(op).(Snapshotter)
	cl, _ := any(op).(CheckpointListener)
	if ks == nil && sn == nil && cl == nil {
		return d
	}
	return &ckptDriver[I, O]{driver: d, ks: ks, sn: sn, cl: cl}
}

// ckptDriver is a driver whose operator keeps state outside the keyed
// state backend; capabilities the operator lacks are no-ops.
type ckptDriver[I, O any] struct {
	*driver[I, O]
	ks KeyGroupSnapshotter
	sn Snapshotter
	cl CheckpointListener
}

func (d *ckptDriver[I, O]) SnapshotKeyGroups(r statebackend.KeyGroupRange) (_ map[int][]byte, err error) {
	if d.ks == nil {
		return nil, nil
	}
	defer Recover(d.ctx, &err)
	return d.ks.SnapshotKeyGroups(r)
}

func (d *ckptDriver[I, O]) RestoreKeyGroup(kg int, data []byte) (err error) {
	if d.ks == nil {
		return nil
	}
	defer Recover(d.ctx, &err)
	return Wrap(d.ctx, d.ks.RestoreKeyGroup(kg, data))
}

func (d *ckptDriver[I, O]) SnapshotState(id int64) (_ []byte, err error) {
	if d.sn == nil {
		return nil, nil
	}
	defer Recover(d.ctx, &err)
	return d.sn.SnapshotState(id)
}

func (d *ckptDriver[I, O]) RestoreState(data []byte) (err error) {
	if d.sn == nil || data == nil {
		return nil
	}
	defer Recover(d.ctx, &err)
	return Wrap(d.ctx, d.sn.RestoreState(data))
}

func (d *ckptDriver[I, O]) CheckpointComplete(id int64) (err error) {
	if d.cl == nil {
		return nil
	}
	defer Recover(d.ctx, &err)
	return Wrap(d.ctx, d.cl.CheckpointComplete(id))
}

type driver[I, O any] struct {
	op  OneInputOperator[I, O]
	ctx *Context
	out *Emitter[O]
}

func (d *driver[I, O]) Open(ctx *Context, out Output) (err error) {
	defer Recover(ctx, &err)
	d.ctx = ctx
	d.out = NewEmitter[O](out, ctx.BatchSize)
	return Wrap(ctx, d.op.Open(ctx, d.out))
}

func (d *driver[I, O]) Push(batch any) (err error) {
	defer Recover(d.ctx, &err)
	b, ok := batch.(*Batch[I])
	if !ok {
		return Wrap(d.ctx, fmt.Errorf("weir: got %T, want %T", batch, b))
	}
	if err := d.op.ProcessBatch(b); err != nil {
		return Wrap(d.ctx, err)
	}
	return d.out.Err()
}

func (d *driver[I, O]) Watermark(wm int64) (err error) {
	defer Recover(d.ctx, &err)
	if err := d.op.ProcessWatermark(wm); err != nil {
		return Wrap(d.ctx, err)
	}
	if err := d.out.Flush(); err != nil {
		return err
	}
	return d.out.Output().Watermark(wm)
}

func (d *driver[I, O]) Flush() error {
	if err := d.out.Flush(); err != nil {
		return err
	}
	return d.out.Output().Flush()
}

func (d *driver[I, O]) EndInput() (err error) {
	defer Recover(d.ctx, &err)
	if err := d.op.EndInput(); err != nil {
		return Wrap(d.ctx, err)
	}
	if err := d.out.Flush(); err != nil {
		return err
	}
	return d.out.Output().EndInput()
}

func (d *driver[I, O]) Close() (err error) {
	defer Recover(d.ctx, &err)
	return Wrap(d.ctx, d.op.Close())
}

// OnProcessingTime forwards a processing-time callback to the typed
// operator when it handles them.
func (d *driver[I, O]) OnProcessingTime(now int64) (err error) {
	h, ok := d.op.(ProcessingTimeHandler)
	if !ok {
		return nil
	}
	defer Recover(d.ctx, &err)
	if err := h.OnProcessingTime(now); err != nil {
		return Wrap(d.ctx, err)
	}
	return d.out.Err()
}

// Base gives a typed operator no-op ProcessWatermark, EndInput and Close.
type Base struct{}

// ProcessWatermark does nothing.
func (Base) ProcessWatermark(int64) error { return nil }

// EndInput does nothing.
func (Base) EndInput() error { return nil }

// Close does nothing.
func (Base) Close() error { return nil }
