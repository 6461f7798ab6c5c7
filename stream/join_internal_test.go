package stream

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// collectOut records what an operator emits.
type collectOut[O any] struct {
	vals  []O
	times []int64
	wms   []int64
}

func (c *collectOut[O]) Push(b any) error {
	bb := b.(*operators.Batch[O])
	c.vals = append(c.vals, bb.Values...)
	c.times = append(c.times, bb.Times...)
	return nil
}
func (c *collectOut[O]) Watermark(wm int64) error { c.wms = append(c.wms, wm); return nil }
func (c *collectOut[O]) Flush() error             { return nil }
func (c *collectOut[O]) EndInput() error          { return nil }

// procTimer remembers the earliest processing-time callback asked for.
type procTimer struct{ at int64 }

func (p *procTimer) CallbackAt(at int64) {
	if p.at == 0 || at < p.at {
		p.at = at
	}
}

// joinHarness drives a join operator outside a job.
type joinHarness[K comparable, L, R, O any] struct {
	drv   operators.Operator
	out   collectOut[O]
	clock *timeapi.ManualClock
	tm    procTimer
}

func newJoinHarness[K comparable, L, R, O any](t *testing.T, op operators.OneInputOperator[joinIn[K, L, R], O]) *joinHarness[K, L, R, O] {
	t.Helper()
	maxP := statebackend.DefaultMaxParallelism
	all := statebackend.KeyGroupRange{Start: 0, End: maxP}
	be, err := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "join", KeyGroups: all, MaxParallelism: maxP})
	if err != nil {
		t.Fatal(err)
	}
	h := &joinHarness[K, L, R, O]{clock: timeapi.NewManualClock(time.UnixMilli(0))}
	ctx := &operators.Context{Operator: "join", Parallelism: 1, MaxParallelism: maxP, BatchSize: 1,
		KeyGroups: all, State: be, Clock: h.clock, Logger: zap.NewNop(), Timers: &h.tm}
	h.drv = operators.Drive[joinIn[K, L, R], O](op)
	if err := h.drv.Open(ctx, &h.out); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.drv.Close(); be.Close() })
	return h
}

func (h *joinHarness[K, L, R, O]) left(t *testing.T, k K, l L, ts int64) {
	t.Helper()
	b := operators.NewBatch[joinIn[K, L, R]](1)
	b.Append(joinIn[K, L, R]{key: k, l: l}, ts)
	if err := h.drv.Push(b); err != nil {
		t.Fatal(err)
	}
}

func (h *joinHarness[K, L, R, O]) right(t *testing.T, k K, r R, ts int64) {
	t.Helper()
	b := operators.NewBatch[joinIn[K, L, R]](1)
	b.Append(joinIn[K, L, R]{key: k, r: r, right: true}, ts)
	if err := h.drv.Push(b); err != nil {
		t.Fatal(err)
	}
}

func (h *joinHarness[K, L, R, O]) watermark(t *testing.T, wm int64) {
	t.Helper()
	if err := h.drv.Watermark(wm); err != nil {
		t.Fatal(err)
	}
}

// take returns and forgets the output so far, formatted with times.
func (h *joinHarness[K, L, R, O]) take() []string {
	var out []string
	for i, v := range h.out.vals {
		out = append(out, fmt.Sprintf("%v@%d", v, h.out.times[i]))
	}
	h.out.vals, h.out.times = nil, nil
	return out
}

