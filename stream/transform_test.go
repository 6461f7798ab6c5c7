package stream_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
)

// holdOp holds records back until the watermark passes their event time,
// then emits them with the watermark that released them; it counts the
// records of its subtask and emits the count (as a negative value) at the
// end of input.
type holdOp struct {
	operators.Base
	out     *operators.Emitter[[2]int64]
	vals    []int64
	times   []int64
	n       int64
	subtask int
}

func (h *holdOp) Open(ctx *operators.Context, out *operators.Emitter[[2]int64]) error {
	h.out, h.subtask = out, ctx.Subtask
	return nil
}

func (h *holdOp) ProcessBatch(in *operators.Batch[int64]) error {
	h.vals = append(h.vals, in.Values...)
	h.times = append(h.times, in.Times...)
	h.n += int64(len(in.Values))
	return nil
}

func (h *holdOp) ProcessWatermark(wm int64) error {
	keep := 0
	for i, v := range h.vals {
		if h.times[i] <= wm {
			h.out.Emit([2]int64{v, wm}, h.times[i])
			continue
		}
		h.vals[keep], h.times[keep] = v, h.times[i]
		keep++
	}
	h.vals, h.times = h.vals[:keep], h.times[:keep]
	return nil
}

func (h *holdOp) EndInput() error {
	h.out.Emit([2]int64{-h.n, int64(h.subtask)}, timeapi.NoTimestamp)
	return nil
}

func TestTransform(t *testing.T) {
	for _, p := range []int{1, 2} {
		job := stream.NewJob("transform")
		const n = 1000
		src := stream.FromGenerator(job, "gen", n, func(i int64) int64 { return i }).
			WithWatermarks(timeapi.Ascending(func(i int64) time.Time { return t0.Add(time.Duration(i) * time.Millisecond) }))
		calls := 0
		out := testkit.Collect(src.Transform("hold", func() operators.OneInputOperator[int64, [2]int64] {
			calls++
			return &holdOp{}
		}))
		testkit.Run(t, job, runtime.Parallelism(p))
		if calls != p {
			t.Fatalf("p=%d: newOp called %d times, want once per subtask", p, calls)
		}
		var got []int64
		counts := map[int64]int64{}
		for _, r := range out.Records() {
			if r.Value[0] < 0 {
				counts[r.Value[1]] += -r.Value[0]
				continue
			}
			// a record is released by a watermark at or after its time
			if r.Time > r.Value[1] || r.Time != timeapi.Millis(t0)+r.Value[0] {
				t.Fatalf("p=%d: record %d at %d released by watermark %d", p, r.Value[0], r.Time, r.Value[1])
			}
			got = append(got, r.Value[0])
		}
		slices.Sort(got)
		if len(got) != n || got[0] != 0 || got[n-1] != n-1 {
			t.Fatalf("p=%d: %d records out, want %d", p, len(got), n)
		}
		if len(counts) != p {
			t.Fatalf("p=%d: end-of-input counts from subtasks %v, want one per subtask", p, counts)
		}
		for s, c := range counts {
			if c == 0 || (p == 1 && c != n) {
				t.Fatalf("p=%d: subtask %d saw %d records", p, s, c)
			}
		}
	}
}

func TestTransformBuildErrors(t *testing.T) {
	job := stream.NewJob("transform-nil")
	stream.FromSlice(job, "s", []int64{1}).Transform[int64]("x", nil).Print()
	_, err := job.Graph()
	if !errors.Is(err, stream.ErrNilFunc) || !strings.Contains(err.Error(), `Transform "x"`) {
		t.Fatalf("nil operator: %v", err)
	}
}
