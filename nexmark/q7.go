package nexmark

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"fmt"
	"slices"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

// Q7Window is the length of Q7's tumbling windows.
const Q7Window = 10 * time.Second

// Q7Result is a bid with the highest price of its window.
type Q7Result struct {
	Auction  int64
	Price    int64
	Bidder   int64
	DateTime time.Time
	Extra    string
	End      time.Time // end of the window
}

// Q7 is highest bid: the bids with the highest price of each 10 s
// tumbling window.
//
//	SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
//	FROM bid B
//	JOIN (SELECT MAX(price) AS maxprice, window_end AS dateTime
//	      FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))
//	      GROUP BY window_start, window_end) B1
//	ON B.price = B1.maxprice
//	WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime
//
// The job aggregates in two phases. Every subtask of the source's chain
// keeps, per window, its own highest price and the bids at that price (a
// Transform: bids never cross an exchange) and emits them when the
// watermark passes the window's end; a process function keyed by window
// end merges the subtasks' candidates and emits the bids at the global
// maximum (all ties) when the watermark passes the end.
//
// Deviation: a bid belongs to the window [start, end) holding its time.
// The SQL's BETWEEN is inclusive at both ends, so a bid at exactly a
// window's end (which starts the next window) would also be compared with
// the previous window's maximum and, at the same price, be reported for
// both windows; here it is reported for its own window only.
func Q7(events stream.DataStream[Event]) stream.DataStream[Q7Result] {
	local := winEventTime(events).Transform("q7-local", func() operators.OneInputOperator[Event, q7Partial] {
		return &q7Local{}
	})
	return local.KeyBy(func(p q7Partial) int64 { return p.End }).
		Process(stream.KeyedProcessFunc[int64, q7Partial, Q7Result](&q7Global{})).Name("q7-max")
}

// q7Partial is one subtask's candidates for a window: its highest price
// and the bids at that price. It is also the state of both phases.
// Bids is only appended to or replaced.
type q7Partial struct {
	End   int64 // window end, Unix ms
	Price int64
	Bids  []Bid
}

// add folds bid b into the candidates.
func (p *q7Partial) add(b *Bid) {
	switch {
	case len(p.Bids) == 0 || b.Price > p.Price:
		p.Price, p.Bids = b.Price, append(p.Bids[:0:0], *b)
	case b.Price == p.Price:
		p.Bids = append(p.Bids, *b)
	}
}

// merge folds the candidates o of the same window into p.
func (p *q7Partial) merge(o *q7Partial) {
	switch {
	case len(o.Bids) == 0 || (len(p.Bids) > 0 && o.Price < p.Price):
	case len(p.Bids) == 0 || o.Price > p.Price:
		p.Price, p.Bids = o.Price, o.Bids[:len(o.Bids):len(o.Bids)]
	default:
		p.Bids = append(p.Bids, o.Bids...)
	}
}

// q7Local is the local phase: the candidates of the open windows of its
// subtask (in order of their end; one or two are open at a time), emitted
// when the watermark passes a window's end.
//
// Checkpoints: the open windows are the operator's state
// (operators.Snapshotter). A restore hands every subtask the states of
// all old subtasks; the first subtask takes them and the others ignore
// them, so each candidate is emitted once.
type q7Local struct {
	operators.Base
	out     *operators.Emitter[q7Partial]
	subtask int
	open    []q7Partial
}

func (l *q7Local) Open(ctx *operators.Context, out *operators.Emitter[q7Partial]) error {
	l.out, l.subtask = out, ctx.Subtask
	return nil
}

func (l *q7Local) ProcessBatch(in *operators.Batch[Event]) error {
	const size = int64(Q7Window / time.Millisecond)
	for i := range in.Values {
		e := &in.Values[i]
		if e.Kind != gen.KindBid {
			continue
		}
		l.window(winStart(in.Times[i], size) + size).add(&e.Bid)
	}
	return nil
}

// window returns the candidates of the window ending at end, adding it
// if it is not open.
func (l *q7Local) window(end int64) *q7Partial {
	if n := len(l.open); n > 0 && l.open[n-1].End == end {
		return &l.open[n-1]
	}
	i, found := slices.BinarySearchFunc(l.open, end, func(p q7Partial, end int64) int { return cmp.Compare(p.End, end) })
	if !found {
		l.open = slices.Insert(l.open, i, q7Partial{End: end})
	}
	return &l.open[i]
}

