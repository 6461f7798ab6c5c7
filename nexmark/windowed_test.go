package nexmark

import (
	"fmt"
	"slices"
	"testing"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
)

// Tests of the windowed queries on hand-made event streams.

// wt0 is the start of a 10 s window; test events are placed relative to it.
var wt0 = time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)

func wat(d time.Duration) time.Time { return wt0.Add(d) }

func bidAt(d time.Duration, auction, bidder, price int64) Event {
	return Event{Kind: gen.KindBid, Bid: Bid{Auction: auction, Bidder: bidder, Price: price, DateTime: wat(d), Extra: fmt.Sprint("x", price)}}
}

func personAt(d time.Duration, id int64, name string) Event {
	return Event{Kind: gen.KindPerson, Person: Person{ID: id, Name: name, DateTime: wat(d)}}
}

func auctionAt(d time.Duration, id, seller int64) Event {
	return Event{Kind: gen.KindAuction, Auction: Auction{ID: id, Seller: seller, DateTime: wat(d)}}
}

// runOn runs query build on events at parallelism p and returns its
// results formatted by format, sorted. The events are a generator source:
// at parallelism p, split s holds events s, s+p, ..., so splits interleave
// (each in time order when events is) and a key's records arrive from
// several splits.
func runOn[R any](t *testing.T, build func(stream.DataStream[Event]) stream.DataStream[R], format func(R) string, events []Event, p int) []string {
	t.Helper()
	job := stream.NewJob("windowed-test")
	src := stream.FromGenerator(job, "events", int64(len(events)), func(i int64) Event { return events[i] })
	out := testkit.Collect(build(src))
	testkit.Run(t, job, runtime.Parallelism(p))
	var lines []string
	for _, r := range out.Values() {
		lines = append(lines, format(r))
	}
	slices.Sort(lines)
	return lines
}

// checkLines compares sorted result lines with want (sorted here).
func checkLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

// handOn runs a hand-written loop on events and returns its results
// formatted by format, sorted.
func handOn[R any](events []Event, hand func(events winEvents, emit func(R)), format func(R) string) []string {
	var lines []string
	hand(func(f func(e *Event, ts int64)) {
		for i := range events {
			e := events[i]
			f(&e, timeapi.Millis(e.Time()))
		}
	}, func(r R) { lines = append(lines, format(r)) })
	slices.Sort(lines)
	return lines
}

// testOpCtx is the context of a local operator under test.
func testOpCtx(subtask int) *operators.Context {
	return &operators.Context{Operator: "test", Subtask: subtask, Parallelism: 2, MaxParallelism: statebackend.DefaultMaxParallelism, BatchSize: 16}
}

// collectOut collects what an operator under test emits.
type collectOut[T any] struct {
	vals  []T
	times []int64
}

func (c *collectOut[T]) Push(batch any) error {
	b := batch.(*operators.Batch[T])
	c.vals = append(c.vals, b.Values...)
	c.times = append(c.times, b.Times...)
	return nil
}
func (c *collectOut[T]) Watermark(int64) error { return nil }
func (c *collectOut[T]) Flush() error          { return nil }
func (c *collectOut[T]) EndInput() error       { return nil }

// openLocal opens a local operator as subtask s through operators.Drive,
// returning the driven operator and its output.
func openLocal[I, O any](t *testing.T, op operators.OneInputOperator[I, O], s int) (operators.Operator, *collectOut[O]) {
	t.Helper()
	out := &collectOut[O]{}
	d := operators.Drive(op)
	if err := d.Open(testOpCtx(s), out); err != nil {
		t.Fatal(err)
	}
	return d, out
}

// eachRestored snapshots the local operator op and restores the snapshot
// into a fresh one (newOp) opened as subtask 0 and then 1, handing check
// each restored operator, driven, with its output.
func eachRestored[O any, P interface {
	operators.OneInputOperator[Event, O]
	operators.Snapshotter
}](t *testing.T, op P, newOp func() P, check func(s int, r P, d operators.Operator, out *collectOut[O])) {
	t.Helper()
	data, err := op.SnapshotState(1)
	if err != nil {
		t.Fatal(err)
	}
	for s := range 2 {
		r := newOp()
		d, out := openLocal[Event, O](t, r, s)
		if err := r.RestoreState(data); err != nil {
			t.Fatal(err)
		}
		check(s, r, d, out)
	}
}

// pushEvents pushes events (with their times) into a driven operator.
func pushEvents(t *testing.T, d operators.Operator, events ...Event) {
	t.Helper()
	b := operators.NewBatch[Event](len(events))
	for _, e := range events {
		b.Append(e, timeapi.Millis(e.Time()))
	}
	if err := d.Push(b); err != nil {
		t.Fatal(err)
	}
}

// TestWinHoldRelease: winHoldOf's operator releases a window's items, in
// the order they came and stamped with the window's last millisecond,
// once the watermark reaches it (batches of the context's size, so the
// release spans several), keeps later windows, and after a restore the
// first subtask alone releases what the snapshot held.
func TestWinHoldRelease(t *testing.T) {
	newOp := func() *winHold[Event, int64] {
		return &winHold[Event, int64]{winTopLocal: winTopLocal[Event, int64]{
			score: func(e *Event, ts int64) (int64, int64, bool) {
				return winStart(ts, 10_000) + 10_000, 0, e.Kind == gen.KindBid
			},
			item: func(e *Event) int64 { return e.Bid.Auction },
		}}
	}
	end1, end2 := wat(10*time.Second).UnixMilli(), wat(20*time.Second).UnixMilli()
	op := newOp()
	d, out := openLocal(t, op, 0)
	var first []Event
	for i := range int64(40) {
		first = append(first, bidAt(time.Duration(i)*100*time.Millisecond, i, 1, 5))
	}
	pushEvents(t, d, first...)
	pushEvents(t, d, personAt(time.Second, 7, "p"), bidAt(10*time.Second, 100, 1, 5), bidAt(15*time.Second, 101, 1, 5))
	if err := d.Watermark(end1 - 2); err != nil {
		t.Fatal(err)
	}
	if len(out.vals) != 0 {
		t.Fatalf("released %v before the window's last millisecond", out.vals)
	}
	if err := d.Watermark(end1 - 1); err != nil {
		t.Fatal(err)
	}
	if len(out.vals) != 40 {
		t.Fatalf("released %d items, want the window's 40", len(out.vals))
	}
	for i, a := range out.vals {
		if a != int64(i) || out.times[i] != end1-1 {
			t.Fatalf("item %d: auction %d at %d, want auction %d at %d", i, a, out.times[i], i, end1-1)
		}
	}
	eachRestored(t, op, newOp, func(s int, r *winHold[Event, int64], d operators.Operator, out *collectOut[int64]) {
		pushEvents(t, d, bidAt(19*time.Second, 102, 1, 5))
		if err := d.Watermark(end2 - 1); err != nil {
			t.Fatal(err)
		}
		want := "[100 101 102]"
		if s == 1 {
			want = "[102]"
		}
		if got := fmt.Sprint(out.vals); got != want || len(r.open) != 0 {
			t.Errorf("subtask %d released %s (%d windows open), want %s and none", s, got, len(r.open), want)
		}
		for _, ts := range out.times {
			if ts != end2-1 {
				t.Errorf("subtask %d released an item at %d, want %d", s, ts, end2-1)
			}
		}
	})
}
