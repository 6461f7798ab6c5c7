package timeapi

import (
	"sync"
	"testing"
	"time"
)

func TestManualClock(t *testing.T) {
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewManualClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %v, want %v", got, start)
	}
	c.Advance(1500 * time.Millisecond)
	c.Advance(-time.Hour) // ignored
	c.Set(start)          // earlier: ignored
	want := start.Add(1500 * time.Millisecond)
	if got := c.Now(); !got.Equal(want) {
		t.Fatalf("after Advance and backward moves: Now() = %v, want %v", got, want)
	}
	c.Set(start.Add(time.Hour))
	if got, want := NowMillis(c), Millis(start.Add(time.Hour)); got != want {
		t.Fatalf("NowMillis = %d, want %d", got, want)
	}
	var zero ManualClock
	zero.Advance(time.Second)
	if got := zero.Now(); !got.Equal(time.Time{}.Add(time.Second)) {
		t.Fatalf("zero ManualClock after Advance(1s): %v", got)
	}
}

// TestManualClockConcurrent moves and reads one clock from many goroutines;
// run it with -race. Every reader must see a clock that never goes back, and
// no Advance may be lost.
func TestManualClockConcurrent(t *testing.T) {
	const writers, steps = 8, 500
	start := Time(0)
	c := NewManualClock(start)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range steps {
				c.Advance(time.Millisecond)
				c.Set(start) // always in the past: ignored
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			last := c.Now()
			for range steps {
				now := c.Now()
				if now.Before(last) {
					t.Errorf("clock went back from %v to %v", last, now)
					return
				}
				last = now
			}
		})
	}
	wg.Wait()
	if got, want := NowMillis(c), int64(writers*steps); got != want {
		t.Fatalf("after %d concurrent advances of 1ms: NowMillis = %d, want %d", writers*steps, got, want)
	}
}

func TestSystemClock(t *testing.T) {
	var c Clock = SystemClock{}
	before := time.Now()
	got := c.Now()
	if got.Before(before) || got.After(time.Now()) {
		t.Fatalf("SystemClock.Now() = %v, not between the surrounding time.Now() calls", got)
	}
}

func TestMillisAndTime(t *testing.T) {
	tm := time.Date(2024, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("X", 3600))
	ms := Millis(tm)
	if ms != tm.UnixMilli() {
		t.Fatalf("Millis = %d, want %d", ms, tm.UnixMilli())
	}
	back := Time(ms)
	if back.Location() != time.UTC || !back.Equal(tm.Truncate(time.Millisecond)) {
		t.Fatalf("Time(Millis(t)) = %v, want %v in UTC", back, tm.Truncate(time.Millisecond))
	}
	for _, ms := range []int64{0, -1, 1, 1 << 50, -(1 << 50)} {
		if got := Millis(Time(ms)); got != ms {
			t.Errorf("Millis(Time(%d)) = %d", ms, got)
		}
	}
}

func TestFormatWatermark(t *testing.T) {
	tests := map[int64]string{
		MinWatermark:      "min",
		MaxWatermark:      "max",
		0:                 "1970-01-01T00:00:00.000Z",
		1_700_000_000_123: "2023-11-14T22:13:20.123Z",
		-1:                "1969-12-31T23:59:59.999Z",
	}
	for wm, want := range tests {
		if got := FormatWatermark(wm); got != want {
			t.Errorf("FormatWatermark(%d) = %q, want %q", wm, got, want)
		}
	}
	if NoTimestamp != MinWatermark {
		t.Errorf("NoTimestamp must equal MinWatermark so a stamped NoTimestamp never raises a maximum")
	}
}
