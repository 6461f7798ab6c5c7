package nexmark

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

// TestQ12ProcessingTime: bids count in the window of the processing time
// they reach the window operator at, whatever their event time; results
// carry the window's end - 1ms and the event time of the bidder's latest
// bid. testkit.Run's clock stands still at testkit.Epoch, so every bid
// falls in [Epoch, Epoch+10s), emitted at the end of the input.
func TestQ12ProcessingTime(t *testing.T) {
	events := []Event{
		bidAt(0, 1, 10, 1),
		bidAt(25*time.Second, 1, 11, 1),
		bidAt(time.Hour, 2, 10, 1),
		bidAt(3*time.Second, 2, 10, 1),
	}
	e := testkit.Epoch
	for p := 1; p <= 3; p++ {
		job := stream.NewJob("q12-test")
		src := stream.FromGenerator(job, "events", int64(len(events)), func(i int64) Event { return events[i] })
		out := testkit.Collect(Q12(WithEventTime(src)))
		testkit.Run(t, job, runtime.Parallelism(p))
		var got []string
		for _, r := range out.Records() {
			v := r.Value
			got = append(got, fmt.Sprintf("%s last=%v", formatQ12(v), v.Last.Sub(wt0)))
			if want := v.End.Add(-time.Millisecond); !r.EventTime().Equal(want) {
				t.Errorf("p=%d: %s carries time %v, want %v (its window's end - 1ms)", p, formatQ12(v), r.EventTime(), want)
			}
		}
		w := func(bidder, count int64, last time.Duration) string {
			return fmt.Sprintf("%s last=%v", formatQ12(Q12Result{Bidder: bidder, Count: count, Start: e, End: e.Add(Q12Window)}), last)
		}
		checkLines(t, fmt.Sprintf("p=%d", p), slices.Sorted(slices.Values(got)), []string{w(10, 3, time.Hour), w(11, 1, 25*time.Second)})
	}
}

// tickClock is a clock that moves on by step at every reading, so that
// processing-time windows close while a deterministic job runs.
type tickClock struct {
	now  time.Time
	step time.Duration
}

func (c *tickClock) Now() time.Time { c.now = c.now.Add(c.step); return c.now }

// q12Seen is a result and the processing time at which it was emitted.
type q12Seen struct {
	Q12Result
	at time.Time
}

// TestQ12WindowsClose runs q12 with a clock that moves on at every
// reading: windows close during the run (through the runtime's
// processing-time callbacks) and are emitted then, every bid is counted
// in exactly one well-formed window, and bidders have rows in several
// windows.
func TestQ12WindowsClose(t *testing.T) {
	src, err := gen.NewSource(gen.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	events := make([]Event, 20_000)
	for i := range events {
		events[i] = src.Event(int64(i))
	}
	for p := 1; p <= 2; p++ {
		job := stream.NewJob("q12-ticking")
		in := stream.FromGenerator(job, "events", int64(len(events)), func(i int64) Event { return events[i] })
		clock := &tickClock{now: testkit.Epoch, step: 400 * time.Millisecond}
		// the clock's time when each result is emitted (the job runs on
		// this goroutine)
		out := testkit.Collect(Q12(in).Map(func(r Q12Result) q12Seen { return q12Seen{r, clock.now} }))
		testkit.Run(t, job, runtime.Parallelism(p), runtime.BatchSize(64), runtime.Clock(clock))
		var got []string
		wins := map[time.Time]bool{}
		for _, r := range out.Values() {
			got = append(got, formatQ12(r.Q12Result))
			wins[r.Start] = true
			// (before its end: a window the end of the input closed)
			if late := r.at.Sub(r.End); late > 2*time.Second {
				t.Errorf("p=%d: %s emitted at %v, %v after its end", p, formatQ12(r.Q12Result), r.at.Sub(testkit.Epoch), late)
			}
		}
		if err := Q12Compare(got, handOn(events, handQ12On, formatQ12)); err != nil {
			t.Errorf("p=%d: %v", p, err)
		}
		if len(wins) < 3 {
			t.Errorf("p=%d: %d windows; the clock moved %v per reading, so windows should have closed during the run", p, len(wins), 400*time.Millisecond)
		}
	}
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
