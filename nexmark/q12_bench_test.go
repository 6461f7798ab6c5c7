package nexmark

import (
	"math/rand/v2"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// countOut counts the records pushed into it.
type countOut struct{ n int }

func (c *countOut) Push(batch any) error {
	c.n += len(batch.(*operators.Batch[windowing.Result[int64, q12Acc]]).Values)
	return nil
}
func (c *countOut) Watermark(int64) error { return nil }
func (c *countOut) Flush() error          { return nil }
func (c *countOut) EndInput() error       { return nil }

// noCallbacks is a TimerService the benchmark calls itself.
type noCallbacks struct{}

func (noCallbacks) CallbackAt(int64) {}

// BenchmarkQ12WindowEnd closes a processing-time window over 50k bidders,
// as q12's windows close: ns per bidder (one result each).
func BenchmarkQ12WindowEnd(b *testing.B) {
	const bidders = 50_000
	clock := timeapi.NewManualClock(time.UnixMilli(0))
	all := statebackend.KeyGroupRange{Start: 0, End: statebackend.DefaultMaxParallelism}
	be, err := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "q12", KeyGroups: all, MaxParallelism: all.End})
	if err != nil {
		b.Fatal(err)
	}
	ctx := &operators.Context{Operator: "q12", Parallelism: 1, MaxParallelism: all.End, BatchSize: 1024,
		KeyGroups: all, State: be, Clock: clock, Logger: zap.NewNop(), Timers: noCallbacks{}}
	out := &countOut{}
	d := operators.Drive[q12Bids, windowing.Result[int64, q12Acc]](windowing.NewOperator(windowing.Options[int64, q12Bids, q12Acc, q12Acc, windowing.Result[int64, q12Acc]]{
		Assigner: q12Windows, Key: q12Bidder, Agg: q12Agg{}, // no Out: rows as they are, as Aggregate does
	}))
	if err := d.Open(ctx, out); err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	fire := d.(operators.ProcessingTimeHandler)
	batch := operators.NewBatch[q12Bids](ctx.BatchSize)
	now := int64(0)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += bidders {
		b.StopTimer()
		for i := range int64(bidders) {
			batch.Append(q12Bids{Bidder: i * 7919, Count: 1, Last: 1}, timeapi.NoTimestamp)
			if batch.Len() == ctx.BatchSize || i == bidders-1 {
				if err := d.Push(batch); err != nil {
					b.Fatal(err)
				}
				batch.Reset()
			}
		}
		out.n = 0
		now += Q12Window.Milliseconds()
		clock.Set(time.UnixMilli(now))
		b.StartTimer()
		if err := fire.OnProcessingTime(now); err != nil {
			b.Fatal(err)
		}
		if err := d.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if out.n != bidders {
			b.Fatalf("%d results, want %d", out.n, bidders)
		}
		b.StartTimer()
	}
}

// mapOut hands batches to a chained map, as a chain does; out is the
// map's emitter.
type mapOut[I, O any] struct {
	m   *operators.MapOp[I, O]
	out *operators.Emitter[O]
}

func (c mapOut[I, O]) Push(b any) error      { return c.m.ProcessBatch(b.(*operators.Batch[I])) }
func (c mapOut[I, O]) Watermark(int64) error { return nil }
func (c mapOut[I, O]) Flush() error          { return c.out.Flush() }
func (c mapOut[I, O]) EndInput() error       { return nil }

// BenchmarkQ12WindowEndChain closes a processing-time window over 100k
// bidders, inserted in random order as a paced run's are, through q12's
// whole chain after the window (the result map and the observer): ns per
// result, what one subtask's share of a window end costs.
func BenchmarkQ12WindowEndChain(b *testing.B) {
	const bidders = 100_000
	clock := timeapi.NewManualClock(time.UnixMilli(0))
	all := statebackend.KeyGroupRange{Start: 0, End: statebackend.DefaultMaxParallelism}
	be, err := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "q12", KeyGroups: all, MaxParallelism: all.End})
	if err != nil {
		b.Fatal(err)
	}
	ctx := &operators.Context{Operator: "q12", Parallelism: 1, MaxParallelism: all.End, BatchSize: 1024,
		KeyGroups: all, State: be, Clock: clock, Logger: zap.NewNop(), Timers: noCallbacks{}}
	obs := &Observer{Clock: &PaceClock{Start: time.Now(), Base: wt0}}
	w := &observerWriter[Q12Result]{obs: obs, dueWall: q12Due}
	m := &operators.MapOp[windowing.Result[int64, q12Acc], Q12Result]{F: q12Result}
	mapEm := operators.NewEmitter[Q12Result](sinkOut[Q12Result]{w}, ctx.BatchSize)
	if err := m.Open(ctx, mapEm); err != nil {
		b.Fatal(err)
	}
	d := operators.Drive[q12Bids, windowing.Result[int64, q12Acc]](windowing.NewOperator(windowing.Options[int64, q12Bids, q12Acc, q12Acc, windowing.Result[int64, q12Acc]]{
		Assigner: q12Windows, Key: q12Bidder, Agg: q12Agg{}, // no Out: rows as they are, as Aggregate does
	}))
	if err := d.Open(ctx, mapOut[windowing.Result[int64, q12Acc], Q12Result]{m, mapEm}); err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	fire := d.(operators.ProcessingTimeHandler)
	batch := operators.NewBatch[q12Bids](ctx.BatchSize)
	rng := rand.New(rand.NewPCG(1, 2))
	now := int64(0)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += bidders {
		b.StopTimer()
		for i, p := range rng.Perm(bidders) {
			batch.Append(q12Bids{Bidder: int64(p) * 7919, Count: 1, Last: 1}, timeapi.NoTimestamp)
			if batch.Len() == ctx.BatchSize || i == bidders-1 {
				if err := d.Push(batch); err != nil {
					b.Fatal(err)
				}
				batch.Reset()
			}
		}
		before := w.count
		now += Q12Window.Milliseconds()
		clock.Set(time.UnixMilli(now))
		b.StartTimer()
		if err := fire.OnProcessingTime(now); err != nil {
			b.Fatal(err)
		}
		if err := d.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := w.count - before; got != bidders {
			b.Fatalf("%d results, want %d", got, bidders)
		}
		b.StartTimer()
	}
}
