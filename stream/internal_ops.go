package stream

import (
	"fmt"
	"slices"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/timeapi"
)

// passOp forwards everything (the merge point of a Union).
type passOp struct{ out operators.Output }

func (p *passOp) Open(_ *operators.Context, out operators.Output) error { p.out = out; return nil }
func (p *passOp) Push(b any) error                                      { return p.out.Push(b) }
func (p *passOp) Watermark(wm int64) error                              { return p.out.Watermark(wm) }
func (p *passOp) Flush() error                                          { return p.out.Flush() }
func (p *passOp) EndInput() error                                       { return p.out.EndInput() }
func (p *passOp) Close() error                                          { return nil }

// watermarkOp stamps event times and generates watermarks inside a stream
// (WithWatermarks after a transformation). Upstream watermarks are dropped,
// except the final one of a bounded input.
type watermarkOp[T any] struct {
	ws  timeapi.WatermarkStrategy[T]
	gen *timeapi.Generator[T]
	ctx *operators.Context
	out operators.Output
	wm  int64
}

func (w *watermarkOp[T]) Open(ctx *operators.Context, out operators.Output) error {
	w.ctx, w.out, w.gen, w.wm = ctx, out, w.ws.NewGenerator(), timeapi.MinWatermark
	return nil
}

func (w *watermarkOp[T]) Push(batch any) (err error) {
	defer operators.Recover(w.ctx, &err)
	b, ok := batch.(*operators.Batch[T])
	if !ok {
		return operators.Wrap(w.ctx, fmt.Errorf("weir: got %T, want %T", batch, b))
	}
	if w.gen.Native() && (!w.gen.Extracts() || !slices.Contains(b.Times, timeapi.NoTimestamp)) {
		w.gen.StampRecorded(b.Times, timeapi.NowMillis(w.ctx.Clock)) // the records carry their times
	} else {
		w.gen.Stamp(b.Values, b.Times, timeapi.NowMillis(w.ctx.Clock))
	}
	if err := w.out.Push(b); err != nil {
		return err
	}
	if wm := w.gen.Watermark(); wm > w.wm {
		w.wm = wm
		return w.out.Watermark(wm)
	}
	return nil
}

func (w *watermarkOp[T]) Watermark(wm int64) error {
	if wm == timeapi.MaxWatermark && w.wm < wm {
		w.wm = wm
		return w.out.Watermark(wm)
	}
	return nil
}

func (w *watermarkOp[T]) Flush() error    { return w.out.Flush() }
func (w *watermarkOp[T]) EndInput() error { return w.out.EndInput() }
func (w *watermarkOp[T]) Close() error    { return nil }
