package nexmark

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"errors"
	"fmt"
	"slices"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

// Helpers of the windowed queries (q5, q7, q8, q11, q12).

// winStart is the start of the epoch-aligned window of length size
// (Unix ms) holding ts.
func winStart(ts, size int64) int64 {
	r := ts % size
	if r < 0 {
		r += size
	}
	return ts - r
}

// winTime renders a window bound for Format.
func winTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000") }

// winMillis renders a window bound given in Unix ms.
func winMillis(ms int64) string { return winTime(timeapi.Time(ms)) }

// winEvents calls f for events in order, with each event's time in Unix
// ms. The event is reused: f must copy what it keeps. The hand-written
// loops read their events through it, so tests can run them on hand-made
// events.
type winEvents func(f func(e *Event, ts int64))

// winGen is events 0..n-1 of src.
func winGen(src *gen.Source, n int64) winEvents {
	return func(f func(e *Event, ts int64)) {
		var e Event
		for i := range n {
			ts := src.Fill(i, &e)
			f(&e, ts)
		}
	}
}

// Two-phase "top of each window" (q5, q7): every subtask keeps, per
// window, the highest score it has seen and the items that have it
// (winTopLocal, a Transform: no exchange), and emits them as a winTop
// when the watermark passes the window's end; winTopGlobal, keyed by
// window end, merges the subtasks' winTops and emits the items at the
// global maximum (all ties) when the watermark passes the end.

// winTop is the items with the highest score of one window, or of one
// subtask's share of it. Items is only appended to or replaced: the
// global phase keeps it in state, whose snapshots share memory with it.
type winTop[R any] struct {
	End   int64 // window end, Unix ms
	Score int64
	Items []R
}

// better reports whether score goes in: on top (replacing the items) or
// tied with it.
func (t *winTop[R]) better(score int64) (replace, tie bool) {
	switch {
	case len(t.Items) == 0 || score > t.Score:
		return true, false
	case score == t.Score:
		return false, true
	}
	return false, false
}

// merge folds o, of the same window, into t. t may share o's items
// afterwards (up to their length: appending copies).
func (t *winTop[R]) merge(o *winTop[R]) {
	if len(o.Items) == 0 {
		return
	}
	switch replace, tie := t.better(o.Score); {
	case replace:
		t.Score, t.Items = o.Score, o.Items[:len(o.Items):len(o.Items)]
	case tie:
		t.Items = append(t.Items, o.Items...)
	}
}

// winTopLocal is the local phase. score returns the window end and score
// of a record, ok false to skip it; item projects a record that makes the
// top. The open windows are kept in order of their end (one or two are
// open at a time with ordered input).
//
// Checkpoints: the open windows are the operator's state
// (operators.Snapshotter). A restore hands every subtask the states of
// all old subtasks; the first subtask takes them and the others ignore
// them, so each item is emitted once. Items must be gob-encodable.
type winTopLocal[T, R any] struct {
	operators.Base
	score   func(v *T, ts int64) (end, score int64, ok bool)
	item    func(v *T) R
	out     *operators.Emitter[winTop[R]]
	subtask int
	open    []winTop[R]
}

func (l *winTopLocal[T, R]) Open(ctx *operators.Context, out *operators.Emitter[winTop[R]]) error {
	l.out, l.subtask = out, ctx.Subtask
	return nil
}

func (l *winTopLocal[T, R]) ProcessBatch(in *operators.Batch[T]) error {
	for i := range in.Values {
		v := &in.Values[i]
		end, score, ok := l.score(v, in.Times[i])
		if !ok {
			continue
		}
		t := l.window(end)
		switch replace, tie := t.better(score); {
		case replace:
			// a fresh slice: the old one may have been emitted
			t.Score, t.Items = score, append(t.Items[:0:0], l.item(v))
		case tie:
			t.Items = append(t.Items, l.item(v))
		}
	}
	return nil
}

// window returns the open window ending at end, opening it if needed.
func (l *winTopLocal[T, R]) window(end int64) *winTop[R] {
	if n := len(l.open); n > 0 && l.open[n-1].End == end {
		return &l.open[n-1]
	}
	i, found := slices.BinarySearchFunc(l.open, end, func(t winTop[R], end int64) int { return cmp.Compare(t.End, end) })
	if !found {
		l.open = slices.Insert(l.open, i, winTop[R]{End: end})
	}
	return &l.open[i]
}

// ProcessWatermark emits the windows whose end the watermark passed.
func (l *winTopLocal[T, R]) ProcessWatermark(wm int64) error {
	n := 0
	for n < len(l.open) && l.open[n].End-1 <= wm {
		l.out.Emit(l.open[n], l.open[n].End-1)
		n++
	}
	l.closed(n)
	return nil
}

// closed drops the first n open windows, which were emitted.
func (l *winTopLocal[T, R]) closed(n int) {
	if n > 0 {
		// the emitted items belong downstream now
		rest := copy(l.open, l.open[n:])
		clear(l.open[rest:])
		l.open = l.open[:rest]
	}
}

// SnapshotState implements operators.Snapshotter.
func (l *winTopLocal[T, R]) SnapshotState(int64) ([]byte, error) {
	return winEncode(l.open)
}

// RestoreState implements operators.Snapshotter.
func (l *winTopLocal[T, R]) RestoreState(data []byte) error {
	var open []winTop[R]
	if err := winDecode(data, &open); err != nil || l.subtask != 0 {
		return err
	}
	for i := range open {
		l.window(open[i].End).merge(&open[i])
	}
	return nil
}

