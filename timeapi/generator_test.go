package timeapi

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// rec is the record type of the generator tests: an event time and an
// optional watermark punctuation (the zero time.Time means none).
type rec struct {
	ts, mark time.Time
}

func recTs(r rec) time.Time { return r.ts }

func recMark(r rec, _ time.Time) (time.Time, bool) { return r.mark, !r.mark.IsZero() }

// TestGeneratorGolden runs testdata/generator. Regenerate with
// `go test ./timeapi -run TestGeneratorGolden -rewrite` and review the diff.
//
//	new kind=bounded|ascending|punctuated|none [delay=10ms] [idle=100ms] [start=0]
//	    a generator and a ManualClock at start (Unix ms)
//	stamp           one batch, one record per input line: "<ts>" or "none",
//	                optionally followed by "wm=<punctuation>"; no lines = empty batch
//	advance by=50ms move the clock forward
//	set now=1200    move the clock to a Unix ms time
//	idle            Idle at the clock's time
//	watermark       Watermark
func TestGeneratorGolden(t *testing.T) {
	var g *Generator[rec]
	var clock *ManualClock
	datadriven.RunTest(t, "testdata/generator", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd == "new" {
			s := strategyFromArgs(t, d)
			var start int64
			d.MaybeScanArgs(t, "start", &start)
			g, clock = s.NewGenerator(), NewManualClock(Time(start))
			return s.String() + "\n"
		}
		if g == nil {
			d.Fatalf(t, "%s before new", d.Cmd)
		}
		switch d.Cmd {
		case "stamp":
			return stampLines(t, d, g, NowMillis(clock))
		case "advance":
			var by time.Duration
			d.ScanArgs(t, "by", &by)
			clock.Advance(by)
			return fmt.Sprintf("now=%d\n", NowMillis(clock))
		case "set":
			clock.Set(Time(scanWatermark(t, d, "now")))
			return fmt.Sprintf("now=%d\n", NowMillis(clock))
		case "idle":
			return fmt.Sprintf("idle=%t now=%d\n", g.Idle(NowMillis(clock)), NowMillis(clock))
		case "watermark":
			return fmt.Sprintf("wm=%s\n", fmtMs(g.Watermark()))
		}
		d.Fatalf(t, "unknown command %q", d.Cmd)
		return ""
	})
}

func strategyFromArgs(t *testing.T, d *datadriven.TestData) WatermarkStrategy[rec] {
	var kind string
	var delay, idle time.Duration
	d.ScanArgs(t, "kind", &kind)
	d.MaybeScanArgs(t, "delay", &delay)
	d.MaybeScanArgs(t, "idle", &idle)
	var s WatermarkStrategy[rec]
	switch kind {
	case "bounded":
		s = BoundedOutOfOrder(recTs, delay)
	case "ascending":
		s = Ascending(recTs)
	case "punctuated":
		s = Punctuated(recTs, recMark)
	case "none":
	default:
		d.Fatalf(t, "unknown kind %q", kind)
	}
	s = s.WithIdleness(idle)
	if err := s.Validate(); err != nil {
		d.Fatalf(t, "%v", err)
	}
	return s
}

// stampLines stamps the batch described by d.Input and prints the stamped
// times and the watermark.
func stampLines(t *testing.T, d *datadriven.TestData, g *Generator[rec], now int64) string {
	var batch []rec
	for line := range strings.Lines(d.Input) {
		if line = strings.TrimSpace(line); line != "" {
			batch = append(batch, parseRec(t, d, line))
		}
	}
	times := make([]int64, len(batch))
	g.Stamp(batch, times, now)
	strs := make([]string, len(times))
	for i, ms := range times {
		strs[i] = fmtMs(ms)
		if ms == NoTimestamp {
			strs[i] = "none"
		}
	}
	return fmt.Sprintf("times=[%s] wm=%s\n", strings.Join(strs, " "), fmtMs(g.Watermark()))
}

