package windowing

import (
	"encoding/binary"
	"fmt"

	"github.com/weirstream/weir/internal/keycodec"
	"github.com/weirstream/weir/internal/timerq"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
)

// Checkpoints. Panes, sessions and emitted rows live in the state backend
// and are checkpointed with it. What the operator keeps in memory is
// checkpointed here: the timers and the panes or sessions waiting for the
// next periodic emission (EmitPolicy Every) per key group
// (operators.KeyGroupSnapshotter), and the watermark and the due time of
// the next periodic emission as operator state (operators.Snapshotter), so
// that a restored subtask fires, frees, emits and treats late elements
// like the interrupted run.
//
// The state of one key group, written by SnapshotKeyGroups for each key
// group that has timers or dirty entries:
//
//	version  byte (checkpointFormat)
//	n        uvarint, the number of timers
//	n times  time   varint, minus the previous timer's time (the first: minus 0)
//	         aux    varint, minus the time
//	         flags  byte, 1 for a cleanup timer
//	m        uvarint, the number of dirty panes or sessions
//	m times  start  varint, the pane's or session's start
//	keys     the n+m keys in that order, by internal/keycodec: plain binary
//	         for integer, float, bool and string kinds and arrays and
//	         structs of them, else one encoding/gob stream (K must then be
//	         gob-encodable)
//
// Timers are in firing order (by time; one time's timers in the order
// they were registered), and dirty entries in the order they changed.
const checkpointFormat = 1

// watermarkFormat versions the operator state (the watermark).
const watermarkFormat = 1

// timedTimer is a timer with its time, as a snapshot lists them.
type timedTimer[K comparable] struct {
	t  int64
	tm timer[K]
}

// kgState is what a snapshot collects for one key group.
type kgState[K comparable] struct {
	timers []timedTimer[K]
	dirty  []dirtyRef[K]
}

// SnapshotKeyGroups implements operators.KeyGroupSnapshotter. The bytes
// share no memory with the operator.
func (o *Operator[K, T, A, R, O]) SnapshotKeyGroups(r statebackend.KeyGroupRange) (map[int][]byte, error) {
	o.syncState()
	// per key group of r, by index; every key group's timers in time
	// order, and within a time in registration order, as encodeGroup
	// writes them
	timers := timerq.PerKeyGroup([]*timerq.Queue[timer[K], struct{}]{&o.timers.Queue}, r.Start, r.Len(),
		func(_ int, t int64, b *bucket[K], add func(int, timedTimer[K])) {
			for _, c := range b.Timers.Chunks() {
				for _, tm := range c {
					add(int(tm.kg), timedTimer[K]{t: t, tm: tm})
				}
			}
		})
	groups := make([]kgState[K], r.Len())
	for i := range groups {
		groups[i].timers = timers[i]
	}
	for _, d := range o.dirty {
		if r.Contains(int(d.kg)) {
			g := &groups[int(d.kg)-r.Start]
			g.dirty = append(g.dirty, d)
		}
	}
	out := map[int][]byte{}
	for i := range groups {
		g, kg := &groups[i], r.Start+i
		if len(g.timers) == 0 && len(g.dirty) == 0 {
			continue
		}
		b, err := o.encodeGroup(g)
		if err != nil {
			return nil, fmt.Errorf("weir/windowing: snapshot key group %d: %w", kg, err)
		}
		out[kg] = b
	}
	return out, nil
}

func (o *Operator[K, T, A, R, O]) encodeGroup(g *kgState[K]) ([]byte, error) {
	// g.timers are in time order, and within a time in registration order
	// (SnapshotKeyGroups); a stable sort of them, O(n log² n) without a
	// buffer, took 40 ms of the task at a checkpoint of q11.
	b := append(make([]byte, 0, 8+12*(len(g.timers)+len(g.dirty))), checkpointFormat)
	b = binary.AppendUvarint(b, uint64(len(g.timers)))
	keys := make([]K, 0, len(g.timers)+len(g.dirty))
	prev := int64(0)
	for _, e := range g.timers {
		b = binary.AppendVarint(b, e.t-prev) // wraps, and so does the sum on restore
		b = binary.AppendVarint(b, e.tm.aux-e.t)
		var flags byte
		if e.tm.cleanup {
			flags = 1
		}
		b = append(b, flags)
		prev = e.t
		keys = append(keys, e.tm.key)
	}
	b = binary.AppendUvarint(b, uint64(len(g.dirty)))
	for _, d := range g.dirty {
		b = binary.AppendVarint(b, d.at)
		keys = append(keys, d.key)
	}
	return o.codec.Append(b, keys)
}