func expect(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

func lr(k string, l *string, r *string) string {
	ls, rs := "nil", "nil"
	if l != nil {
		ls = *l
	}
	if r != nil {
		rs = *r
	}
	return k + ":" + ls + "/" + rs
}

func chg(c windowing.Change[string, string]) string { return c.Kind.String() + " " + c.Value }

// TestRegularJoinChangelog checks the exact rows of a left outer join:
// +I(l, nil) first, then -D(l, nil) and +I(l, r) when the first match
// arrives, and only +I for later ones.
func TestRegularJoinChangelog(t *testing.T) {
	h := newJoinHarness[string, string, string, windowing.Change[string, string]](t,
		&regularJoinOp[string, string, string, string]{kind: LeftOuterJoin, fn: lr, hash: operators.HashFunc[string]()})
	rows := func() []string {
		var out []string
		for _, c := range h.out.vals {
			out = append(out, chg(c))
		}
		h.out.vals, h.out.times = nil, nil
		return out
	}
	h.left(t, "a", "l1", 1)
	expect(t, "unmatched left", rows(), "+I a:l1/nil")
	h.right(t, "b", "x", 2)
	expect(t, "inner side without partner", rows())
	h.right(t, "a", "r1", 3)
	expect(t, "first match", rows(), "-D a:l1/nil", "+I a:l1/r1")
	h.right(t, "a", "r2", 4)
	expect(t, "second match", rows(), "+I a:l1/r2")
	h.left(t, "a", "l2", 5)
	expect(t, "left with partners", rows(), "+I a:l2/r1", "+I a:l2/r2")
}

// TestRegularJoinTTL checks event-time and processing-time state TTL.
func TestRegularJoinTTL(t *testing.T) {
	op := &regularJoinOp[string, string, string, string]{kind: InnerJoin, fn: lr, ttl: 10, domain: EventTime, hash: operators.HashFunc[string]()}
	h := newJoinHarness[string, string, string, windowing.Change[string, string]](t, op)
	h.left(t, "a", "l1", 100)
	h.left(t, "a", "l2", 105)
	h.watermark(t, 110) // l1 expires (100+10 <= 110)
	h.right(t, "a", "r1", 111)
	if got := len(h.out.vals); got != 1 || h.out.vals[0].Value != "a:l2/r1" {
		t.Fatalf("after TTL: %v", h.out.vals)
	}
	h.watermark(t, 1000)
	if s := op.JoinStats(); s.Buffered != 0 || s.Pending != 0 {
		t.Fatalf("event-time TTL left state: %+v", s)
	}

	pop := &regularJoinOp[string, string, string, string]{kind: InnerJoin, fn: lr, ttl: 50, domain: ProcessingTime, hash: operators.HashFunc[string]()}
	ph := newJoinHarness[string, string, string, windowing.Change[string, string]](t, pop)
	ph.left(t, "a", "l1", 1)
	if ph.tm.at != 50 {
		t.Fatalf("callback at %d, want 50", ph.tm.at)
	}
	ph.clock.Set(time.UnixMilli(50))
	if err := ph.drv.(operators.ProcessingTimeHandler).OnProcessingTime(50); err != nil {
		t.Fatal(err)
	}
	ph.right(t, "a", "r1", 2)
	if len(ph.out.vals) != 0 {
		t.Fatalf("expired left record matched: %v", ph.out.vals)
	}
}

// TestJoinStateBounded runs a long stream through the interval, regular
// (with TTL) and temporal joins and checks that state stays bounded as
// the watermark advances.
func TestJoinStateBounded(t *testing.T) {
	const keys, n = 50, 200_000
	type stater interface{ JoinStats() JoinStats }
	drive := func(name string, residual int, st stater, push func(k int64, ts int64, right bool), wm func(int64)) {
		peak := 0
		for i := range int64(n) {
			ts := i / 10
			push(i%keys, ts, i%3 == 0)
			if i%1000 == 999 {
				wm(ts - 5)
				peak = max(peak, st.JoinStats().Buffered)
			}
		}
		// 10 records per ms: state for ~20ms of input (2 sides, each ts
		// one entry) is at most a few hundred entries, far below n.
		if peak > 1000 {
			t.Fatalf("%s: state grew to %d entries", name, peak)
		}
		wm(timeapi.MaxWatermark)
		if s := st.JoinStats(); s.Buffered != residual {
			t.Fatalf("%s: %d entries left after the final watermark, want %d", name, s.Buffered, residual)
		}
		t.Logf("%s: peak %d entries", name, peak)
	}
	ij := newIntervalJoinOp[int64, int64, int64, int64](-10, 10, true, func(l int64, r *int64) int64 { return l })
	ih := newJoinHarness[int64, int64, int64, int64](t, ij)
	drive("interval", 0, ij, func(k, ts int64, right bool) {
		if right {
			ih.right(t, k, ts, ts)
		} else {
			ih.left(t, k, ts, ts)
		}
		ih.out.vals, ih.out.times = ih.out.vals[:0], ih.out.times[:0]
	}, func(wm int64) { ih.watermark(t, wm) })

	tj := &temporalOp[int64, int64, int64, int64]{tol: -1, fn: func(l int64, v *int64) int64 { return l }, hash: operators.HashFunc[int64]()}
	th := newJoinHarness[int64, int64, tver[int64], int64](t, tj)
	// The current version of each key stays.
	drive("temporal", keys, tj, func(k, ts int64, right bool) {
		if right {
			th.right(t, k, tver[int64]{V: ts}, ts)
		} else {
			th.left(t, k, ts, ts)
		}
		th.out.vals, th.out.times = th.out.vals[:0], th.out.times[:0]
	}, func(wm int64) { th.watermark(t, wm) })
	if s := tj.JoinStats(); s.Pending != 0 {
		t.Fatalf("temporal: %d pending expiries", s.Pending)
	}

	rj := &regularJoinOp[int64, int64, int64, int64]{kind: FullOuterJoin, ttl: 10, domain: EventTime,
		fn: func(k int64, l, r *int64) int64 { return k }, hash: operators.HashFunc[int64]()}
	rh := newJoinHarness[int64, int64, int64, windowing.Change[int64, int64]](t, rj)
	drive("regular ttl", 0, rj, func(k, ts int64, right bool) {
		if right {
			rh.right(t, k, ts, ts)
		} else {
			rh.left(t, k, ts, ts)
		}
		rh.out.vals, rh.out.times = rh.out.vals[:0], rh.out.times[:0]
	}, func(wm int64) { rh.watermark(t, wm) })
}

// TestIntervalJoinOuterHoldsWatermark: the outer interval join's output
// watermark lags by upper, so unmatched rows are never late.
func TestIntervalJoinOuterHoldsWatermark(t *testing.T) {
	op := newIntervalJoinOp[string, string, string, string](0, 10, true, func(l string, r *string) string { return lr("k", &l, r) })
	var out collectOut[string]
	drv := &holdBack{Operator: operators.Drive[joinIn[string, string, string], string](op), d: 10}
	maxP := statebackend.DefaultMaxParallelism
	all := statebackend.KeyGroupRange{Start: 0, End: maxP}
	be, _ := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "join", KeyGroups: all, MaxParallelism: maxP})
	defer be.Close()
	ctx := &operators.Context{Operator: "join", MaxParallelism: maxP, KeyGroups: all, State: be, Clock: timeapi.NewManualClock(time.UnixMilli(0)), Logger: zap.NewNop()}
	if err := drv.Open(ctx, &out); err != nil {
		t.Fatal(err)
	}
	b := operators.NewBatch[joinIn[string, string, string]](1)
	b.Append(joinIn[string, string, string]{key: "k", l: "l1"}, 100)
	if err := drv.Push(b); err != nil {
		t.Fatal(err)
	}
	for _, wm := range []int64{50, 105, 200} {
		if err := drv.Watermark(wm); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(out.wms, []int64{40, 95, 190}) || len(out.times) != 1 || out.times[0] != 100 {
		t.Fatalf("watermarks %v, rows %v at %v", out.wms, out.vals, out.times)
	}
	if out.times[0] <= 95 {
		t.Fatal("unmatched row is late")
	}
}
