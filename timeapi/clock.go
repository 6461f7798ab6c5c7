package timeapi

import (
	"sync"
	"time"
)

// Clock gives processing time: the time at which weir handles a record, as
// opposed to the record's event time. Implementations are safe for
// concurrent use. The runtime reads its clock once per loop iteration and
// hands the value to the pure parts of weir (generators, timers).
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told to, for deterministic
// tests. It never goes backwards. It is safe for concurrent use; the zero
// value is a clock standing at the zero time.Time.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a ManualClock standing at start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t. A t earlier than Now is ignored, so the clock
// never goes backwards.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// Advance moves the clock forward by d. A negative d is ignored, so the clock
// never goes backwards.
func (c *ManualClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// NowMillis returns c.Now() as Unix milliseconds.
func NowMillis(c Clock) int64 { return Millis(c.Now()) }
