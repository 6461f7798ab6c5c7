package timeapi

import (
	"math"
	"time"
)

const (
	// MinWatermark is the watermark of an input that has promised nothing yet.
	MinWatermark int64 = math.MinInt64
	// MaxWatermark is the watermark of an input that has ended; it fires
	// every window and event-time timer.
	MaxWatermark int64 = math.MaxInt64
	// NoTimestamp is the event time of a record that has none.
	NoTimestamp int64 = math.MinInt64
)

// Millis returns t as Unix milliseconds, weir's internal event-time unit.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// Time returns the UTC time.Time of ms Unix milliseconds.
func Time(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// FormatWatermark renders a watermark or event time for logs and tests:
// "min" for MinWatermark (and NoTimestamp), "max" for MaxWatermark, and an
// RFC 3339 UTC time with milliseconds otherwise.
func FormatWatermark(wm int64) string {
	switch wm {
	case MinWatermark:
		return "min"
	case MaxWatermark:
		return "max"
	}
	return Time(wm).Format("2006-01-02T15:04:05.000Z07:00")
}

// millisOrNone converts t to Unix milliseconds; the zero time.Time means
// "none" and becomes NoTimestamp.
func millisOrNone(t time.Time) int64 {
	if t.IsZero() {
		return NoTimestamp
	}
	return t.UnixMilli()
}

// durationMillisCeil converts a non-negative d to whole milliseconds,
// rounding up so that any positive d is at least 1ms.
func durationMillisCeil(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms
}