// winTopGlobal is the global phase, keyed by window end: out makes a
// result of an item at the window's top.
type winTopGlobal[R, O any] struct {
	out  func(end, score int64, item *R) O
	best *stream.ValueState[int64, winTopParts[R]]
}

// winTopParts is a window's top as the subtasks sent it: the items of each
// subtask at the top score, kept as they came. Appending one subtask's
// items to another's copied them into a fresh array: 18 ms at the end of
// a Q8 window of 106k results (5 MiB of new memory, faulted in page by
// page) before the first result went out.
type winTopParts[R any] struct {
	End, Score int64
	Parts      [][]R
}

// add folds a subtask's top t into p. p shares t's items afterwards (it
// never appends to them).
func (p *winTopParts[R]) add(t *winTop[R]) {
	switch {
	case len(t.Items) == 0:
	case len(p.Parts) == 0 || t.Score > p.Score:
		p.Score, p.Parts = t.Score, [][]R{t.Items}
	case t.Score == p.Score:
		p.Parts = append(p.Parts, t.Items) // writes past what a snapshot sees
	}
}

func (g *winTopGlobal[R, O]) Open(ctx *stream.OpenContext[int64]) (err error) {
	g.best, err = stream.NewValueState[winTopParts[R]](ctx, "top-parts")
	return err
}

func (g *winTopGlobal[R, O]) ProcessElement(ctx *stream.Context[int64, O], t winTop[R]) error {
	b, ok := g.best.Value()
	if !ok {
		ctx.RegisterEventTimeTimer(timeapi.Time(t.End - 1))
		b.End = t.End
	}
	b.add(&t)
	g.best.Update(b)
	return nil
}

func (g *winTopGlobal[R, O]) OnTimer(ctx *stream.Context[int64, O], _ stream.Timer) error {
	b, ok := g.best.Value()
	if !ok {
		return nil
	}
	g.best.Clear()
	for _, items := range b.Parts {
		for i := range items {
			ctx.Emit(g.out(b.End, b.Score, &items[i]))
		}
	}
	return nil
}

// winTopOf adds both phases after in.
func winTopOf[T, R, O any](in stream.DataStream[T], name string, score func(v *T, ts int64) (end, score int64, ok bool),
	item func(v *T) R, out func(end, score int64, item *R) O) stream.DataStream[O] {
	local := in.Transform(name+"-local", func() operators.OneInputOperator[T, winTop[R]] {
		return &winTopLocal[T, R]{score: score, item: item}
	})
	return local.KeyBy(func(t winTop[R]) int64 { return t.End }).
		Process(stream.KeyedProcessFunc[int64, winTop[R], O](&winTopGlobal[R, O]{out: out})).Name(name)
}

// winHoldOf holds the records of in until the watermark passes the end of
// their window (end; ok false skips a record), and then emits the item of
// each, stamped with the window's last millisecond: winTopOf's local phase
// alone, for a query whose records all make their window's "top" (every
// score ties). Each subtask releases its own share of a window's results
// as the watermark passes, where the global phase sent all of them to the
// one subtask of the window's key and emitted them there one after
// another. The release is a block copy per output batch (winHold), not a
// call per result through a flat map: a Q8 window ends with some 50k
// results per subtask, and its p99 latency is the time to send them.
func winHoldOf[T, R any](in stream.DataStream[T], name string, end func(v *T, ts int64) (int64, bool),
	item func(v *T) R) stream.DataStream[R] {
	return in.Transform(name, func() operators.OneInputOperator[T, R] {
		return &winHold[T, R]{winTopLocal: winTopLocal[T, R]{score: func(v *T, ts int64) (int64, int64, bool) {
			e, ok := end(v, ts)
			return e, 0, ok
		}, item: item}}
	})
}

// winHold is winHoldOf's operator: a winTopLocal (its windows, records and
// snapshots) that releases a closed window's items themselves.
type winHold[T, R any] struct {
	winTopLocal[T, R]
	rel *operators.Emitter[R]
}

func (h *winHold[T, R]) Open(ctx *operators.Context, out *operators.Emitter[R]) error {
	h.rel, h.subtask = out, ctx.Subtask
	return nil
}

// ProcessWatermark releases the windows whose end the watermark passed.
func (h *winHold[T, R]) ProcessWatermark(wm int64) error {
	n := 0
	for n < len(h.open) && h.open[n].End-1 <= wm {
		if err := h.rel.EmitAll(h.open[n].Items, h.open[n].End-1); err != nil {
			return err
		}
		n++
	}
	h.closed(n)
	return nil
}

// winStateFormat versions the snapshots of the local operators.
const winStateFormat = 1

// winEncode encodes the state of a local operator for a snapshot.
func winEncode(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte(winStateFormat)
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("nexmark: snapshot: %w", err)
	}
	return b.Bytes(), nil
}

// winDecode decodes a snapshot of winEncode into v (a pointer).
func winDecode(data []byte, v any) error {
	if len(data) == 0 || data[0] != winStateFormat {
		return errors.New("nexmark: restore: unknown state format")
	}
	if err := gob.NewDecoder(bytes.NewReader(data[1:])).Decode(v); err != nil {
		return fmt.Errorf("nexmark: restore: %w", err)
	}
	return nil
}
