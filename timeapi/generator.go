package timeapi

import "time"

// Generator stamps event times and tracks the watermark of one source split.
// It is created by WatermarkStrategy.NewGenerator and used by one goroutine
// (the worker that reads the split); the runtime calls it once per batch, not
// once per record. A Generator never emits MaxWatermark itself: the runtime
// does that at the end of a bounded split.
type Generator[T any] struct {
	ts    func(T) time.Time
	punct func(v T, ts time.Time) (time.Time, bool) // nil unless Punctuated

	native  bool  // RecordTimestamps or WithRecordTimestamps: prefer the records' times
	delayMs int64 // bounded out-of-orderness, whole ms
	idleMs  int64 // idleness timeout, whole ms; 0 disables

	maxTs   int64 // largest event time stamped so far (bounded strategies)
	punctWm int64 // largest watermark punctuation so far (Punctuated)

	lastActive int64 // processing time of the last records, or of the first Idle call
	timerOn    bool  // lastActive is set
}

// Native reports whether the generator prefers the records' own times
// (RecordTimestamps, WithRecordTimestamps): a caller that has them calls
// StampRecorded.
func (g *Generator[T]) Native() bool { return g.native }

// Extracts reports whether the generator has a timestamp function (Stamp
// can extract times from records).
func (g *Generator[T]) Extracts() bool { return g.ts != nil }

// StampRecorded is Stamp for records whose event times are already in
// times (Unix ms, NoTimestamp for none): it leaves them and tracks the
// watermark over them. For Punctuated strategies it is Stamp's job.
func (g *Generator[T]) StampRecorded(times []int64, now int64) {
	if len(times) == 0 {
		return
	}
	g.lastActive, g.timerOn = now, true
	g.maxTs = maxOf(g.maxTs, times)
}

func maxOf(m int64, times []int64) int64 {
	for _, ms := range times {
		m = max(m, ms)
	}
	return m
}

// Stamp sets times[i] to the event time (Unix ms) of vals[i], or NoTimestamp
// when it has none, and updates the largest event time or the latest
// punctuation. times must be at least as long as vals. A non-empty batch also
// records now (processing time, Unix ms) as the split's last activity, which
// makes an idle split active again. Stamp does not allocate.
func (g *Generator[T]) Stamp(vals []T, times []int64, now int64) {
	if len(vals) == 0 {
		return
	}
	times = times[:len(vals)]
	g.lastActive, g.timerOn = now, true
	switch {
	case g.native && g.ts == nil:
		g.maxTs = maxOf(g.maxTs, times[:len(vals)])
	case g.ts == nil:
		for i := range times {
			times[i] = NoTimestamp
		}
	case g.punct != nil:
		g.stampPunctuated(vals, times)
	default:
		g.stampBounded(vals, times)
	}
}

func (g *Generator[T]) stampBounded(vals []T, times []int64) {
	maxTs := g.maxTs
	for i, v := range vals {
		ms := millisOrNone(g.ts(v))
		times[i] = ms
		// NoTimestamp is math.MinInt64, so it never raises maxTs.
		maxTs = max(maxTs, ms)
	}
	g.maxTs = maxTs
}

func (g *Generator[T]) stampPunctuated(vals []T, times []int64) {
	wm := g.punctWm
	for i, v := range vals {
		t := g.ts(v)
		times[i] = millisOrNone(t)
		if p, ok := g.punct(v, t); ok && !p.IsZero() {
			wm = max(wm, p.UnixMilli())
		}
	}
	g.punctWm = wm
}

// Advance tells a generator over native timestamps (Native) that the
// split's records to come have event times of at least t (Unix ms; the
// reader's operators.TimeBounder): the watermark moves as if a record at
// t had come. It does not count as activity for idleness. It does nothing
// for other generators (Punctuated ones included) and for NoTimestamp.
func (g *Generator[T]) Advance(t int64) {
	if g.native && t != NoTimestamp {
		g.maxTs = max(g.maxTs, t)
	}
}

// Watermark returns the watermark the split may emit now: MinWatermark until
// the first record with an event time (or the first punctuation), then
// maxTimestamp - maxDelay - 1ms for bounded strategies, or the largest
// punctuation for Punctuated. It never decreases.
func (g *Generator[T]) Watermark() int64 {
	if g.punct != nil {
		return g.punctWm
	}
	// Saturate instead of wrapping below MinWatermark.
	if g.maxTs < MinWatermark+g.delayMs+1 {
		return MinWatermark
	}
	return g.maxTs - g.delayMs - 1
}

// Idle reports whether the split has received no records for at least the
// idleness timeout at processing time now (Unix ms). It is always false
// without WatermarkStrategy.WithIdleness. The timeout counts from the last
// non-empty Stamp, or, for a split that has not received any records yet,
// from the first call to Idle; the runtime calls Idle on every poll of the
// split. The next non-empty Stamp makes the split active again.
func (g *Generator[T]) Idle(now int64) bool {
	if g.idleMs == 0 {
		return false
	}
	if !g.timerOn {
		g.lastActive, g.timerOn = now, true
	}
	// now >= lastActive, so the unsigned difference cannot wrap.
	return now >= g.lastActive && uint64(now)-uint64(g.lastActive) >= uint64(g.idleMs)
}