func (l *q7Local) ProcessWatermark(wm int64) error {
	n := 0
	for n < len(l.open) && l.open[n].End-1 <= wm {
		p := l.open[n]
		l.out.Emit(p, p.End-1)
		n++
	}
	if n > 0 {
		// the emitted Bids slices now belong downstream: drop them
		rest := copy(l.open, l.open[n:])
		clear(l.open[rest:])
		l.open = l.open[:rest]
	}
	return nil
}

// SnapshotState implements operators.Snapshotter.
func (l *q7Local) SnapshotState(int64) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte(q7StateFormat)
	if err := gob.NewEncoder(&b).Encode(l.open); err != nil {
		return nil, fmt.Errorf("nexmark: q7 snapshot: %w", err)
	}
	return b.Bytes(), nil
}

// RestoreState implements operators.Snapshotter.
func (l *q7Local) RestoreState(data []byte) error {
	if len(data) == 0 || data[0] != q7StateFormat {
		return fmt.Errorf("nexmark: q7 restore: unknown state format")
	}
	var open []q7Partial
	if err := gob.NewDecoder(bytes.NewReader(data[1:])).Decode(&open); err != nil {
		return fmt.Errorf("nexmark: q7 restore: %w", err)
	}
	if l.subtask != 0 {
		return nil
	}
	for i := range open {
		l.window(open[i].End).merge(&open[i])
	}
	return nil
}

// q7StateFormat versions q7Local's snapshots.
const q7StateFormat = 1

// q7Global merges the candidates of a window (keyed by its end) and
// emits the bids at the maximum when the watermark passes the end.
type q7Global struct {
	best *stream.ValueState[int64, q7Partial]
}

func (g *q7Global) Open(ctx *stream.OpenContext[int64]) (err error) {
	g.best, err = stream.NewValueState[q7Partial](ctx, "best")
	return err
}

func (g *q7Global) ProcessElement(ctx *stream.Context[int64, Q7Result], p q7Partial) error {
	b, ok := g.best.Value()
	if !ok {
		ctx.RegisterEventTimeTimer(timeapi.Time(p.End - 1))
		b.End = p.End
	}
	b.merge(&p)
	g.best.Update(b)
	return nil
}

func (g *q7Global) OnTimer(ctx *stream.Context[int64, Q7Result], _ stream.Timer) error {
	b, ok := g.best.Value()
	if !ok {
		return nil
	}
	g.best.Clear()
	for _, bid := range b.Bids {
		ctx.Emit(q7Result(&bid, b.End))
	}
	return nil
}

func q7Result(b *Bid, end int64) Q7Result {
	return Q7Result{Auction: b.Auction, Price: b.Price, Bidder: b.Bidder, DateTime: b.DateTime, Extra: b.Extra, End: timeapi.Time(end)}
}

// handQ7 keeps the current window's highest price and its bids, and
// emits them when a bid of a later window arrives.
func handQ7(src *gen.Source, n int64, emit func(Q7Result)) {
	const size = int64(Q7Window / time.Millisecond)
	var cur q7Partial
	flush := func() {
		for i := range cur.Bids {
			emit(q7Result(&cur.Bids[i], cur.End))
		}
		cur.Bids = cur.Bids[:0]
	}
	winHand(src, n, func(e *Event, ts int64) {
		if e.Kind != gen.KindBid {
			return
		}
		if end := winStart(ts, size) + size; end != cur.End {
			flush()
			cur.End = end
		}
		b := &e.Bid
		switch {
		case len(cur.Bids) == 0 || b.Price > cur.Price:
			cur.Price, cur.Bids = b.Price, append(cur.Bids[:0], *b)
		case b.Price == cur.Price:
			cur.Bids = append(cur.Bids, *b)
		}
	})
	flush()
}

func init() {
	Register(Spec[Q7Result]{
		Name: "q7", Title: "highest bid",
		Build: Q7,
		Hand:  handQ7,
		Format: func(r Q7Result) string {
			return fmt.Sprintf("window_end=%s auction=%d price=%d bidder=%d t=%s extra=%q",
				winTime(r.End), r.Auction, r.Price, r.Bidder, r.DateTime.Format(time.RFC3339Nano), r.Extra)
		},
		Due:        func(r Q7Result) time.Time { return r.End },
		TestEvents: 300_000,
	})
}
