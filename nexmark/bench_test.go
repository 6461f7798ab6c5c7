package nexmark_test

import (
	"context"
	"testing"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

// The benchmark baselines: the hand-written loops without collecting, so
// they measure generation plus the query, like the jobs (which end in a
// discarding sink). They return the result count and a checksum so the
// work is not optimized away.

func benchHandQ0(src *gen.Source, n int64) (count, sum int64) {
	var e nexmark.Event
	for i := range n {
		src.Fill(i, &e)
		if e.Kind == gen.KindBid {
			b := e.Bid
			count++
			sum += b.Price + int64(len(b.Extra))
		}
	}
	return count, sum
}

func benchHandQ1(src *gen.Source, n int64) (count, sum int64) {
	var e nexmark.Event
	for i := range n {
		src.Fill(i, &e)
		if e.Kind == gen.KindBid {
			b := &e.Bid
			r := nexmark.Q1Result{Auction: b.Auction, Bidder: b.Bidder, Price: float64(b.Price) * 0.908, DateTime: b.DateTime, Extra: b.Extra}
			count++
			sum += int64(r.Price)
		}
	}
	return count, sum
}

func benchHandQ2(src *gen.Source, n int64) (count, sum int64) {
	var e nexmark.Event
	for i := range n {
		src.Fill(i, &e)
		if e.Kind == gen.KindBid && e.Bid.Auction%123 == 0 {
			count++
			sum += e.Bid.Price
		}
	}
	return count, sum
}

func BenchmarkQ0(b *testing.B) { benchQuery(b, nexmark.Q0, benchHandQ0) }
func BenchmarkQ1(b *testing.B) { benchQuery(b, nexmark.Q1, benchHandQ1) }
func BenchmarkQ2(b *testing.B) { benchQuery(b, nexmark.Q2, benchHandQ2) }

// benchQuery runs the hand-written loop and then the job at parallelism 1
// and 2 on b.N events (one op per event; run with -benchtime=10000000x),
// reporting events/s and the ratio to the loop of the same run.
func benchQuery[R any](b *testing.B, q func(stream.DataStream[nexmark.Event]) stream.DataStream[R],
	hand func(*gen.Source, int64) (int64, int64)) {
	opts := func(n int) nexmark.Options { return nexmark.Options{Seed: 1, Events: int64(n)} }
	var handRate float64
	var handCount, handN int64
	b.Run("handloop", func(b *testing.B) {
		src, err := gen.NewSource(opts(b.N))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		handCount, _ = hand(src, int64(b.N))
		handN = int64(b.N)
		handRate = float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(handRate, "events/s")
	})
	for _, p := range []int{1, 2} {
		b.Run("weir/p="+string(rune('0'+p)), func(b *testing.B) {
			job := stream.NewJob("nexmark-bench")
			events, err := nexmark.Events(job, opts(b.N))
			if err != nil {
				b.Fatal(err)
			}
			sink := operators.Discard[R]()
			q(events).SinkTo(sink)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if err := runtime.Run(context.Background(), job, runtime.Parallelism(p)); err != nil {
				b.Fatal(err)
			}
			rate := float64(b.N) / time.Since(start).Seconds()
			b.StopTimer()
			if handN == int64(b.N) && sink.Count() != handCount {
				b.Fatalf("job emitted %d results, the hand-written loop %d", sink.Count(), handCount)
			}
			b.ReportMetric(rate, "events/s")
			if handN == int64(b.N) {
				b.ReportMetric(rate/handRate, "x_handloop")
			}
		})
	}
}