func parseRec(t *testing.T, d *datadriven.TestData, line string) rec {
	fields := strings.Fields(line)
	var r rec
	if fields[0] != "none" {
		ms, err := parseMs(fields[0])
		if err != nil {
			d.Fatalf(t, "record %q: %v", line, err)
		}
		r.ts = Time(ms)
	}
	for _, f := range fields[1:] {
		v, ok := strings.CutPrefix(f, "wm=")
		ms, err := parseMs(v)
		if !ok || err != nil {
			d.Fatalf(t, "record %q: bad field %q", line, f)
		}
		r.mark = Time(ms)
	}
	return r
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		s    WatermarkStrategy[rec]
		want string // "" = valid
	}{
		{"zero", WatermarkStrategy[rec]{}, ""},
		{"bounded", BoundedOutOfOrder(recTs, time.Second), ""},
		{"bounded zero delay", BoundedOutOfOrder(recTs, 0), ""},
		{"ascending idle", Ascending(recTs).WithIdleness(time.Minute), ""},
		{"punctuated", Punctuated(recTs, recMark), ""},
		{"idleness off", Ascending(recTs).WithIdleness(0), ""},
		{"nil ts bounded", BoundedOutOfOrder[rec](nil, time.Second), "nil timestamp function"},
		{"nil ts ascending", Ascending[rec](nil), "nil timestamp function"},
		{"nil ts punctuated", Punctuated(nil, recMark), "nil timestamp function"},
		{"nil wm punctuated", Punctuated(recTs, nil), "nil watermark function"},
		{"negative delay", BoundedOutOfOrder(recTs, -time.Millisecond), "negative max delay -1ms"},
		{"negative idleness", Ascending(recTs).WithIdleness(-time.Second), "negative idleness -1s"},
		{"idleness only", WatermarkStrategy[rec]{}.WithIdleness(time.Second), "idleness without a timestamp function"},
	}
	for _, tc := range tests {
		err := tc.s.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tc.name, err)
		case tc.want == "":
		case !errors.Is(err, ErrInvalidStrategy):
			t.Errorf("%s: Validate() = %v, want an error wrapping ErrInvalidStrategy", tc.name, err)
		case err.Error() != "weir/timeapi: invalid watermark strategy: "+tc.want:
			t.Errorf("%s: Validate() = %q, want suffix %q", tc.name, err, tc.want)
		}
	}
}

func TestStrategyIsZeroAndString(t *testing.T) {
	tests := []struct {
		s      WatermarkStrategy[rec]
		isZero bool
		str    string
	}{
		{WatermarkStrategy[rec]{}, true, "NoEventTime"},
		{WatermarkStrategy[rec]{}.WithIdleness(0), true, "NoEventTime"},
		{WatermarkStrategy[rec]{}.WithIdleness(time.Second), false, "NoEventTime.WithIdleness(1s)"},
		{BoundedOutOfOrder(recTs, 5*time.Second), false, "BoundedOutOfOrder(5s)"},
		{BoundedOutOfOrder(recTs, 0).WithIdleness(time.Minute), false, "BoundedOutOfOrder(0s).WithIdleness(1m0s)"},
		{Ascending(recTs), false, "Ascending"},
		{Punctuated(recTs, recMark), false, "Punctuated"},
	}
	for _, tc := range tests {
		if got := tc.s.IsZero(); got != tc.isZero {
			t.Errorf("%s: IsZero() = %t, want %t", tc.str, got, tc.isZero)
		}
		if got := tc.s.String(); got != tc.str {
			t.Errorf("String() = %q, want %q", got, tc.str)
		}
	}
}

// TestNewGeneratorUnvalidated checks that invalid strategies yield a
// generator that degrades instead of panicking.
func TestNewGeneratorUnvalidated(t *testing.T) {
	batch := []rec{{ts: Time(10)}, {ts: Time(20)}}
	times := make([]int64, 2)

	for _, s := range []WatermarkStrategy[rec]{BoundedOutOfOrder[rec](nil, 0), Punctuated(nil, recMark)} {
		g := s.NewGenerator()
		g.Stamp(batch, times, 0)
		if times[0] != NoTimestamp || times[1] != NoTimestamp || g.Watermark() != MinWatermark {
			t.Errorf("%v with nil ts: times %v wm %d, want NoTimestamp and MinWatermark", s, times, g.Watermark())
		}
	}

	g := BoundedOutOfOrder(recTs, -time.Hour).NewGenerator()
	g.Stamp(batch, times, 0)
	if got := g.Watermark(); got != 19 {
		t.Errorf("negative delay: wm %d, want 19 (delay counts as zero)", got)
	}

	g = Punctuated(recTs, nil).NewGenerator()
	g.Stamp(batch, times, 0)
	if times[1] != 20 || g.Watermark() != MinWatermark {
		t.Errorf("nil punctuation: times %v wm %d, want [10 20] min", times, g.Watermark())
	}

	g = Ascending(recTs).WithIdleness(-time.Second).NewGenerator()
	if g.Idle(0) || g.Idle(math.MaxInt64) {
		t.Errorf("negative idleness: Idle true, want idleness disabled")
	}
}

// TestGeneratorExtremes checks that the watermark saturates instead of
// wrapping around at the ends of the int64 range.
func TestGeneratorExtremes(t *testing.T) {
	times := make([]int64, 1)
	g := BoundedOutOfOrder(recTs, time.Hour).NewGenerator()
	g.Stamp([]rec{{ts: Time(math.MinInt64 + 10)}}, times, 0)
	if got := g.Watermark(); got != MinWatermark {
		t.Errorf("ts near MinInt64: wm %d, want MinWatermark", got)
	}
	g.Stamp([]rec{{ts: Time(math.MaxInt64)}}, times, 0)
	if want := int64(math.MaxInt64 - 3_600_000 - 1); g.Watermark() != want {
		t.Errorf("ts MaxInt64: wm %d, want %d", g.Watermark(), want)
	}

	g = Ascending(recTs).WithIdleness(time.Millisecond).NewGenerator()
	g.Stamp([]rec{{ts: Time(1)}}, times, math.MinInt64)
	if !g.Idle(math.MaxInt64) {
		t.Errorf("idle across the whole int64 range: Idle false, want true")
	}
	if g.Idle(math.MinInt64) {
		t.Errorf("no time passed: Idle true, want false")
	}
}

