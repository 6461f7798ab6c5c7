package windowing

import (
	"math/rand/v2"
	"testing"

	"github.com/weirstream/weir/internal/testseed"
)

// TestTimersByKeyGroup: the timers of one time, added to a bucket in
// chunks, come back from byKeyGroup ordered by key group, in their order
// within a key group, none lost.
func TestTimersByKeyGroup(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 3))
	q := newTimerQueue[int]()
	for _, n := range []int{0, 1, 2, 7, 1000, 5000} {
		for i := range n {
			q.add(99, timer[int]{key: i, kg: uint16(40 + rng.IntN(30))})
		}
		var bk *bucket[int]
		if n > 0 {
			var ok bool
			if _, bk, ok = q.pop(99); !ok || bk.Timers.Len() != n {
				t.Fatalf("n=%d: popped %v", n, bk)
			}
		} else {
			bk = new(bucket[int])
		}
		var b []timer[int]
		for _, run := range q.byKeyGroup(bk) {
			b = append(b, run...)
		}
		if len(b) != n {
			t.Fatalf("%d timers became %d", n, len(b))
		}
		seen := make([]bool, n)
		for i := range b {
			seen[b[i].key] = true
			if i > 0 && (b[i].kg < b[i-1].kg || b[i].kg == b[i-1].kg && b[i].key < b[i-1].key) {
				t.Fatalf("n=%d: timer %d (kg %d, key %d) after (kg %d, key %d)", n, i, b[i].kg, b[i].key, b[i-1].kg, b[i-1].key)
			}
		}
		for k, ok := range seen {
			if !ok {
				t.Fatalf("n=%d: timer of key %d lost", n, k)
			}
		}
		q.recycle(bk)
		if q.len() != 0 {
			t.Fatalf("n=%d: %d timers left", n, q.len())
		}
	}
}
