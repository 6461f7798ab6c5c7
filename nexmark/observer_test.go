package nexmark_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/nexmark"
)

// TestHistogramQuantiles records random durations over six orders of
// magnitude and checks quantiles against the sorted values (within the
// bucket width, 1/32).
func TestHistogramQuantiles(t *testing.T) {
	rnd := rand.New(rand.NewPCG(testseed.Seed(t), 2))
	var h, a, b nexmark.Histogram
	var all []time.Duration
	for i := range 100_000 {
		d := time.Duration(rnd.ExpFloat64() * float64(time.Duration(1)<<rnd.IntN(20)))
		all = append(all, d)
		h.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	slices.Sort(all)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999} {
		want := all[int(q*float64(len(all)-1))]
		got := h.Quantile(q)
		if got > want || float64(want-got) > float64(want)/32+1 {
			t.Errorf("q%.3f = %v, want %v (within 1/32 below)", q, got, want)
		}
		if m := a.Quantile(q); m != got {
			t.Errorf("merged histogram q%.3f = %v, whole %v", q, m, got)
		}
	}
	if h.Quantile(1) != all[len(all)-1] || h.Max() != all[len(all)-1] || h.Count() != int64(len(all)) {
		t.Errorf("max %v / q1 %v / count %d, want %v and %d", h.Max(), h.Quantile(1), h.Count(), all[len(all)-1], len(all))
	}
	var empty nexmark.Histogram
	if empty.Quantile(0.5) != -1 {
		t.Error("an empty histogram has a median")
	}
	empty.Record(-5)
	if empty.Quantile(0.5) != 0 {
		t.Errorf("a negative duration counts as %v, want 0", empty.Quantile(0.5))
	}
}