func TestStampNoAlloc(t *testing.T) {
	batch := make([]rec, 256)
	for i := range batch {
		batch[i] = rec{ts: Time(int64(i))}
	}
	batch[100].mark = Time(50)
	times := make([]int64, len(batch))
	for _, s := range []WatermarkStrategy[rec]{
		BoundedOutOfOrder(recTs, time.Second), Punctuated(recTs, recMark), {},
	} {
		g := s.WithIdleness(time.Second).NewGenerator()
		allocs := testing.AllocsPerRun(100, func() {
			g.Stamp(batch, times, 1)
			g.Idle(2)
			g.Watermark()
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per batch, want 0", s, allocs)
		}
	}
}

func BenchmarkGeneratorStamp(b *testing.B) {
	batch := make([]rec, 1024)
	for i := range batch {
		batch[i] = rec{ts: Time(int64(i))}
	}
	times := make([]int64, len(batch))
	g := BoundedOutOfOrder(recTs, time.Second).NewGenerator()
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		g.Stamp(batch, times, 0)
	}
}

// TestRecordTimestamps: the strategy reads the times the records carry,
// leaves them unchanged and tracks the bounded watermark over them.
func TestRecordTimestamps(t *testing.T) {
	s := RecordTimestamps[rec](5 * time.Millisecond)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.IsZero() || s.String() != "RecordTimestamps(5ms)" {
		t.Errorf("IsZero %v, String %q", s.IsZero(), s.String())
	}
	g := s.NewGenerator()
	if !g.Native() {
		t.Fatal("not native")
	}
	batch := make([]rec, 4) // zero records: their own time is not read
	times := []int64{100, 250, NoTimestamp, 180}
	g.Stamp(batch, times, 1)
	if times[1] != 250 || times[2] != NoTimestamp {
		t.Errorf("Stamp changed the times: %v", times)
	}
	if wm := g.Watermark(); wm != 250-5-1 {
		t.Errorf("watermark %d, want %d", wm, 250-5-1)
	}
	g.Stamp(batch[:1], []int64{200}, 2)
	if wm := g.Watermark(); wm != 244 {
		t.Errorf("watermark went back to %d", wm)
	}
	if n := testing.AllocsPerRun(100, func() { g.Stamp(batch, times, 3) }); n != 0 {
		t.Errorf("Stamp allocates %.1f times", n)
	}
}

// TestWithRecordTimestamps: the records' own times when given
// (StampRecorded), extraction otherwise (Stamp).
func TestWithRecordTimestamps(t *testing.T) {
	s := Ascending(recTs).WithRecordTimestamps()
	if s.String() != "Ascending.WithRecordTimestamps()" {
		t.Errorf("String %q", s.String())
	}
	g := s.NewGenerator()
	if !g.Native() || !g.Extracts() {
		t.Fatalf("Native %v Extracts %v, want both", g.Native(), g.Extracts())
	}
	g.StampRecorded([]int64{10, 40, 20}, 1)
	if wm := g.Watermark(); wm != 39 {
		t.Errorf("watermark %d after recorded times, want 39", wm)
	}
	times := make([]int64, 2)
	g.Stamp([]rec{{ts: Time(70)}, {ts: Time(50)}}, times, 2)
	if times[0] != 70 || times[1] != 50 || g.Watermark() != 69 {
		t.Errorf("extracted %v, watermark %d; want [70 50] and 69", times, g.Watermark())
	}
	if p := Punctuated(recTs, recMark).WithRecordTimestamps().NewGenerator(); p.Native() {
		t.Error("a punctuated strategy took record timestamps")
	}
}

// TestAdvance: a reader's bound on its next times moves the watermark of
// a generator over native timestamps, never back, and of no other.
func TestAdvance(t *testing.T) {
	g := RecordTimestamps[rec](5 * time.Millisecond).NewGenerator()
	g.StampRecorded([]int64{100}, 1)
	g.Advance(300)
	if wm := g.Watermark(); wm != 300-5-1 {
		t.Errorf("watermark %d after Advance(300), want %d", wm, 300-5-1)
	}
	g.Advance(200)
	g.Advance(NoTimestamp)
	if wm := g.Watermark(); wm != 294 {
		t.Errorf("watermark went back to %d", wm)
	}
	idle := RecordTimestamps[rec](0).WithIdleness(10 * time.Millisecond).NewGenerator()
	idle.Idle(0)
	idle.Advance(50)
	if !idle.Idle(20) {
		t.Error("Advance counted as activity for idleness")
	}
	for name, g := range map[string]*Generator[rec]{
		"extracting": BoundedOutOfOrder(recTs, 0).NewGenerator(),
		"punctuated": Punctuated(recTs, recMark).NewGenerator(),
	} {
		before := g.Watermark()
		g.Advance(1000)
		if wm := g.Watermark(); wm != before {
			t.Errorf("%s: Advance moved the watermark from %d to %d", name, before, wm)
		}
	}
}
