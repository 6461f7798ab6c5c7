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
// once, and a reader with nothing due says when its next event is.
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
			err := r.Read(b)
			now := time.Now()
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
				if next <= now.Add(-time.Millisecond).UnixNano() || next > limit.UnixNano() {
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
	if hinted == 0 {
		t.Error("the readers never had to wait: the source was not paced")
	}
}

// TestUnpacedHasNoHint: without Pace a reader gives no NextReady.
func TestUnpacedHasNoHint(t *testing.T) {
	src := newSource(t, nexmark.Options{Seed: 3, Events: 10})
	splits, _ := src.Splits(1)
	r, err := src.Open(nil, splits[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.(operators.ReadyHinter).NextReady(); got != 0 {
		t.Errorf("NextReady = %d, want 0", got)
	}
}
