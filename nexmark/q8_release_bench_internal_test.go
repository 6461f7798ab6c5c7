package nexmark

import (
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
)

// sinkOut is an operators.Output that hands batches to a writer, as a
// chained sink does.
type sinkOut[R any] struct{ w operators.Writer[R] }

func (s sinkOut[R]) Push(b any) error      { return s.w.Write(b.(*operators.Batch[R])) }
func (s sinkOut[R]) Watermark(int64) error { return nil }
func (s sinkOut[R]) Flush() error          { return nil }
func (s sinkOut[R]) EndInput() error       { return nil }

// BenchmarkQ8Release releases one subtask's share of a q8 window (64k
// results) from winHoldOf's operator into the observer, as a paced run's
// window end does: ns per result. (28-30 ns when the release went through
// a flat map and Spec.Due worked in time.Time; 6-10 ns now.)
func BenchmarkQ8Release(b *testing.B) {
	const n = 64_000
	start := time.Now()
	obs := &Observer{Clock: &PaceClock{Start: start, Base: wt0}}
	w := &observerWriter[Q8Result]{obs: obs, due: q8Due}
	sinkEm := operators.NewEmitter[Q8Result](sinkOut[Q8Result]{w}, 0)
	l := &winHold[Q8Result, Q8Result]{winTopLocal: winTopLocal[Q8Result, Q8Result]{
		score: func(v *Q8Result, ts int64) (int64, int64, bool) { return ts + 1, 0, true },
		item:  func(v *Q8Result) Q8Result { return *v }}}
	if err := l.Open(&operators.Context{}, sinkEm); err != nil {
		b.Fatal(err)
	}
	in := operators.NewBatch[Q8Result](n)
	end := wt0.UnixMilli() + 10_000
	for i := range n {
		in.Append(Q8Result{ID: int64(i), Name: "somebody", Start: wt0}, end-1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += n {
		b.StopTimer()
		if err := l.ProcessBatch(in); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := l.ProcessWatermark(end - 1); err != nil {
			b.Fatal(err)
		}
		if err := sinkEm.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if w.count == 0 {
		b.Fatal("no results")
	}
}
