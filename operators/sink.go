package operators

import "fmt"

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

// SinkOperator returns the last step of a chain, writing into sink.
func SinkOperator[T any](sink Sink[T]) Operator { return &sinkOp[T]{sink: sink} }

type sinkOp[T any] struct {
	sink Sink[T]
	w    Writer[T]
	ctx  *Context
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
	return nil
}

func (s *sinkOp[T]) Push(batch any) (err error) {
	defer Recover(s.ctx, &err)
	b, ok := batch.(*Batch[T])
	if !ok {
		return Wrap(s.ctx, fmt.Errorf("weir: got %T, want %T", batch, b))
	}
	return Wrap(s.ctx, s.w.Write(b))
}

func (s *sinkOp[T]) Watermark(int64) error { return nil }
func (s *sinkOp[T]) Flush() error          { return nil }

func (s *sinkOp[T]) EndInput() (err error) {
	defer Recover(s.ctx, &err)
	if e, ok := s.w.(EndOfInput); ok {
		return Wrap(s.ctx, e.EndOfInput())
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
