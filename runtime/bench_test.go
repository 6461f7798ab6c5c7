package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

const benchKeys = 10_000

func benchEvent(i int64) int64 { return i*7 + 3 }
func benchMap(v int64) int64   { return v ^ 0x5a5a }
func benchKey(v int64) int64   { return v % benchKeys }

// handLoop is the single-goroutine baseline: the same generator, map, key
// and sum as the pipeline, in one loop over a Go map.
func handLoop(n int64) map[int64]int64 {
	m := make(map[int64]int64, benchKeys)
	for i := range n {
		v := benchMap(benchEvent(i))
		m[benchKey(v)] += v
	}
	return m
}

func pipeline(n int64) (*stream.Job, *operators.DiscardSink[int64]) {
	job := stream.NewJob("bench")
	sink := operators.Discard[int64]()
	stream.FromGenerator(job, "gen", n, benchEvent).
		Map(benchMap).
		KeyBy(benchKey).
		Reduce(func(a, b int64) int64 { return a + b }).
		SinkTo(sink)
	return job, sink
}

// BenchmarkPipeline: generator -> Map -> KeyBy (10k keys) -> Reduce (sum) ->
// discard, one op per event, against the hand-written loop on the same
// events in the same run. Run with -benchtime=10000000x for 10M events.
func BenchmarkPipeline(b *testing.B) {
	var hand float64
	b.Run("handloop", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		m := handLoop(int64(b.N))
		if len(m) == 0 && b.N > benchKeys {
			b.Fatal("empty result")
		}
		hand = float64(b.N) / time.Since(start).Seconds()
		b.ReportMetric(hand, "events/s")
	})
	var p1 float64
	for _, p := range []int{1, 2} {
		b.Run("weir/p="+string(rune('0'+p)), func(b *testing.B) {
			job, sink := pipeline(int64(b.N))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if err := runtime.Run(context.Background(), job, runtime.Parallelism(p)); err != nil {
				b.Fatal(err)
			}
			rate := float64(b.N) / time.Since(start).Seconds()
			b.StopTimer()
			if sink.Count() != int64(b.N) {
				b.Fatalf("discarded %d, want %d", sink.Count(), b.N)
			}
			b.ReportMetric(rate, "events/s")
			if hand > 0 {
				b.ReportMetric(rate/hand, "x_handloop")
			}
			if p == 1 {
				p1 = rate
			} else if p1 > 0 {
				b.ReportMetric(rate/p1, "x_p1")
			}
		})
	}
}

// BenchmarkPipelineCheckpointed: the pipeline at parallelism 1 and 2 with a
// checkpoint every second (local directory, memstate) against the same
// pipeline without, in the same run. Reports the checkpoints taken and
// the longest synchronous pause at a barrier.
func BenchmarkPipelineCheckpointed(b *testing.B) {
	for _, p := range []int{1, 2} {
		var plain float64
		b.Run("none/p="+string(rune('0'+p)), func(b *testing.B) {
			job, _ := pipeline(int64(b.N))
			start := time.Now()
			if err := runtime.Run(context.Background(), job, runtime.Parallelism(p)); err != nil {
				b.Fatal(err)
			}
			plain = float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(plain, "events/s")
		})
		b.Run("every1s/p="+string(rune('0'+p)), func(b *testing.B) {
			job, _ := pipeline(int64(b.N))
			ctl := runtime.NewController()
			b.ReportAllocs()
			start := time.Now()
			err := runtime.Run(context.Background(), job, runtime.Parallelism(p),
				runtime.Checkpointing(b.TempDir(), time.Second), runtime.WithController(ctl))
			if err != nil {
				b.Fatal(err)
			}
			rate := float64(b.N) / time.Since(start).Seconds()
			stats := ctl.Stats()
			b.ReportMetric(rate, "events/s")
			if plain > 0 {
				b.ReportMetric(rate/plain, "x_no_ckpt")
			}
			b.ReportMetric(float64(stats.Completed), "checkpoints")
			b.ReportMetric(float64(stats.MaxSyncPause.Microseconds()), "max_pause_us")
		})
	}
}
