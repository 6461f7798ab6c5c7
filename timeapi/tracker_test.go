package timeapi

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestTrackerGolden runs testdata/tracker. Regenerate the expected output
// with `go test ./timeapi -run TestTrackerGolden -rewrite` and review the diff.
//
//	new n=3          new tracker with 3 inputs
//	update i=0 wm=5  (wm may be min or max)
//	idle i=1         SetIdle(1, true)
//	active i=1       SetIdle(1, false)
//	finish i=2       Finish(2)
//	show             every input's own state
//
// Every command but show prints the combined watermark, whether it advanced,
// AllIdle and Finished.
func TestTrackerGolden(t *testing.T) {
	var tr *Tracker
	datadriven.RunTest(t, "testdata/tracker", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd == "new" {
			var n int
			d.ScanArgs(t, "n", &n)
			tr = NewTracker(n)
			return trackerLine(tr, tr.Current(), false)
		}
		if tr == nil {
			d.Fatalf(t, "%s before new", d.Cmd)
		}
		var i int
		if d.Cmd != "show" {
			d.ScanArgs(t, "i", &i)
		}
		var wm int64
		var adv bool
		switch d.Cmd {
		case "update":
			wm, adv = tr.Update(i, scanWatermark(t, d, "wm"))
		case "idle":
			wm, adv = tr.SetIdle(i, true)
		case "active":
			wm, adv = tr.SetIdle(i, false)
		case "finish":
			wm, adv = tr.Finish(i)
		case "show":
			return showTracker(tr)
		default:
			d.Fatalf(t, "unknown command %q", d.Cmd)
		}
		if wm != tr.Current() {
			t.Errorf("%s: returned %d, Current() = %d", d.Pos, wm, tr.Current())
		}
		return trackerLine(tr, wm, adv)
	})
}

func trackerLine(tr *Tracker, wm int64, adv bool) string {
	return fmt.Sprintf("wm=%s advanced=%t allIdle=%t finished=%t\n",
		fmtMs(wm), adv, tr.AllIdle(), tr.Finished())
}

func showTracker(tr *Tracker) string {
	var b strings.Builder
	for i := range tr.Len() {
		wm, idle, fin := tr.Input(i)
		state := "active"
		if idle {
			state = "idle"
		} else if fin {
			state = "finished"
		}
		fmt.Fprintf(&b, "%d: wm=%s %s\n", i, fmtMs(wm), state)
	}
	return b.String()
}

// fmtMs prints MinWatermark as min, MaxWatermark as max, other values as
// integers (golden files use small millisecond values).
func fmtMs(ms int64) string {
	switch ms {
	case MinWatermark:
		return "min"
	case MaxWatermark:
		return "max"
	}
	return strconv.FormatInt(ms, 10)
}

func parseMs(s string) (int64, error) {
	switch s {
	case "min":
		return MinWatermark, nil
	case "max":
		return MaxWatermark, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func scanWatermark(t *testing.T, d *datadriven.TestData, key string) int64 {
	t.Helper()
	var s string
	d.ScanArgs(t, key, &s)
	ms, err := parseMs(s)
	if err != nil {
		d.Fatalf(t, "%s: %v", key, err)
	}
	return ms
}

var seedFlag = flag.Uint64("seed", 0, "seed for randomized tests (0: WEIR_SEED or random)")

// testSeed returns the seed of a randomized test and logs it, so a failure
// can be replayed with -seed=N or WEIR_SEED=N.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		if env := os.Getenv("WEIR_SEED"); env != "" {
			s, err := strconv.ParseUint(env, 10, 64)
			if err != nil {
				t.Fatalf("WEIR_SEED=%q: %v", env, err)
			}
			seed = s
		}
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed=%d or WEIR_SEED=%d)", seed, seed, seed)
	return seed
}

// naiveTracker is the dumb reference: it recomputes the minimum over every
// input after each event.
type naiveTracker struct {
	wm    []int64
	state []inputState
	out   int64
}

func newNaiveTracker(n int) *naiveTracker {
	nt := &naiveTracker{wm: make([]int64, n), state: make([]inputState, n), out: MinWatermark}
	for i := range nt.wm {
		nt.wm[i] = MinWatermark
	}
	return nt
}

