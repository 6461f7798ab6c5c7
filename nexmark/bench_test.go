package nexmark_test

import (
	"context"
	"testing"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

// BenchmarkQuery runs every registered query: the hand-written loop, then
// the job at parallelism 1 and 2, on b.N events (one op per event; run
// with -benchtime=10000000x), reporting events/s and the job's ratio to
// the loop of the same run. The job must give as many results as the loop.
func BenchmarkQuery(b *testing.B) {
	for _, q := range nexmark.Queries() {
		b.Run(q.Name(), func(b *testing.B) { benchQuery(b, q) })
	}
}

func benchQuery(b *testing.B, q nexmark.Query) {
	// the rate of `weir nexmark` (10M events/s of event time): it sets how
	// long auctions last and how far the watermark alignment lets source
	// splits drift apart in events
	opts := func(n int) nexmark.Options { return nexmark.Options{Seed: 1, Events: int64(n), Rate: 10_000_000} }
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
		handCount = q.Baseline(src, int64(b.N))
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
			var obs nexmark.Observer
			q.Attach(events, &obs)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if err := runtime.Run(context.Background(), job, runtime.Parallelism(p), runtime.WatermarkAlignment(nexmark.Alignment)); err != nil {
				b.Fatal(err)
			}
			rate := float64(b.N) / time.Since(start).Seconds()
			b.StopTimer()
			if handN == int64(b.N) && obs.Count() != handCount && q.Exact() {
				b.Fatalf("job emitted %d results, the hand-written loop %d", obs.Count(), handCount)
			}
			b.ReportMetric(rate, "events/s")
			if handN == int64(b.N) {
				b.ReportMetric(rate/handRate, "x_handloop")
			}
		})
	}
}
