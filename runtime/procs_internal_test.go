package runtime

import (
	goruntime "runtime"
	"testing"
)

// TestReserveProcs: GOMAXPROCS stays one above the workers of the runs
// that reserved, never below what it was, and is set back when the last
// run ends, in whatever order the runs end.
func TestReserveProcs(t *testing.T) {
	before := goruntime.GOMAXPROCS(0)
	defer goruntime.GOMAXPROCS(before)
	check := func(step string, want int) {
		t.Helper()
		if got := goruntime.GOMAXPROCS(0); got != want {
			t.Fatalf("%s: GOMAXPROCS %d, want %d", step, got, want)
		}
	}
	a := reserveProcs(before + 1)
	check("one run", before+2)
	b := reserveProcs(2)
	check("two runs", before+4)
	a()
	check("first run ended", max(before, 3))
	b()
	check("both ended", before)

	small := reserveProcs(0) // fewer workers than GOMAXPROCS: left alone
	check("a run that needs no more", max(before, 1))
	small()
	check("it ended", before)
}
