package nexmark

import (
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
)

func BenchmarkObserverWrite(b *testing.B) {
	start := time.Now()
	obs := &Observer{Clock: &PaceClock{Start: start, Base: wt0}}
	w := &observerWriter[Q8Result]{obs: obs, due: q8Due}
	in := operators.NewBatch[Q8Result](operators.DefaultBatchSize)
	for i := range operators.DefaultBatchSize {
		in.Append(Q8Result{ID: int64(i), Name: "x", Start: wt0}, wt0.UnixMilli())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += in.Len() {
		if err := w.Write(in); err != nil {
			b.Fatal(err)
		}
	}
}
