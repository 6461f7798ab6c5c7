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

// q12Closing is a q12 window operator that the benchmarks fill and close.
type q12Closing struct {
	ctx   *operators.Context
	clock *timeapi.ManualClock
	d     operators.Operator
	now   int64
}

// newQ12Closing opens q12's window operator (as Aggregate builds it: no
// Out) with a heap backend and a manual clock; out gives its output.
func newQ12Closing(b *testing.B, out func(ctx *operators.Context) operators.Output) *q12Closing {
	c := &q12Closing{clock: timeapi.NewManualClock(time.UnixMilli(0))}
	all := statebackend.KeyGroupRange{Start: 0, End: statebackend.DefaultMaxParallelism}
	be, err := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "q12", KeyGroups: all, MaxParallelism: all.End})
	if err != nil {
		b.Fatal(err)
	}
	c.ctx = &operators.Context{Operator: "q12", Parallelism: 1, MaxParallelism: all.End, BatchSize: 1024,
		KeyGroups: all, State: be, Clock: c.clock, Logger: zap.NewNop(), Timers: noCallbacks{}}
	c.d = operators.Drive[q12Bids, windowing.Result[int64, q12Acc]](windowing.NewOperator(windowing.Options[int64, q12Bids, q12Acc, q12Acc, windowing.Result[int64, q12Acc]]{
		Assigner: q12Windows, Key: q12Bidder, Agg: q12Agg{},
	}))
	if err := c.d.Open(c.ctx, out(c.ctx)); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.d.Close() })
	return c
}

// run times closing windows of one bid per bidder (keys gives each
// window's bidders, in the order they come) until b.N results; results
// says how many the output has seen.
func (c *q12Closing) run(b *testing.B, keys func() []int64, results func() int) {
	batch := operators.NewBatch[q12Bids](c.ctx.BatchSize)
	fire := c.d.(operators.ProcessingTimeHandler)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		ks := keys()
		for i, k := range ks {
			batch.Append(q12Bids{Bidder: k, Count: 1, Last: 1}, timeapi.NoTimestamp)
			if batch.Len() == c.ctx.BatchSize || i == len(ks)-1 {
				if err := c.d.Push(batch); err != nil {
					b.Fatal(err)
				}
				batch.Reset()
			}
		}
		before := results()
		c.now += Q12Window.Milliseconds()
		c.clock.Set(time.UnixMilli(c.now))
		b.StartTimer()
		if err := fire.OnProcessingTime(c.now); err != nil {
			b.Fatal(err)
		}
		if err := c.d.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := results() - before; got != len(ks) {
			b.Fatalf("%d results, want %d", got, len(ks))
		}
		done += len(ks)
		b.StartTimer()
	}
}

// BenchmarkQ12WindowEnd closes a processing-time window over 50k bidders,
// as q12's windows close: ns per bidder (one result each).
func BenchmarkQ12WindowEnd(b *testing.B) {
	keys := make([]int64, 50_000)
	for i := range keys {
		keys[i] = int64(i) * 7919
	}
	out := &countOut{}
	c := newQ12Closing(b, func(*operators.Context) operators.Output { return out })
	c.run(b, func() []int64 { return keys }, func() int { return out.n })
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
	obs := &Observer{Clock: &PaceClock{Start: time.Now(), Base: wt0}}
	w := &observerWriter[Q12Result]{obs: obs, dueWall: q12Due}
	c := newQ12Closing(b, func(ctx *operators.Context) operators.Output {
		m := &operators.MapOp[windowing.Result[int64, q12Acc], Q12Result]{F: q12Result}
		em := operators.NewEmitter[Q12Result](sinkOut[Q12Result]{w}, ctx.BatchSize)
		if err := m.Open(ctx, em); err != nil {
			b.Fatal(err)
		}
		return mapOut[windowing.Result[int64, q12Acc], Q12Result]{m, em}
	})
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]int64, 100_000)
	c.run(b, func() []int64 {
		for i, p := range rng.Perm(len(keys)) {
			keys[i] = int64(p) * 7919
		}
		return keys
	}, func() int { return int(w.count) })
}