func (nt *naiveTracker) apply(op, i int, wm int64) (int64, bool) {
	if nt.state[i] != inputFinished {
		switch op {
		case opUpdate:
			nt.wm[i] = max(nt.wm[i], wm)
			nt.state[i] = inputActive
		case opIdle:
			nt.state[i] = inputIdle
		case opActive:
			nt.state[i] = inputActive
		case opFinish:
			nt.state[i] = inputFinished
		}
	}
	cand, anyActive, allFin, maxIdle := MaxWatermark, false, true, int64(MinWatermark)
	for j, s := range nt.state {
		allFin = allFin && s == inputFinished
		switch s {
		case inputActive:
			cand, anyActive = min(cand, nt.wm[j]), true
		case inputIdle:
			maxIdle = max(maxIdle, nt.wm[j])
		}
	}
	if !anyActive && !allFin {
		cand = maxIdle // all idle: flushed to the most any promised
	}
	if cand > nt.out {
		nt.out = cand
		return cand, true
	}
	return nt.out, false
}

func (nt *naiveTracker) allIdle() (allIdle, finished bool) {
	active, fin := 0, 0
	for _, s := range nt.state {
		switch s {
		case inputActive:
			active++
		case inputFinished:
			fin++
		}
	}
	return active == 0 && fin < len(nt.state), fin == len(nt.state)
}

const (
	opUpdate = iota
	opIdle
	opActive
	opFinish
)

func TestTrackerRandomVsNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 0))
	for trial := range 2000 {
		n := 1 + rng.IntN(6)
		tr, nt := NewTracker(n), newNaiveTracker(n)
		for step := range 60 {
			op, i, wm := randomOp(rng, n)
			gotWm, gotAdv := trackerApply(tr, op, i, wm)
			wantWm, wantAdv := nt.apply(op, i, wm)
			wantIdle, wantFin := nt.allIdle()
			if gotWm != wantWm || gotAdv != wantAdv || tr.AllIdle() != wantIdle || tr.Finished() != wantFin {
				t.Fatalf("trial %d step %d: op %d i=%d wm=%s: got (%s, %t) allIdle=%t finished=%t, "+
					"want (%s, %t) allIdle=%t finished=%t\nstate:\n%s",
					trial, step, op, i, fmtMs(wm), fmtMs(gotWm), gotAdv, tr.AllIdle(), tr.Finished(),
					fmtMs(wantWm), wantAdv, wantIdle, wantFin, showTracker(tr))
			}
			for j := range n {
				w, idle, fin := tr.Input(j)
				if w != nt.wm[j] || idle != (nt.state[j] == inputIdle) || fin != (nt.state[j] == inputFinished) {
					t.Fatalf("trial %d step %d: input %d differs from reference\n%s", trial, step, j, showTracker(tr))
				}
			}
		}
	}
}

func randomOp(rng *rand.Rand, n int) (op, i int, wm int64) {
	i = rng.IntN(n)
	switch r := rng.IntN(20); {
	case r < 12:
		wm = int64(rng.IntN(100))
		if rng.IntN(30) == 0 {
			wm = []int64{MinWatermark, MaxWatermark}[rng.IntN(2)]
		}
		return opUpdate, i, wm
	case r < 16:
		return opIdle, i, 0
	case r < 19:
		return opActive, i, 0
	default:
		return opFinish, i, 0
	}
}

func trackerApply(tr *Tracker, op, i int, wm int64) (int64, bool) {
	switch op {
	case opUpdate:
		return tr.Update(i, wm)
	case opIdle:
		return tr.SetIdle(i, true)
	case opActive:
		return tr.SetIdle(i, false)
	default:
		return tr.Finish(i)
	}
}

func TestNewTrackerPanicsWithoutInputs(t *testing.T) {
	for _, n := range []int{0, -1} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "weir/timeapi: ") {
					t.Errorf("NewTracker(%d): recovered %v, want a weir/timeapi panic", n, r)
				}
			}()
			NewTracker(n)
		}()
	}
}

func TestTrackerUpdateNoAlloc(t *testing.T) {
	tr := NewTracker(4)
	wm := int64(0)
	allocs := testing.AllocsPerRun(100, func() {
		wm++
		for i := range 4 {
			tr.Update(i, wm)
		}
	})
	if allocs != 0 {
		t.Errorf("Update allocates %v times per run, want 0", allocs)
	}
}

func BenchmarkTrackerUpdate(b *testing.B) {
	const n = 8
	tr := NewTracker(n)
	b.ReportAllocs()
	for k := 0; b.Loop(); k++ {
		tr.Update(k%n, int64(k/n))
	}
}
