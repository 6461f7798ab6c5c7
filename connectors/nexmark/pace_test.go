package nexmark_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
)

// TestPaced reads a paced source of 3 000 events at 20 000 events/s (150 ms)
// over two splits: no event comes before its event time on the wall clock,
// the whole stream takes about its event-time span, every event arrives
// once, and a reader with nothing due (if one ever is: a machine busy
// enough keeps the readers behind the pace to the end, as in a CI run that
// compiled other packages beside the test) says when its next event is;
// TestPacedBeforeStart is the case that cannot be missed.
func TestPaced(t *testing.T) {
	start := time.Now().Add(20 * time.Millisecond)
	src := newSource(t, nexmark.Options{Seed: 3, Events: 3000, Rate: 20_000, Pace: true, PaceStart: start})
	base := nexmark.DefaultBaseTime
	if !src.PaceStart().Equal(start) {
		t.Fatalf("PaceStart %v, want %v", src.PaceStart(), start)
	}
	splits, err := src.Splits(2)
	if err != nil {
		t.Fatal(err)
	}
	var readers []operators.Reader[nexmark.Event]
	for _, sp := range splits {
		r, err := src.Open(nil, sp, nil)
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, r)
	}
	seen := map[int64]int{}
	done := make([]bool, len(readers))
	var hinted int
	for left := len(readers); left > 0; {
		for i, r := range readers {
			if done[i] {
				continue
			}
			b := operators.NewBatch[nexmark.Event](64)
			before := time.Now()
			err := r.Read(b)
			now := time.Now() // the read was at a time in [before, now]
			for j, ts := range b.Times {
				due := start.Add(time.UnixMilli(ts).Sub(base))
				if now.Before(due) {
					t.Fatalf("event at %v released %v before its time", time.UnixMilli(ts).UTC(), due.Sub(now))
				}
				seen[b.Times[j]]++
			}
			if errors.Is(err, io.EOF) {
				done[i] = true
				left--
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Values) == 0 {
				next := r.(operators.ReadyHinter).NextReady()
				limit := now.Add(2 * time.Millisecond)
				if now.Before(start) {
					limit = start.Add(time.Millisecond) // before the start: the start
				}
				// Nothing was due when the reader looked, at or after
				// before; the thread may have lost its CPU since. NextReady
				// reads the wall and monotonic clocks apart: a microsecond
				// of slack.
				if next <= before.Add(-time.Millisecond).UnixNano() || next > limit.Add(time.Microsecond).UnixNano() {
					t.Fatalf("nothing due, but NextReady is %v from now", time.Duration(next-now.UnixNano()))
				}
				hinted++
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	took := time.Since(start)
	if took < 140*time.Millisecond || took > 2*time.Second {
		t.Errorf("3000 events at 20000/s took %v, want about 150ms", took)
	}
	n := 0
	for _, c := range seen {
		n += c
	}
	if n != 3000 {
		t.Errorf("read %d events, want 3000", n)
	}
	t.Logf("%d reads had nothing due", hinted)
}

// TestPacedBeforeStart: before the pace starts, a reader has nothing due,
// and its next event is due at the start (to the microsecond: the wall
// and monotonic clocks are read apart).
func TestPacedBeforeStart(t *testing.T) {
	start := time.Now().Add(time.Hour)
	src := newSource(t, nexmark.Options{Seed: 3, Events: 100, Rate: 20_000, Pace: true, PaceStart: start})
	r := nexmark.OneReader(t, src)
	b := operators.NewBatch[nexmark.Event](64)
	if err := r.Read(b); err != nil || len(b.Values) != 0 {
		t.Fatalf("Read an hour before the start: %d events, error %v; want none, nil", len(b.Values), err)
	}
	if next := r.(operators.ReadyHinter).NextReady(); next < start.UnixNano()-1000 || next > start.UnixNano()+1000 {
		t.Errorf("NextReady %v after the start, want the start", time.Duration(next-start.UnixNano()))
	}
}

// TestUnpacedHasNoHint: without Pace a reader gives no NextReady.
func TestUnpacedHasNoHint(t *testing.T) {
	r := nexmark.OneReader(t, newSource(t, nexmark.Options{Seed: 3, Events: 10}))
	if got := r.(operators.ReadyHinter).NextReady(); got != 0 {
		t.Errorf("NextReady = %d, want 0", got)
	}
}
