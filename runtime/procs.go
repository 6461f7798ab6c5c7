package runtime

import (
	goruntime "runtime"
	"sync"
)

// procs raises GOMAXPROCS to one more than the workers of the threaded
// runs in the process (Options.SpareProc), and sets it back to what it
// was when the last such run ends.
var procs struct {
	mu      sync.Mutex
	workers int // of the runs that reserved
	runs    int
	before  int // GOMAXPROCS when the first of the current runs started
}

// reserveProcs counts n more workers and raises GOMAXPROCS to leave a P
// free beside them; the returned func gives them back.
func reserveProcs(n int) (release func()) {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	if procs.runs == 0 {
		procs.before = goruntime.GOMAXPROCS(0)
	}
	procs.runs++
	procs.workers += n
	if want := procs.workers + 1; goruntime.GOMAXPROCS(0) < want {
		goruntime.GOMAXPROCS(want)
	}
	return func() {
		procs.mu.Lock()
		defer procs.mu.Unlock()
		procs.runs--
		procs.workers -= n
		want := max(procs.before, procs.workers+1)
		if procs.runs == 0 {
			want = procs.before
		}
		if goruntime.GOMAXPROCS(0) != want {
			goruntime.GOMAXPROCS(want)
		}
	}
}
