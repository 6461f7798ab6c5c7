package runtime_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
)

// skewSource has two splits over the event times 0..n-1 ms: split 0 fills
// every batch, split 1 gives one record per read, so without alignment
// split 0 races ahead of split 1's watermark.
type skewSource struct{ n int64 }

type skewSplit int

func (s skewSplit) SplitID() string { return fmt.Sprint("skew-", int(s)) }

func (s skewSource) Splits(int) ([]operators.Split, error) {
	return []operators.Split{skewSplit(0), skewSplit(1)}, nil
}
func (s skewSource) Bounded() bool { return true }
func (s skewSource) Open(_ *operators.Context, sp operators.Split, _ []byte) (operators.Reader[int64], error) {
	return &skewReader{n: s.n, slow: sp.(skewSplit) == 1}, nil
}

type skewReader struct {
	n, next int64
	slow    bool
}

func (r *skewReader) Read(b *operators.Batch[int64]) error {
	room := cap(b.Values) - len(b.Values)
	if r.slow {
		room = 1
	}
	for ; room > 0 && r.next < r.n; room-- {
		b.Values = append(b.Values, r.next)
		r.next++
	}
	if r.next >= r.n {
		return io.EOF
	}
	return nil
}
func (r *skewReader) Position() ([]byte, error) { return nil, nil }
func (r *skewReader) Close() error              { return nil }

// skewRun runs the two splits at parallelism 2 into a keyed operator and
// returns how far (ms) a record's time got ahead of the operator's
// watermark, and the record count.
func skewRun(t *testing.T, opts ...runtime.Option) (lead int64, count int) {
	job := stream.NewJob("align")
	var mu sync.Mutex
	stream.FromSource(job, "skew", operators.Source[int64](skewSource{n: 20_000})).
		WithWatermarks(timeapi.Ascending(func(v int64) time.Time { return time.UnixMilli(v) })).
		KeyBy(func(v int64) int64 { return 0 }).
		Process(stream.ProcessFuncs[int64, int64, int64]{
			Element: func(ctx *stream.Context[int64, int64], v int64) error {
				wm := timeapi.Millis(ctx.Watermark())
				mu.Lock()
				if wm > 0 {
					lead = max(lead, v-wm)
				}
				count++
				mu.Unlock()
				return nil
			},
		}).SinkTo(operators.Discard[int64]())
	opts = append(opts, runtime.Parallelism(2), runtime.BatchSize(16))
	if err := runtime.Run(context.Background(), job, opts...); err != nil {
		t.Fatal(err)
	}
	return lead, count
}

// TestWatermarkAlignment: with alignment a fast split stays within the
// drift (plus a batch and the in-flight batches) of the slowest; without,
// it runs thousands of ms ahead. Every record arrives either way.
func TestWatermarkAlignment(t *testing.T) {
	free, n := skewRun(t)
	if n != 40_000 {
		t.Fatalf("%d records without alignment, want 40000", n)
	}
	aligned, n := skewRun(t, runtime.WatermarkAlignment(50*time.Millisecond))
	if n != 40_000 {
		t.Fatalf("%d records with alignment, want 40000", n)
	}
	if aligned > 400 {
		t.Errorf("with a 50ms alignment a record got %dms ahead of the watermark", aligned)
	}
	if free < 2000 {
		t.Errorf("without alignment the fast split got only %dms ahead; the test does not test", free)
	}
	t.Logf("lead without alignment %dms, with 50ms alignment %dms", free, aligned)
}