// RestoreKeyGroup implements operators.KeyGroupSnapshotter: it registers
// the timers of key group kg again and schedules the periodic emission of
// its dirty panes or sessions.
func (o *Operator[K, T, A, R, O]) RestoreKeyGroup(kg int, data []byte) error {
	o.useSpans = false // restored panes are not in the spans
	timers, dirty, err := o.decodeGroup(kg, data)
	if err != nil {
		return fmt.Errorf("weir/windowing: restore key group %d: %w", kg, err)
	}
	for _, e := range timers {
		o.timers.add(e.t, e.tm)
	}
	for _, d := range dirty {
		o.markDirty(d.kg, d.key, d.at)
	}
	return nil
}

func (o *Operator[K, T, A, R, O]) decodeGroup(kg int, data []byte) ([]timedTimer[K], []dirtyRef[K], error) {
	r := keycodec.NewReader(data)
	if v := r.Byte(); r.Err() == nil && v != checkpointFormat {
		return nil, nil, fmt.Errorf("format %d, want %d", v, checkpointFormat)
	}
	timers := make([]timedTimer[K], r.Count(3)) // a timer takes at least 3 bytes
	prev := int64(0)
	for i := range timers {
		prev += r.Varint()
		e := timedTimer[K]{t: prev, tm: timer[K]{kg: uint16(kg)}}
		e.tm.aux = e.t + r.Varint()
		switch r.Byte() {
		case 0:
		case 1:
			e.tm.cleanup = true
		default:
			return nil, nil, fmt.Errorf("%w: timer flags", keycodec.ErrCorrupt)
		}
		timers[i] = e
	}
	dirty := make([]dirtyRef[K], r.Count(1))
	for i := range dirty {
		dirty[i] = dirtyRef[K]{at: r.Varint(), kg: uint16(kg)}
	}
	if r.Err() != nil {
		return nil, nil, r.Err()
	}
	keys, err := o.codec.Decode(r.Rest(), len(timers)+len(dirty))
	if err != nil {
		return nil, nil, err
	}
	for i, k := range keys {
		if got := operators.KeyGroupOf(o.hash(k), o.ctx.MaxParallelism); got != kg {
			return nil, nil, fmt.Errorf("key %v belongs to key group %d (did its hash change?)", k, got)
		}
		if i < len(timers) {
			timers[i].tm.key = k
		} else {
			dirty[i-len(timers)].key = k
		}
	}
	return timers, dirty, nil
}

// SnapshotState implements operators.Snapshotter: the watermark and the
// due time of the next periodic emission (EmitPolicy Every; 0 if none),
// as varints after a version byte.
func (o *Operator[K, T, A, R, O]) SnapshotState(int64) ([]byte, error) {
	b := binary.AppendVarint([]byte{watermarkFormat}, o.wm)
	return binary.AppendVarint(b, o.tickAt), nil
}

// RestoreState implements operators.Snapshotter. It is called once per
// subtask of the restored run, after RestoreKeyGroup: the watermark is the
// least of theirs (elements at or before it are late, as they were in the
// restored run), and restored dirty panes or sessions are emitted when the
// earliest restored periodic emission was due (at once if it has passed).
func (o *Operator[K, T, A, R, O]) RestoreState(data []byte) error {
	o.useSpans = false // restored panes are not in the spans
	r := keycodec.NewReader(data)
	if v := r.Byte(); r.Err() == nil && v != watermarkFormat {
		return fmt.Errorf("weir/windowing: restore watermark: format %d, want %d", v, watermarkFormat)
	}
	wm, tick := r.Varint(), r.Varint()
	if r.Err() == nil && len(r.Rest()) != 0 {
		return fmt.Errorf("weir/windowing: restore watermark: %w: %d trailing bytes", keycodec.ErrCorrupt, len(r.Rest()))
	}
	if r.Err() != nil {
		return fmt.Errorf("weir/windowing: restore watermark: %w", r.Err())
	}
	if !o.wmSet || wm < o.wm {
		o.wm, o.wmSet = wm, true
	}
	if o.proc {
		o.gatherEnds()
		o.armFire() // windows that ended meanwhile fire at once
	}
	if tick != 0 && len(o.dirty) > 0 && (o.tickAt == 0 || tick < o.tickAt) {
		o.tickAt = tick
		if o.ctx.Timers != nil {
			o.ctx.Timers.CallbackAt(tick)
		}
	}
	return nil
}
