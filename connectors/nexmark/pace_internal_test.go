package nexmark

import (
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
)

// OneReader opens the reader of s as one split (for the tests of package
// nexmark_test too).
func OneReader(t testing.TB, s *Source) operators.Reader[Event] {
	t.Helper()
	splits, err := s.Splits(1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(nil, splits[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPaceMonotonic: a paced reader releases events by the time since the
// pace start on the monotonic clock, not by the wall clock, and NextReady
// converts the wait to the wall clock the runtime sleeps by. The test
// stands in for the monotonic clock (since) with one that says 40.5 ms
// passed, while the wall clock says almost nothing did: the events of the
// first 40 ms (1 per ms) are due, and the next one 0.5 ms from now.
func TestPaceMonotonic(t *testing.T) {
	defer func(f func(now, start time.Time) time.Duration) { since = f }(since)
	since = func(time.Time, time.Time) time.Duration { return 40*time.Millisecond + 500*time.Microsecond }
	src, err := NewSource(Options{Seed: 3, Events: 100, Rate: 1000, Pace: true, PaceStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	r := OneReader(t, src)
	b := operators.NewBatch[Event](100)
	if err := r.Read(b); err != nil {
		t.Fatal(err)
	}
	if len(b.Values) != 41 {
		t.Fatalf("read %d events 40.5 ms after the start on the monotonic clock, want 41 (event times 0-40 ms)", len(b.Values))
	}
	before := time.Now().UnixNano()
	next := r.(operators.ReadyHinter).NextReady()
	after := time.Now().UnixNano()
	wait := 500 * time.Microsecond
	if next < before+int64(wait) || next > after+int64(wait) {
		t.Errorf("NextReady is %v from now, want %v", time.Duration(next-before), wait)
	}
}
