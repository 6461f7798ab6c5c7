package nexmark

import (
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
)

func q5Line(end time.Duration, auction, count int64) string {
	e := wat(end)
	return formatQ5(Q5Result{Auction: auction, Count: count, Start: e.Add(-Q5Size), End: e})
}

// TestQ5Windows: two auctions tie for the first pane's windows, a third
// is alone in the later ones; windows of no bids give nothing.
func TestQ5Windows(t *testing.T) {
	s := time.Second
	var events []Event
	for i := range 3 {
		events = append(events, bidAt(time.Duration(500+i)*time.Millisecond, 1, 10, 1))
		events = append(events, bidAt(time.Duration(1000+i)*time.Millisecond, 2, 11, 1))
	}
	events = append(events, bidAt(3*s, 3, 12, 1), bidAt(3*s+time.Millisecond, 3, 12, 1))
	var want []string
	for end := 2 * s; end <= 10*s; end += 2 * s {
		want = append(want, q5Line(end, 1, 3), q5Line(end, 2, 3))
	}
	want = append(want, q5Line(12*s, 3, 2))
	checkLines(t, "hand-written loop", handOn(events, handQ5On, formatQ5), want)
	for p := 1; p <= 3; p++ {
		checkLines(t, fmt.Sprintf("job at p=%d", p), runOn(t, Q5, formatQ5, events, p), want)
	}
}

// TestQ5Gap: a silence longer than a window between bids: the windows in
// between have no result, and each group's windows see only it.
func TestQ5Gap(t *testing.T) {
	s := time.Second
	events := []Event{bidAt(s, 1, 10, 1), bidAt(30*s, 2, 10, 1), bidAt(31*s, 2, 10, 1)}
	var want []string
	for end := 2 * s; end <= 10*s; end += 2 * s {
		want = append(want, q5Line(end, 1, 1))
	}
	for end := 32 * s; end <= 40*s; end += 2 * s {
		want = append(want, q5Line(end, 2, 2))
	}
	checkLines(t, "hand-written loop", handOn(events, handQ5On, formatQ5), want)
	checkLines(t, "job", runOn(t, Q5, formatQ5, events, 2), want)
}

// TestQ5CounterOverflow: bids more than a slide apart in event time, under
// a watermark that has not moved, need more windows than an auction's
// entry holds; the others go to the overflow map state. The candidates
// sent are every count that reaches the highest sent for its window, the
// final counts are right in every window, and once the watermark passes
// the last window no timer is left.
func TestQ5CounterOverflow(t *testing.T) {
	h, err := testkit.NewHarness(func(a int64) int64 { return a }, stream.KeyedProcessFunc[int64, int64, q5Count](&q5Counter{}))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ms := time.Millisecond
	// auction 7: windows 2000..10000, then 6000..14000 (14000 shares a
	// slot with the open 2000), then one more bid in each of 2000 and 14000
	for _, b := range []struct {
		auction int64
		at      time.Duration
	}{{7, 100 * ms}, {7, 4100 * ms}, {7, 150 * ms}, {7, 4200 * ms}, {8, 110 * ms}} {
		if err := h.Push(b.auction, wat(b.at)); err != nil {
			t.Fatal(err)
		}
	}
	final := map[[2]int64]int64{}
	for _, r := range h.TakeOutput() {
		c := r.Value
		k := [2]int64{c.Auction, c.End - timeapi.Millis(wat(0))}
		if c.Count <= final[k] {
			t.Fatalf("candidate %+v after count %d", c, final[k])
		}
		final[k] = c.Count
	}
	want := map[[2]int64]int64{
		{7, 2000}: 2, {7, 4000}: 2, {7, 6000}: 4, {7, 8000}: 4, {7, 10000}: 4, {7, 12000}: 2, {7, 14000}: 2,
		// auction 8's one bid is behind 7's counts: it is sent only for
		// window 2000, whose filter slot tracks window 14000 by then (a
		// filter that does not know a window's highest count sends)
		{8, 2000}: 1,
	}
	if len(final) != len(want) {
		t.Errorf("sent %v, want %v", final, want)
	}
	for k, n := range want {
		if final[k] != n {
			t.Errorf("auction %d window ending %d: %d bids sent, want %d", k[0], k[1], final[k], n)
		}
	}
	if err := h.AdvanceWatermark(wat(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := h.PendingTimerCount(); n != 0 {
		t.Errorf("%d timers left after every window ended", n)
	}
}
