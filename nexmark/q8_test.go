package nexmark

import (
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
)

func q8Line(start time.Duration, id int64, name string) string {
	return formatQ8(Q8Result{ID: id, Name: name, Start: wat(start)})
}

// TestQ8Windows: a person reported once however many auctions they open
// in their window, also when the auction comes first; an auction in the
// next window or by someone else does not count.
func TestQ8Windows(t *testing.T) {
	s := time.Second
	events := []Event{
		auctionAt(0, 100, 2), // before person 2 registers, same window
		personAt(1*s, 1, "ann"),
		personAt(2*s, 2, "bob"),
		auctionAt(3*s, 101, 1),
		auctionAt(4*s, 102, 1), // ann's second auction: still one row
		personAt(5*s, 3, "cid"),
		auctionAt(6*s, 103, 99), // an unknown seller
		auctionAt(10*s, 104, 3), // cid, but in the next window
		personAt(15*s, 4, "dan"),
		auctionAt(19*s+999*time.Millisecond, 105, 4),
		bidAt(19*s, 105, 1, 10), // bids do not matter
	}
	want := []string{q8Line(0, 1, "ann"), q8Line(0, 2, "bob"), q8Line(10*s, 4, "dan")}
	checkLines(t, "hand-written loop", handOn(events, handQ8On, formatQ8), want)
	for p := 1; p <= 3; p++ {
		checkLines(t, fmt.Sprintf("job at p=%d", p), runOn(t, Q8, formatQ8, events, p), want)
	}
}

// TestQ8MatcherOverflow: an id's events for two open windows (more than a
// window apart in event time, under a watermark that has passed neither)
// match in each; the second window lives in the overflow map state. Each
// match is sent once, at its window's last instant, and once the
// watermark passes both windows no timer is left.
func TestQ8MatcherOverflow(t *testing.T) {
	h, err := testkit.NewHarness(func(r q8In) int64 { return r.ID }, stream.KeyedProcessFunc[int64, q8In, Q8Result](&q8Matcher{}))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	s, ms := time.Second, time.Millisecond
	for _, e := range []struct {
		in q8In
		at time.Duration
	}{
		{q8In{ID: 5, Name: "eve", Person: true}, 100 * ms},
		{q8In{ID: 5}, 12 * s},
		{q8In{ID: 5}, 200 * ms},                              // window 0 matches
		{q8In{ID: 5}, 300 * ms},                              // again: no second result
		{q8In{ID: 5, Name: "eve", Person: true}, 12500 * ms}, // window 10 s matches
	} {
		if err := h.Push(e.in, wat(e.at)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range h.TakeOutput() {
		due := timeapi.Millis(r.Value.Start.Add(Q8Window)) - 1
		if r.Time != due {
			t.Errorf("%s sent at %v, want its window's last instant", formatQ8(r.Value), r.EventTime())
		}
		got = append(got, formatQ8(r.Value))
	}
	checkLines(t, "matcher", got, []string{q8Line(0, 5, "eve"), q8Line(10*s, 5, "eve")})
	if err := h.AdvanceWatermark(wat(30 * s)); err != nil {
		t.Fatal(err)
	}
	if n := h.PendingTimerCount(); n != 0 {
		t.Errorf("%d timers left after both windows ended", n)
	}
}
