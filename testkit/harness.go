package testkit

import (
	"errors"
	"math"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
	"go.uber.org/zap"
)

// Harness runs one KeyedProcessFunc outside a job, like Flink's keyed
// operator test harness. It is not safe for concurrent use.
type Harness[K comparable, T, O any] struct {
	op     *stream.ProcessOperator[K, T, O]
	drv    operators.Operator
	ctx    *operators.Context
	clock  *timeapi.ManualClock
	out    collectOutput[O]
	timers procTimers
	hash   func(K) uint64
	wm     int64
	closed bool
}

// NewHarness opens fn with a fresh heap state backend owning every key
// group and a manual clock starting at Epoch.
func NewHarness[K comparable, T, O any](key func(T) K, fn stream.KeyedProcessFunc[K, T, O]) (*Harness[K, T, O], error) {
	if key == nil || fn == nil {
		return nil, stream.ErrNilFunc
	}
	h := &Harness[K, T, O]{clock: timeapi.NewManualClock(Epoch), hash: operators.HashFunc[K](), wm: timeapi.MinWatermark}
	h.timers.at = math.MaxInt64
	maxP := statebackend.DefaultMaxParallelism
	all := statebackend.KeyGroupRange{Start: 0, End: maxP}
	be, err := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "harness", KeyGroups: all, MaxParallelism: maxP})
	if err != nil {
		return nil, err
	}
	h.ctx = &operators.Context{Operator: "harness", Parallelism: 1, MaxParallelism: maxP, BatchSize: 1,
		KeyGroups: all, State: be, Clock: h.clock, Logger: zap.NewNop(), Timers: &h.timers}
	h.op = stream.NewProcessOperator(key, fn)
	h.drv = operators.Drive[T, O](h.op)
	if err := h.drv.Open(h.ctx, &h.out); err != nil {
		return nil, err
	}
	return h, nil
}

// Push processes v with event time ts.
func (h *Harness[K, T, O]) Push(v T, ts time.Time) error { return h.push(v, timeapi.Millis(ts)) }

// PushNoTime processes v without an event time.
func (h *Harness[K, T, O]) PushNoTime(v T) error { return h.push(v, timeapi.NoTimestamp) }

func (h *Harness[K, T, O]) push(v T, ts int64) error {
	if h.closed {
		return errors.New("testkit: harness closed")
	}
	b := operators.NewBatch[T](1)
	b.Append(v, ts)
	return h.drv.Push(b)
}

// AdvanceWatermark moves the watermark to wm (never back), firing the
// event-time timers it passes.
func (h *Harness[K, T, O]) AdvanceWatermark(wm time.Time) error {
	ms := timeapi.Millis(wm)
	if ms <= h.wm {
		return nil
	}
	h.wm = ms
	return h.drv.Watermark(ms)
}

// EndInput delivers the final watermark (firing every event-time timer)
// and the end of input.
func (h *Harness[K, T, O]) EndInput() error {
	h.wm = timeapi.MaxWatermark
	if err := h.drv.Watermark(timeapi.MaxWatermark); err != nil {
		return err
	}
	return h.drv.EndInput()
}

// AdvanceProcessingTime moves the manual clock by d, firing the
// processing-time timers that become due.
func (h *Harness[K, T, O]) AdvanceProcessingTime(d time.Duration) error {
	h.clock.Advance(d)
	now := timeapi.NowMillis(h.clock)
	if h.timers.at > now {
		return nil
	}
	h.timers.at = math.MaxInt64
	if err := h.drv.(operators.ProcessingTimeHandler).OnProcessingTime(now); err != nil {
		return err
	}
	return h.drv.Flush()
}

// ProcessingTime is the harness clock's time.
func (h *Harness[K, T, O]) ProcessingTime() time.Time { return h.clock.Now() }

// Output returns everything emitted so far (partial batches are flushed).
func (h *Harness[K, T, O]) Output() []Record[O] {
	_ = h.drv.Flush()
	return append([]Record[O](nil), h.out.recs...)
}

// TakeOutput returns the output emitted since the last TakeOutput.
func (h *Harness[K, T, O]) TakeOutput() []Record[O] {
	out := h.Output()
	h.out.recs = h.out.recs[:0]
	return out
}

// PendingTimers lists the pending timers of key in time order.
func (h *Harness[K, T, O]) PendingTimers(key K) []stream.Timer { return h.op.PendingTimers(key) }

// PendingTimerCount is the number of pending timers of all keys.
func (h *Harness[K, T, O]) PendingTimerCount() int { return h.op.PendingTimerCount() }

// Close closes the function and its state.
func (h *Harness[K, T, O]) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	return errors.Join(h.drv.Close(), h.ctx.State.Close())
}

type procTimers struct{ at int64 }

func (p *procTimers) CallbackAt(at int64) { p.at = min(p.at, at) }

// collectOutput is the harness's end of chain.
type collectOutput[O any] struct{ recs []Record[O] }

func (c *collectOutput[O]) Push(batch any) error {
	b := batch.(*operators.Batch[O])
	for i, v := range b.Values {
		c.recs = append(c.recs, Record[O]{Value: v, Time: b.Times[i]})
	}
	return nil
}
func (c *collectOutput[O]) Watermark(int64) error { return nil }
func (c *collectOutput[O]) Flush() error          { return nil }
func (c *collectOutput[O]) EndInput() error       { return nil }
