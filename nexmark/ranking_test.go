package nexmark_test

import (
	"testing"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/pebblestate"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

// TestInPlaceQueriesOnPebbleState runs the queries that change heap state
// in place (q5, q8, q18, q19, q20; q4, q6 and q9's winning bids are checked in
// TestWinningBidsAgainstReference) on pebblestate, whose state cannot be
// updated in place (ValueState.InPlace is false), so the jobs take their
// Value and Update path: the results are the hand-written loop's as on
// memstate. q12's windows, which sweep memstate's tables when they close,
// take the timer per key on pebblestate (no statebackend.Sweeper).
func TestInPlaceQueriesOnPebbleState(t *testing.T) {
	for name, n := range map[string]int64{"q5": 50_000, "q8": 50_000, "q18": 5_000, "q19": 5_000, "q20": 50_000, "q12": 50_000} {
		t.Run(name, func(t *testing.T) {
			q, ok := nexmark.Lookup(name)
			if !ok {
				t.Fatalf("%s not registered", name)
			}
			opts := nexmark.Options{Seed: 7, Events: n}
			job := stream.NewJob("pebble-" + name)
			events, err := nexmark.Events(job, opts)
			if err != nil {
				t.Fatal(err)
			}
			lines := q.Collect(events)
			testkit.Run(t, job, runtime.Parallelism(2), runtime.StateBackend(pebblestate.New(t.TempDir(), pebblestate.Options{})))
			src, err := gen.NewSource(opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := matchParallel(q, lines(), q.HandLines(src, opts.Events)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
