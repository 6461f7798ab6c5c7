package nexmark

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

// TestQ12ProcessingTime drives q12's process function with a manual
// clock: bids count in the window of the processing time they arrive at,
// a window is emitted when processing time passes its end, and the open
// windows at the end of the input.
func TestQ12ProcessingTime(t *testing.T) {
	h, err := testkit.NewHarness(func(b q12Bids) int64 { return b.Bidder }, stream.KeyedProcessFunc[int64, q12Bids, Q12Result](&q12Count{}))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	e := testkit.Epoch // a multiple of 10 s
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	push := func(bidder, count int64) { must(h.PushNoTime(q12Bids{Bidder: bidder, Count: count, Last: 1})) }
	took := func(want ...string) {
		t.Helper()
		var got []string
		for _, r := range h.TakeOutput() {
			got = append(got, formatQ12(r.Value))
			if !r.EventTime().Equal(r.Value.End) {
				t.Errorf("%s carries time %v, want its window's end", formatQ12(r.Value), r.EventTime())
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("output at %v:\ngot  %q\nwant %q", h.ProcessingTime().Sub(e), got, want)
		}
	}
	line := func(bidder, count int64, from time.Duration) string {
		return formatQ12(Q12Result{Bidder: bidder, Count: count, Start: e.Add(from), End: e.Add(from + Q12Window)})
	}
	push(1, 2)
	push(2, 1)
	must(h.AdvanceProcessingTime(Q12Window - time.Millisecond))
	push(1, 3)
	took()
	must(h.AdvanceProcessingTime(time.Millisecond))
	took(line(1, 5, 0), line(2, 1, 0))
	push(1, 4)
	must(h.AdvanceProcessingTime(25 * time.Second))
	took(line(1, 4, 10*time.Second))
	push(1, 7)
	push(3, 1)
	must(h.EndInput())
	took(line(1, 7, 30*time.Second), line(3, 1, 30*time.Second))
	// the windows' processing-time timers find nothing left to emit
	must(h.AdvanceProcessingTime(Q12Window))
	took()
}

// TestQ12Compare: the conservation check accepts windows adding up to
// the totals and rejects everything else.
func TestQ12Compare(t *testing.T) {
	hand := []string{"bidder=1 count=5 window=none", "bidder=2 count=1 window=none"}
	w0 := "window=[2026-01-01T00:00:00.000,2026-01-01T00:00:10.000)"
	w1 := "window=[2026-01-01T00:00:10.000,2026-01-01T00:00:20.000)"
	ok := []string{"bidder=1 count=2 " + w0, "bidder=1 count=3 " + w1, "bidder=2 count=1 " + w1}
	if err := Q12Compare(ok, hand); err != nil {
		t.Fatalf("rejected good results: %v", err)
	}
	bad := map[string][]string{
		"differ":        {"bidder=1 count=2 " + w0, "bidder=1 count=2 " + w1, "bidder=2 count=1 " + w1},
		"missing":       {"bidder=1 count=5 " + w0},
		"extra bidder":  append(append([]string{}, ok...), "bidder=3 count=1 "+w0),
		"two rows":      {"bidder=1 count=2 " + w0, "bidder=1 count=3 " + w0, "bidder=2 count=1 " + w1},
		"not aligned":   {"bidder=1 count=5 window=[2026-01-01T00:00:01.000,2026-01-01T00:00:11.000)", "bidder=2 count=1 " + w1},
		"not 10 s":      {"bidder=1 count=5 window=[2026-01-01T00:00:00.000,2026-01-01T00:00:20.000)", "bidder=2 count=1 " + w1},
		"no window":     {"bidder=1 count=5 window=none", "bidder=2 count=1 " + w1},
		"garbage":       {"hello"},
		"zero count":    {"bidder=1 count=0 " + w0, "bidder=1 count=5 " + w1, "bidder=2 count=1 " + w1},
		"bad timestamp": {"bidder=1 count=5 window=[2026-01-01,2026-01-01T00:00:10.000)", "bidder=2 count=1 " + w1},
	}
	for name, job := range bad {
		if err := Q12Compare(job, hand); err == nil {
			t.Errorf("%s: accepted %q", name, strings.Join(job, "; "))
		}
	}
}
