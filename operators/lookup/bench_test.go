package lookup_test

import (
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/operators/lookup"
	"github.com/weirstream/weir/timeapi"
)

type user struct {
	ID   int64
	Name string
}

type enriched struct {
	ID    int64
	Name  string
	Found bool
}

type discard struct{ n int }

func (d *discard) Push(b any) error      { d.n += b.(*operators.Batch[enriched]).Len(); return nil }
func (d *discard) Watermark(int64) error { return nil }
func (d *discard) Flush() error          { return nil }
func (d *discard) EndInput() error       { return nil }

const benchKeys = 10_000

// warmOperator returns an operator whose cache holds every key.
func warmOperator(tb testing.TB) (*lookup.Operator[int64, int64, string, enriched], []*operators.Batch[int64]) {
	rows := map[int64]string{}
	for k := range int64(benchKeys) {
		rows[k] = "name"
	}
	op := lookup.New(lookup.NewMemTable(rows), func(k int64) int64 { return k },
		func(k int64, v string, ok bool) enriched { return enriched{ID: k, Name: v, Found: ok} },
		lookup.Options{CacheTTL: time.Hour})
	ctx := &operators.Context{Operator: "lookup", BatchSize: 1024, Clock: timeapi.SystemClock{}, Timers: &timers{at: 1 << 62}}
	if err := op.Open(ctx, &discard{}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = op.Close() })
	var batches []*operators.Batch[int64]
	for i := 0; i < benchKeys; i += 1024 {
		b := operators.NewBatch[int64](1024)
		for j := range 1024 {
			b.Append(int64((i*7+j*13)%benchKeys), 1)
		}
		batches = append(batches, b)
	}
	for _, b := range batches { // warm the cache
		if err := op.Push(b); err != nil {
			tb.Fatal(err)
		}
	}
	if err := op.EndInput(); err != nil {
		tb.Fatal(err)
	}
	return op, batches
}

// TestCacheHitAllocs: a cache hit allocates nothing (per batch, so none per
// record).
func TestCacheHitAllocs(t *testing.T) {
	op, batches := warmOperator(t)
	allocs := testing.AllocsPerRun(20, func() {
		for _, b := range batches {
			if err := op.Push(b); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per %d cache hits, want 0", allocs, len(batches)*1024)
	}
}

// BenchmarkLookupJoinWarmCache measures the lookup join on cache hits and,
// in the same run, a plain loop doing the same map lookups and joins; it
// reports lookups/s of both and their ratio (x-of-map-loop: the operator's
// time over the loop's).
func BenchmarkLookupJoinWarmCache(b *testing.B) {
	op, batches := warmOperator(b)
	rows := map[int64]string{}
	for k := range int64(benchKeys) {
		rows[k] = "name"
	}
	out := make([]enriched, 0, 1024)
	sink := 0
	loop := func(n int) time.Duration {
		start := time.Now()
		for i := 0; i < n; {
			bt := batches[(i/1024)%len(batches)]
			out = out[:0]
			for _, k := range bt.Values {
				v, ok := rows[k]
				out = append(out, enriched{ID: k, Name: v, Found: ok})
			}
			sink += len(out)
			i += 1024
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += 1024 {
		if err := op.Push(batches[(i/1024)%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
	opTime := time.Since(start)
	b.StopTimer()
	loopTime := loop(b.N)
	n := float64(b.N - b.N%1024 + 1024*min(1, b.N%1024))
	b.ReportMetric(n/opTime.Seconds(), "lookups/s")
	b.ReportMetric(n/loopTime.Seconds(), "maploop-lookups/s")
	b.ReportMetric(opTime.Seconds()/loopTime.Seconds(), "x-of-map-loop")
	_ = sink
}
