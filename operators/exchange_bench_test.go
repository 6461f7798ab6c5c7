package operators_test

import (
	"testing"

	"github.com/weirstream/weir/operators"
)

// wideRec is a wide record (80 bytes, with a pointer and a string, which
// write barriers see).
type wideRec struct {
	key, a, b int64
	flag      bool
	p         *int64
	c, d, e   int64
	s         string
}

// recycleChannels hands every sent batch straight back, as a consumer
// keeping up would.
type recycleChannels struct {
	n    int
	free [][]any
	sent int
}

func (r *recycleChannels) Len() int { return r.n }
func (r *recycleChannels) Send(ch int, b any) {
	r.sent += b.(*operators.Batch[wideRec]).Len()
	r.free[ch] = append(r.free[ch], b)
}
func (r *recycleChannels) Recycle(ch int) any {
	if len(r.free[ch]) == 0 {
		return nil
	}
	b := r.free[ch][len(r.free[ch])-1]
	r.free[ch] = r.free[ch][:len(r.free[ch])-1]
	return b
}
func (r *recycleChannels) Watermark(int64) {}
func (r *recycleChannels) EndInput()       {}

// BenchmarkHashWriter: one record through a hash exchange of 1 or 2
// channels (ns/op is per record), the writer's side only.
func BenchmarkHashWriter(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(map[int]string{1: "channels=1", 2: "channels=2"}[n], func(b *testing.B) {
			ch := &recycleChannels{n: n, free: make([][]any, n)}
			w := operators.NewHashWriter(func(r wideRec) int64 { return r.key }, operators.HashFunc[int64](), 128, ch, operators.DefaultBatchSize)
			in := operators.NewBatch[wideRec](operators.DefaultBatchSize)
			x := int64(7)
			for i := range operators.DefaultBatchSize {
				in.Append(wideRec{key: int64(i * 7919), p: &x, s: "extra"}, int64(i))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += in.Len() {
				if err := w.Push(in); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if ch.sent == 0 && b.N > 2*operators.DefaultBatchSize {
				b.Fatalf("nothing sent after %d records", b.N)
			}
		})
	}
}
