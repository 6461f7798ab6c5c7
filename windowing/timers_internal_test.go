package windowing

import (
	"math/rand/v2"
	"testing"

	"github.com/weirstream/weir/internal/testseed"
)

// TestTimersByKeyGroup: byKeyGroup orders a bucket by key group and keeps
// the order of the timers within a key group.
func TestTimersByKeyGroup(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 3))
	var q timerQueue[int]
	for _, n := range []int{0, 1, 2, 7, 1000, 5000} {
		b := make([]timer[int], n)
		for i := range b {
			b[i] = timer[int]{key: i, kg: uint16(40 + rng.IntN(30))}
		}
		q.byKeyGroup(&b)
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
	}
}
