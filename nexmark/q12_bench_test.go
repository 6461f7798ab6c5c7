package nexmark

import (
	"testing"

	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

// BenchmarkQ12WindowEnd fires the processing-time timers of 50k bidders'
// open windows at once, as q12's windows close: ns per bidder.
func BenchmarkQ12WindowEnd(b *testing.B) {
	const bidders = 50_000
	h, err := testkit.NewHarness(func(r q12Bids) int64 { return r.Bidder }, stream.KeyedProcessFunc[int64, q12Bids, Q12Result](&q12Count{}))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += bidders {
		b.StopTimer()
		for i := range int64(bidders) {
			if err := h.PushNoTime(q12Bids{Bidder: i * 7919, Count: 1, Last: 1}); err != nil {
				b.Fatal(err)
			}
		}
		h.TakeOutput()
		b.StartTimer()
		if err := h.AdvanceProcessingTime(Q12Window); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := len(h.Output()); n != bidders {
		b.Fatalf("%d results, want %d", n, bidders)
	}
}
