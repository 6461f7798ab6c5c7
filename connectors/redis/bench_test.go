package redis_test

import (
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/operators/lookup"
	"github.com/weirstream/weir/timeapi"
)

type nopTimers struct{}

func (nopTimers) CallbackAt(int64) {}

type count struct{ n int }

func (c *count) Push(b any) error      { c.n += b.(*operators.Batch[string]).Len(); return nil }
func (c *count) Watermark(int64) error { return nil }
func (c *count) Flush() error          { return nil }
func (c *count) EndInput() error       { return nil }

// BenchmarkRedisNoCache runs the lookup join operator against the shared
// Redis with the cache off: every record is a key in an MGET (deduplicated
// per batch of 1024 records over 10000 users), 4 requests in flight.
func BenchmarkRedisNoCache(b *testing.B) {
	c, prefix := sharedClient(b)
	const users = 10000
	seed(b, c, prefix, users)
	op := lookup.New(stringTable(b, c, prefix), func(c click) int { return c.User }, joinName, lookup.Options{CacheSize: -1})
	out := &count{}
	if err := op.Open(&operators.Context{Operator: "bench", BatchSize: 1024, Clock: timeapi.SystemClock{}, Timers: nopTimers{}}, out); err != nil {
		b.Fatal(err)
	}
	defer op.Close()
	in := clicks(1024*16, users, 9)
	var batches []*operators.Batch[click]
	for i := 0; i < len(in); i += 1024 {
		bt := operators.NewBatch[click](1024)
		for _, x := range in[i : i+1024] {
			bt.Append(x, 0)
		}
		batches = append(batches, bt)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += 1024 {
		if err := op.Push(batches[(i/1024)%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := op.EndInput(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(out.n)/time.Since(start).Seconds(), "lookups/s")
	b.ReportMetric(float64(op.Stats().Keys)/float64(max(1, op.Stats().Requests)), "keys/request")
}
