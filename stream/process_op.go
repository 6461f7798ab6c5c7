package stream

import (
	"errors"
	"fmt"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/timeapi"
)

// ProcessOperator runs a KeyedProcessFunc: it scopes state to the key of
// each record, keeps the timers, and fires event-time timers when the
// watermark passes them and processing-time timers when the clock does.
// It is exported for testkit's harness; jobs use KeyedStream.Process.
type ProcessOperator[K comparable, T, O any] struct {
	operators.Base
	fn     KeyedProcessFunc[K, T, O]
	key    func(T) K
	hash   func(K) uint64
	ctx    *operators.Context
	scope  keyScope[K]
	pctx   Context[K, O]
	timers *timerService[K]
}

// NewProcessOperator returns the operator of KeyedStream.Process.
func NewProcessOperator[K comparable, T, O any](key func(T) K, fn KeyedProcessFunc[K, T, O]) *ProcessOperator[K, T, O] {
	return &ProcessOperator[K, T, O]{fn: fn, key: key, hash: operators.HashFunc[K]()}
}

// Open implements operators.OneInputOperator.
func (p *ProcessOperator[K, T, O]) Open(ctx *operators.Context, out *operators.Emitter[O]) error {
	if p.fn == nil || p.key == nil {
		return ErrNilFunc
	}
	if ctx.State == nil {
		return errors.New("weir/stream: keyed operator without state backend")
	}
	p.ctx = ctx
	p.timers = newTimerService[K](ctx.Timers)
	p.pctx = Context[K, O]{scope: &p.scope, timers: p.timers, wm: timeapi.MinWatermark, out: out, clock: ctx.Clock}
	return p.fn.Open(&OpenContext[K]{op: ctx, scope: &p.scope})
}

// ProcessBatch implements operators.OneInputOperator.
func (p *ProcessOperator[K, T, O]) ProcessBatch(in *operators.Batch[T]) error {
	for i, v := range in.Values {
		p.scope.key = p.key(v)
		if in.KeyGroups != nil {
			p.scope.kg = int(in.KeyGroups[i])
		} else {
			p.scope.kg = operators.KeyGroupOf(p.hash(p.scope.key), p.ctx.MaxParallelism)
		}
		p.pctx.ts = in.Times[i]
		if err := p.fn.ProcessElement(&p.pctx, v); err != nil {
			return err
		}
	}
	return p.pctx.out.Err()
}

// ProcessWatermark fires the event-time timers at or before wm, in time
// order, before the watermark moves on.
func (p *ProcessOperator[K, T, O]) ProcessWatermark(wm int64) error {
	p.pctx.wm = wm
	return p.fire(EventTime, wm)
}

// OnProcessingTime fires the processing-time timers due at now.
func (p *ProcessOperator[K, T, O]) OnProcessingTime(now int64) error {
	return p.fire(ProcessingTime, now)
}

func (p *ProcessOperator[K, T, O]) fire(d TimeDomain, upTo int64) error {
	for {
		e, ok := p.timers.pop(d, upTo)
		if !ok {
			return p.pctx.out.Err()
		}
		p.scope.key, p.scope.kg = e.key, e.kg
		p.pctx.ts = e.at
		if err := p.fn.OnTimer(&p.pctx, Timer{Time: timeapi.Time(e.at), Domain: d}); err != nil {
			return fmt.Errorf("timer at %s: %w", timeapi.FormatWatermark(e.at), err)
		}
	}
}

// PendingTimers lists the pending timers of key, in time order.
func (p *ProcessOperator[K, T, O]) PendingTimers(key K) []Timer {
	return p.timers.pending(key)
}

// PendingTimerCount is the number of pending timers of all keys.
func (p *ProcessOperator[K, T, O]) PendingTimerCount() int { return p.timers.len() }
