package windowing_test

import (
	"fmt"
	"github.com/weirstream/weir/internal/testseed"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/weirstream/weir/windowing"
)

func testSeed(t *testing.T) uint64 { return testseed.Seed(t) }

// TestStateCleanup streams random, slightly out-of-order data with
// periodic watermarks through every assigner, with and without lateness
// and early emission, and checks that state and timers stay bounded while
// it runs and drop to zero once the input ends.
func TestStateCleanup(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 3))
	const keys = 20
	for _, a := range []windowing.Assigner{
		windowing.Tumbling(10 * time.Millisecond), windowing.Sliding(20*time.Millisecond, 5*time.Millisecond),
		windowing.Session(4 * time.Millisecond), windowing.Cumulate(5*time.Millisecond, 20*time.Millisecond),
	} {
		for _, ho := range []harnessOptions{{}, {lateness: 15 * time.Millisecond, lateOut: true}, {emit: windowing.OnUpdate()}} {
			ho.assigner = a
			name := fmt.Sprintf("%v/lateness=%v/emit=%v", a, ho.lateness, ho.emit)
			h, err := newHarness(ho)
			if err != nil {
				t.Fatal(err)
			}
			peak := 0
			for now := int64(0); now < 5000; now += 10 {
				var evs []event
				var ts []int64
				for range 30 {
					evs = append(evs, event{Key: strconv.Itoa(rng.IntN(keys)), V: 1})
					ts = append(ts, now+rng.Int64N(10)-rng.Int64N(30)) // some late
				}
				if err := h.add(evs, ts); err != nil {
					t.Fatal(err)
				}
				if err := h.watermark(now); err != nil {
					t.Fatal(err)
				}
				h.take()
				st := h.op.Stats()
				peak = max(peak, st.Entries)
				if st.Hints > keys {
					t.Fatalf("%s: %d pane spans for %d keys", name, st.Hints, keys)
				}
			}
			// Bounded: about keys × (panes or windows alive within size + lateness).
			if limit := keys * 20; peak > limit {
				t.Fatalf("%s: %d state entries at peak, want <= %d", name, peak, limit)
			}
			if err := h.end(); err != nil {
				t.Fatal(err)
			}
			if s := h.op.Stats(); s.Entries != 0 || s.Timers != 0 || s.Hints != 0 {
				t.Fatalf("%s: after the end %+v, want no state, timers or hints", name, s)
			}
			_ = h.close()
		}
	}
}
