package nexmark

import (
	"fmt"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"

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

// heldCheck fails the job if a record arrives before the watermark that
// passes its time: each watermark must be at or past the times of the
// records that came since the last one. Results released early (before
// their window closes) come while the watermark is still before it.
type heldCheck[T any] struct {
	operators.Base
	out    *operators.Emitter[T]
	latest int64 // the latest record time since the last watermark
	seen   int
}

func (c *heldCheck[T]) Open(_ *operators.Context, out *operators.Emitter[T]) error {
	c.out, c.latest = out, timeapi.MinWatermark
	return nil
}

func (c *heldCheck[T]) ProcessBatch(in *operators.Batch[T]) error {
	for i := range in.Values {
		c.latest = max(c.latest, in.Times[i])
		c.out.Emit(in.Values[i], in.Times[i])
	}
	c.seen += in.Len()
	return nil
}

func (c *heldCheck[T]) ProcessWatermark(wm int64) error {
	if c.latest > wm {
		return fmt.Errorf("a result at %s came before the watermark passed it (%s)", timeapi.FormatWatermark(c.latest), timeapi.FormatWatermark(wm))
	}
	c.latest = timeapi.MinWatermark
	return nil
}

// TestQ8HoldsResults: every result leaves the job after the watermark
// passes its window's end, at every parallelism (each subtask releases
// its own share of a window).
func TestQ8HoldsResults(t *testing.T) {
	s := time.Second
	var events []Event
	for w := range int64(3) { // three windows, each with people matching as they go
		for i := range int64(20) {
			at := time.Duration(w)*10*s + time.Duration(i)*400*time.Millisecond
			id := w*100 + i
			events = append(events, personAt(at, id, fmt.Sprint("p", id)), auctionAt(at+time.Millisecond, 1000+id, id))
		}
	}
	for p := 1; p <= 3; p++ {
		job := stream.NewJob("q8-held")
		src := stream.FromGenerator(job, "events", int64(len(events)), func(i int64) Event { return events[i] })
		out := testkit.Collect(Q8(src).Transform("held-check", func() operators.OneInputOperator[Q8Result, Q8Result] {
			return &heldCheck[Q8Result]{}
		}))
		// batches of two events: watermarks come between the windows' events
		testkit.Run(t, job, runtime.Parallelism(p), runtime.BatchSize(2))
		if n := len(out.Values()); n != 60 {
			t.Fatalf("p=%d: %d results, want 60", p, n)
		}
	}
}
