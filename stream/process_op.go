package stream

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/weirstream/weir/internal/keycodec"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/timeapi"
)

// ProcessOperator runs a KeyedProcessFunc: it scopes state to the key of
// each record, keeps the timers, and fires event-time timers when the
// watermark passes them and processing-time timers when the clock does.
// It is exported for testkit's harness; jobs use KeyedStream.Process.
//
// Checkpoints: keyed state lives in the state backend; the timers are
// snapshotted per key group (operators.KeyGroupSnapshotter, format in
// timers.go) and the watermark as operator state (operators.Snapshotter),
// so that a restored subtask treats the replayed records like the
// interrupted run did.
type ProcessOperator[K comparable, T, O any] struct {
	operators.Base
	fn     KeyedProcessFunc[K, T, O]
	key    func(T) K
	hash   func(K) uint64
	ctx    *operators.Context
	scope  keyScope[K]
	pctx   Context[K, O]
	timers *timerService[K]
	codec  *keycodec.Codec[K]
	wmSet  bool // a restored watermark was applied
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
	p.ctx, p.codec = ctx, keycodec.New[K]()
	p.timers = newTimerService[K](ctx.Timers)
	p.pctx = Context[K, O]{scope: &p.scope, timers: p.timers, wm: timeapi.MinWatermark, out: out, clock: ctx.Clock}
	return p.fn.Open(&OpenContext[K]{op: ctx, scope: &p.scope})
}

// ProcessBatch implements operators.OneInputOperator.
func (p *ProcessOperator[K, T, O]) ProcessBatch(in *operators.Batch[T]) error {
	p.pctx.nowSet = false
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
// order, before the watermark moves on. The watermark never goes back (a
// restored one stays until the input passes it).
func (p *ProcessOperator[K, T, O]) ProcessWatermark(wm int64) error {
	p.pctx.wm = max(p.pctx.wm, wm)
	return p.fire(EventTime, p.pctx.wm)
}

// OnProcessingTime fires the processing-time timers due at now.
func (p *ProcessOperator[K, T, O]) OnProcessingTime(now int64) error {
	return p.fire(ProcessingTime, now)
}

func (p *ProcessOperator[K, T, O]) fire(d TimeDomain, upTo int64) error {
	p.pctx.nowSet = false
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

func (p *ProcessOperator[K, T, O]) keyGroup(k K) int {
	return operators.KeyGroupOf(p.hash(k), p.ctx.MaxParallelism)
}

// SnapshotKeyGroups implements operators.KeyGroupSnapshotter: the pending
// timers of each key group of r that has any, encoded (see timers.go).
func (p *ProcessOperator[K, T, O]) SnapshotKeyGroups(r statebackend.KeyGroupRange) (map[int][]byte, error) {
	return p.timers.snapshot(r, p.codec)
}

// RestoreKeyGroup implements operators.KeyGroupSnapshotter: it registers
// the timers of key group kg again (processing-time ones ask the runtime
// for a callback; those already due fire at once).
func (p *ProcessOperator[K, T, O]) RestoreKeyGroup(kg int, data []byte) error {
	return p.timers.restore(kg, data, p.codec, p.keyGroup)
}

// watermarkFormat versions the operator state of the keyed operators.
const watermarkFormat = 1

// SnapshotState implements operators.Snapshotter: the operator's
// watermark.
func (p *ProcessOperator[K, T, O]) SnapshotState(int64) ([]byte, error) {
	return encodeWatermark(p.pctx.wm), nil
}

// RestoreState implements operators.Snapshotter. It is called once per
// subtask of the restored run; the watermark is the least of theirs.
func (p *ProcessOperator[K, T, O]) RestoreState(data []byte) error {
	wm, err := decodeWatermark(data)
	if err != nil {
		return err
	}
	if !p.wmSet || wm < p.pctx.wm {
		p.pctx.wm, p.wmSet = wm, true
	}
	return nil
}

func encodeWatermark(wm int64) []byte {
	return binary.AppendVarint([]byte{watermarkFormat}, wm)
}

func decodeWatermark(data []byte) (int64, error) {
	r := keycodec.NewReader(data)
	if v := r.Byte(); r.Err() == nil && v != watermarkFormat {
		return 0, fmt.Errorf("weir/stream: restore watermark: format %d, want %d", v, watermarkFormat)
	}
	wm := r.Varint()
	if r.Err() == nil && len(r.Rest()) != 0 {
		return 0, fmt.Errorf("weir/stream: restore watermark: %w: %d trailing bytes", keycodec.ErrCorrupt, len(r.Rest()))
	}
	if r.Err() != nil {
		return 0, fmt.Errorf("weir/stream: restore watermark: %w", r.Err())
	}
	return wm, nil
}
