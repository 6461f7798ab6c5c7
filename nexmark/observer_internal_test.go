package nexmark

import (
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
)

// TestTimelineEpisodes: slow results are counted by the millisecond they
// reached the sink in, and milliseconds with no more than the gap between
// them join into one episode with the count and the slowest of its own.
func TestTimelineEpisodes(t *testing.T) {
	var a, b Timeline
	ms := time.Millisecond
	a.add(100*ms+300*time.Microsecond, 2*ms)
	a.add(100*ms+900*time.Microsecond, 5*ms)
	a.add(104*ms, 3*ms) // 3 ms after the first millisecond's end: same episode
	b.add(2000*ms, 7*ms)
	b.add(-ms, ms) // before the start: the first millisecond
	a.merge(&b)
	got := a.Episodes(3 * ms)
	want := []Episode{
		{From: 0, To: ms, Count: 1, Max: ms},
		{From: 100 * ms, To: 105 * ms, Count: 3, Max: 5 * ms},
		{From: 2000 * ms, To: 2001 * ms, Count: 1, Max: 7 * ms},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("episodes %+v, want %+v", got, want)
	}
	if got := a.Episodes(2 * ms); len(got) != 4 {
		t.Fatalf("with a 2 ms gap: %d episodes, want 4 (%+v)", len(got), got)
	}
	if c := a.clone(); len(c.Episodes(3*ms)) != 3 {
		t.Fatal("clone lost episodes")
	}
}

// TestObserverSlowTimeline: with SlowAbove set, the sink's results slower
// than it land in the observer's timeline when the sink closes; faster
// ones and results before they were due do not.
func TestObserverSlowTimeline(t *testing.T) {
	start := time.Now().Add(-50 * time.Millisecond)
	base := time.UnixMilli(0)
	obs := &Observer{Clock: &PaceClock{Start: start, Base: base}, SlowAbove: 20 * time.Millisecond}
	w, err := observerSink[int]{obs: obs}.Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := operators.NewBatch[int](4)
	b.Append(1, 0)   // due at the start: ~50 ms late
	b.Append(2, 45)  // ~5 ms late
	b.Append(3, 500) // not due yet
	if err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if n := len(obs.Slow().Episodes(time.Millisecond)); n != 0 {
		t.Fatalf("%d episodes before the sink closed", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	eps := obs.Slow().Episodes(time.Millisecond)
	if len(eps) != 1 || eps[0].Count != 1 || eps[0].Max < 45*time.Millisecond {
		t.Fatalf("episodes %+v, want one of 1 result about 50 ms late", eps)
	}
	if at := eps[0].From; at < 40*time.Millisecond || at > 5*time.Second {
		t.Fatalf("episode at %v since the pace start, want about 50 ms", at)
	}
	if h := obs.Latency(); obs.Early() != 1 || h.Count() != 2 {
		t.Fatalf("early %d, latencies %d; want 1 and 2", obs.Early(), h.Count())
	}
}

// TestObserverLatency: a result's latency is the time from its due time
// (its record time, Spec.Due's event time, or Spec.DueWall's wall time,
// mapped by the pace clock) to the sink's Write, to the nanosecond the
// clocks give.
func TestObserverLatency(t *testing.T) {
	start := time.Now().Add(-50 * time.Millisecond)
	base := time.UnixMilli(1_000_000)
	cases := []struct {
		name string
		sink observerSink[int]
		due  time.Duration // from the pace clock's start
	}{
		{"record time", observerSink[int]{}, 7 * time.Millisecond},
		{"due", observerSink[int]{due: func(v *int) int64 { return base.Add(time.Duration(*v) * time.Millisecond).UnixNano() }}, 7 * time.Millisecond},
		{"due wall", observerSink[int]{dueWall: func(v *int) int64 { return start.Add(time.Duration(*v) * time.Millisecond).UnixNano() }}, 7 * time.Millisecond},
	}
	for _, c := range cases {
		obs := &Observer{Clock: &PaceClock{Start: start, Base: base}}
		c.sink.obs = obs
		w, err := c.sink.Open(nil)
		if err != nil {
			t.Fatal(err)
		}
		b := operators.NewBatch[int](1)
		b.Append(7, base.UnixMilli()+7) // due 7 ms after the pace clock's start
		before := time.Since(start)
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		after := time.Since(start)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		h := obs.Latency()
		if lo, hi := before-c.due, after-c.due; h.Count() != 1 || h.Max() < lo || h.Max() > hi {
			t.Errorf("%s: latency %v (%d recorded), want one in [%v, %v]", c.name, h.Max(), h.Count(), lo, hi)
		}
	}
}
