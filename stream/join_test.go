package stream_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// joinEvents makes n events whose V is their index (an id), at most
// maxDelay ms behind the latest before them.
func joinEvents(rng *rand.Rand, n, keys int, maxDelay int64) []ev {
	evs := genEvents(rng, n, keys, maxDelay)
	for i := range evs {
		evs[i].V = int64(i)
	}
	return evs
}

// shuffleWithin reorders evs so that every event lags the latest before
// it by at most bound ms.
func shuffleWithin(rng *rand.Rand, evs []ev, bound int64) []ev {
	jit := make([]int64, len(evs))
	idx := make([]int, len(evs))
	for i := range idx {
		idx[i], jit[i] = i, rng.Int64N(bound+1)
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(evs[x].TS+jit[x], evs[y].TS+jit[y]) })
	out := make([]ev, len(evs))
	for i, j := range idx {
		out[i] = evs[j]
	}
	return out
}

// joinSources adds the two sources of a join test, keyed by Key.
func joinSources(job *stream.Job, l, r []ev, bound time.Duration) (stream.KeyedStream[int64, ev], stream.KeyedStream[int64, ev]) {
	left := stream.FromSlice(job, "left", l).WithWatermarks(timeapi.BoundedOutOfOrder(evTime, bound)).KeyBy(keyOf)
	right := stream.FromSlice(job, "right", r).WithWatermarks(timeapi.BoundedOutOfOrder(evTime, bound)).KeyBy(keyOf)
	return left, right
}

// pairStr formats a join output: key, left id, right id ("-" for none).
func pairStr(k int64, l, r *ev) string {
	ls, rs := "-", "-"
	if l != nil {
		ls = fmt.Sprint(l.V)
	}
	if r != nil {
		rs = fmt.Sprint(r.V)
	}
	return fmt.Sprintf("k=%d l=%s r=%s", k, ls, rs)
}

// stamped is a collector's output formatted with event times, sorted.
func stamped(c *testkit.Collector[string]) []string {
	var out []string
	for _, r := range c.Records() {
		out = append(out, fmt.Sprintf("t=%d %s", r.Time, r.Value))
	}
	slices.Sort(out)
	return out
}

// runMatrix builds a job with build and runs it at parallelism 1 and 2,
// in the deterministic step mode and threaded, comparing the collected
// output with want.
func runMatrix(t *testing.T, name string, want []string, build func(job *stream.Job) *testkit.Collector[string]) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: empty reference result", name)
	}
	t.Logf("%s: %d results", name, len(want))
	for _, p := range []int{1, 2} {
		for _, threaded := range []bool{false, true} {
			job := stream.NewJob("join")
			c := build(job)
			if threaded {
				if err := runtime.Run(context.Background(), job, runtime.Parallelism(p), runtime.Pinning(false)); err != nil {
					t.Fatalf("%s p=%d threaded: %v", name, p, err)
				}
			} else {
				testkit.Run(t, job, runtime.Parallelism(p))
			}
			if got := stamped(c); !slices.Equal(got, want) {
				t.Fatalf("%s p=%d threaded=%v: %d results, want %d\n%s", name, p, threaded, len(got), len(want), firstDiff(got, want))
			}
		}
	}
}

// refInterval is the nested-loop interval join over the whole input.
func refInterval(l, r []ev, lo, up int64, outer bool) []string {
	var out []string
	for i := range l {
		matched := false
		for j := range r {
			if l[i].Key == r[j].Key && r[j].TS >= l[i].TS+lo && r[j].TS <= l[i].TS+up {
				out = append(out, fmt.Sprintf("t=%d %s", max(l[i].TS, r[j].TS), pairStr(l[i].Key, &l[i], &r[j])))
				matched = true
			}
		}
		if outer && !matched {
			out = append(out, fmt.Sprintf("t=%d %s", l[i].TS, pairStr(l[i].Key, &l[i], nil)))
		}
	}
	slices.Sort(out)
	return out
}

func TestIntervalJoinAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 10))
	bounds := [][2]int64{{-10, 10}, {0, 25}, {-30, -5}, {5, 5}, {-3, 40}}
	for _, b := range bounds {
		for _, outer := range []bool{false, true} {
			keys := 1 + rng.IntN(12)
			l := joinEvents(rng, 800, keys, 20)
			r := joinEvents(rng, 700, keys, 20)
			for i := range r {
				r[i].V += 100_000
			}
			want := refInterval(l, r, b[0], b[1], outer)
			lo, up := time.Duration(b[0])*time.Millisecond, time.Duration(b[1])*time.Millisecond
			runMatrix(t, fmt.Sprintf("interval %v outer=%v", b, outer), want, func(job *stream.Job) *testkit.Collector[string] {
				left, right := joinSources(job, l, r, 20*time.Millisecond)
				if outer {
					return testkit.Collect(left.IntervalJoinOuter(right, lo, up, func(a ev, b *ev) string { return pairStr(a.Key, &a, b) }))
				}
				return testkit.Collect(left.IntervalJoin(right, lo, up, func(a, b ev) string { return pairStr(a.Key, &a, &b) }))
			})
		}
	}
}

// TestIntervalJoinOutOfOrder: input shuffled within the watermark bound
// gives the in-order result.
func TestIntervalJoinOutOfOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 11))
	l := joinEvents(rng, 1500, 7, 0)
	r := joinEvents(rng, 1500, 7, 0)
	for i := range r {
		r[i].V += 100_000
	}
	want := refInterval(l, r, -8, 12, true)
	ls, rs := shuffleWithin(rng, l, 30), shuffleWithin(rng, r, 30)
	runMatrix(t, "interval shuffled", want, func(job *stream.Job) *testkit.Collector[string] {
		left, right := joinSources(job, ls, rs, 30*time.Millisecond)
		return testkit.Collect(left.IntervalJoinOuter(right, -8*time.Millisecond, 12*time.Millisecond,
			func(a ev, b *ev) string { return pairStr(a.Key, &a, b) }))
	})
}

// refWindowJoin is the nested-loop window join: each record is put into
// its windows (sessions over both sides together), and every window's
// records are paired.
func refWindowJoin(a windowing.Assigner, l, r []ev, kind stream.JoinKind) []string {
	type wk struct{ k, s, e int64 }
	type cell struct{ ls, rs []*ev }
	cells := map[wk]*cell{}
	get := func(w wk) *cell {
		c := cells[w]
		if c == nil {
			c = &cell{}
			cells[w] = c
		}
		return c
	}
	if a.Kind() == windowing.KindSession {
		type rec struct {
			e     *ev
			right bool
		}
		var all []rec
		for i := range l {
			all = append(all, rec{&l[i], false})
		}
		for i := range r {
			all = append(all, rec{&r[i], true})
		}
		slices.SortStableFunc(all, func(x, y rec) int { return cmp.Compare(x.e.TS, y.e.TS) })
		gap := a.Gap().Milliseconds()
		byKey := map[int64][]rec{}
		for _, x := range all {
			byKey[x.e.Key] = append(byKey[x.e.Key], x)
		}
		for k, recs := range byKey {
			var members []rec
			s, e := int64(0), int64(0)
			flush := func() {
				c := get(wk{k, s, e})
				for _, m := range members {
					if m.right {
						c.rs = append(c.rs, m.e)
					} else {
						c.ls = append(c.ls, m.e)
					}
				}
			}
			for _, x := range recs {
				if len(members) > 0 && x.e.TS < e {
					e = max(e, x.e.TS+gap)
					members = append(members, x)
					continue
				}
				if len(members) > 0 {
					flush()
				}
				members, s, e = []rec{x}, x.e.TS, x.e.TS+gap
			}
			flush()
		}
	} else {
		for i := range l {
			for _, w := range a.Windows(evTime(l[i])) {
				c := get(wk{l[i].Key, w.Start.UnixMilli(), w.End.UnixMilli()})
				c.ls = append(c.ls, &l[i])
			}
		}
		for i := range r {
			for _, w := range a.Windows(evTime(r[i])) {
				c := get(wk{r[i].Key, w.Start.UnixMilli(), w.End.UnixMilli()})
				c.rs = append(c.rs, &r[i])
			}
		}
	}
	var out []string
	emit := func(w wk, x, y *ev) { out = append(out, fmt.Sprintf("t=%d %s", w.e-1, pairStr(w.k, x, y))) }
	for w, c := range cells {
		for _, x := range c.ls {
			for _, y := range c.rs {
				emit(w, x, y)
			}
		}
		if len(c.rs) == 0 && (kind == stream.LeftOuterJoin || kind == stream.FullOuterJoin) {
			for _, x := range c.ls {
				emit(w, x, nil)
			}
		}
		if len(c.ls) == 0 && (kind == stream.RightOuterJoin || kind == stream.FullOuterJoin) {
			for _, y := range c.rs {
				emit(w, nil, y)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestWindowJoinAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 12))
	assigners := []windowing.Assigner{
		windowing.Tumbling(50 * time.Millisecond),
		windowing.Sliding(60*time.Millisecond, 20*time.Millisecond),
		windowing.Session(6 * time.Millisecond),
		windowing.Cumulate(20*time.Millisecond, 60*time.Millisecond),
	}
	kinds := []stream.JoinKind{stream.InnerJoin, stream.LeftOuterJoin, stream.RightOuterJoin, stream.FullOuterJoin}
	for _, a := range assigners {
		for _, kind := range kinds {
			keys := 1 + rng.IntN(15)
			l := joinEvents(rng, 500, keys, 20)
			r := joinEvents(rng, 400, keys, 20)
			for i := range r {
				r[i].V += 100_000
			}
			want := refWindowJoin(a, l, r, kind)
			runMatrix(t, fmt.Sprintf("%v %v", a, kind), want, func(job *stream.Job) *testkit.Collector[string] {
				left, right := joinSources(job, l, r, 20*time.Millisecond)
				return testkit.Collect(stream.WindowJoin(left, right, a, kind, pairStr))
			})
		}
	}
}

func TestWindowJoinOutOfOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 13))
	a := windowing.Tumbling(40 * time.Millisecond)
	l := joinEvents(rng, 1000, 5, 0)
	r := joinEvents(rng, 1000, 5, 0)
	for i := range r {
		r[i].V += 100_000
	}
	want := refWindowJoin(a, l, r, stream.FullOuterJoin)
	ls, rs := shuffleWithin(rng, l, 25), shuffleWithin(rng, r, 25)
	runMatrix(t, "window shuffled", want, func(job *stream.Job) *testkit.Collector[string] {
		left, right := joinSources(job, ls, rs, 25*time.Millisecond)
		return testkit.Collect(stream.WindowJoin(left, right, a, stream.FullOuterJoin, pairStr))
	})
}

func TestJoinBuildErrors(t *testing.T) {
	job := stream.NewJob("bad")
	left, right := joinSources(job, nil, nil, 0)
	left.IntervalJoin(right, 5*time.Millisecond, time.Millisecond, func(a, b ev) int { return 0 }).Print()
	if _, err := job.Graph(); err == nil {
		t.Fatal("lower > upper accepted")
	}
	job = stream.NewJob("bad2")
	left, _ = joinSources(job, nil, nil, 0)
	_, other := joinSources(stream.NewJob("other"), nil, nil, 0)
	stream.WindowJoin(left, other, windowing.Tumbling(time.Second), stream.InnerJoin, pairStr).Print()
	if _, err := job.Graph(); err == nil {
		t.Fatal("streams of two jobs joined")
	}
}

// refRegular is the final table of a regular join: every pair, and the
// unmatched records of the outer sides.
func refRegular(l, r []ev, kind stream.JoinKind) []string {
	var out []string
	lm, rm := make([]bool, len(l)), make([]bool, len(r))
	for i := range l {
		for j := range r {
			if l[i].Key == r[j].Key {
				out = append(out, pairStr(l[i].Key, &l[i], &r[j]))
				lm[i], rm[j] = true, true
			}
		}
	}
	for i := range l {
		if !lm[i] && (kind == stream.LeftOuterJoin || kind == stream.FullOuterJoin) {
			out = append(out, pairStr(l[i].Key, &l[i], nil))
		}
	}
	for j := range r {
		if !rm[j] && (kind == stream.RightOuterJoin || kind == stream.FullOuterJoin) {
			out = append(out, pairStr(r[j].Key, nil, &r[j]))
		}
	}
	slices.Sort(out)
	return out
}

// applyChangelog applies rows in order and returns the final table; a
// retraction of a missing row fails t.
func applyChangelog(t *testing.T, rows []windowing.Change[int64, string]) []string {
	t.Helper()
	table := map[string]int{}
	for _, c := range rows {
		switch c.Kind {
		case windowing.Insert, windowing.UpdateAfter:
			table[c.Value]++
		default:
			if table[c.Value] == 0 {
				t.Fatalf("%v %s retracts a missing row", c.Kind, c.Value)
			}
			table[c.Value]--
		}
	}
	var out []string
	for v, n := range table {
		for range n {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

func TestRegularJoinAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 14))
	for _, kind := range []stream.JoinKind{stream.InnerJoin, stream.LeftOuterJoin, stream.RightOuterJoin, stream.FullOuterJoin} {
		keys := 20 + rng.IntN(40)
		l := joinEvents(rng, 300, keys, 20)
		r := joinEvents(rng, 200, keys, 20)
		for i := range r {
			r[i].V += 100_000
		}
		want := refRegular(l, r, kind)
		for _, p := range []int{1, 2} {
			for _, threaded := range []bool{false, true} {
				job := stream.NewJob("join")
				left, right := joinSources(job, l, r, 20*time.Millisecond)
				c := testkit.Collect(stream.Join(left, right, kind, stream.JoinOptions{}, pairStr))
				if threaded {
					if err := runtime.Run(context.Background(), job, runtime.Parallelism(p), runtime.Pinning(false)); err != nil {
						t.Fatal(err)
					}
				} else {
					testkit.Run(t, job, runtime.Parallelism(p))
				}
				if got := applyChangelog(t, c.Values()); !slices.Equal(got, want) {
					t.Fatalf("%v p=%d threaded=%v: %d rows, want %d\n%s", kind, p, threaded, len(got), len(want), firstDiff(got, want))
				}
			}
		}
	}
}

// changes makes a changelog of versions per key: inserts, updates (an
// UpdateBefore/UpdateAfter pair) and deletes, at most maxDelay ms out of
// order.
func changes(rng *rand.Rand, n, keys int, maxDelay int64) []windowing.Change[int64, ev] {
	evs := joinEvents(rng, n, keys, maxDelay)
	out := make([]windowing.Change[int64, ev], 0, n)
	for _, e := range evs {
		e.V += 100_000
		switch x := rng.IntN(10); {
		case x == 0:
			out = append(out, windowing.Change[int64, ev]{Kind: windowing.Delete, Key: e.Key, Value: e})
		case x < 5:
			out = append(out, windowing.Change[int64, ev]{Kind: windowing.UpdateBefore, Key: e.Key, Value: e},
				windowing.Change[int64, ev]{Kind: windowing.UpdateAfter, Key: e.Key, Value: e})
		default:
			out = append(out, windowing.Change[int64, ev]{Kind: windowing.Insert, Key: e.Key, Value: e})
		}
	}
	return out
}

// refTemporal matches each left record with the version valid at its
// time (the latest change at or before it; of equal times the last).
func refTemporal(l []ev, cs []windowing.Change[int64, ev], outer bool) []string {
	var out []string
	for i := range l {
		var best *windowing.Change[int64, ev]
		for j := range cs {
			c := &cs[j]
			if c.Key == l[i].Key && c.Kind != windowing.UpdateBefore && c.Value.TS <= l[i].TS && (best == nil || c.Value.TS >= best.Value.TS) {
				best = c
			}
		}
		if best != nil && best.Kind != windowing.Delete {
			out = append(out, fmt.Sprintf("t=%d %s", l[i].TS, pairStr(l[i].Key, &l[i], &best.Value)))
		} else if outer {
			out = append(out, fmt.Sprintf("t=%d %s", l[i].TS, pairStr(l[i].Key, &l[i], nil)))
		}
	}
	slices.Sort(out)
	return out
}

func TestTemporalJoinAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 15))
	for _, outer := range []bool{false, true} {
		keys := 1 + rng.IntN(10)
		l := joinEvents(rng, 800, keys, 20)
		cs := changes(rng, 300, keys, 20)
		want := refTemporal(l, cs, outer)
		kind := stream.InnerJoin
		if outer {
			kind = stream.LeftOuterJoin
		}
		runMatrix(t, fmt.Sprintf("temporal outer=%v", outer), want, func(job *stream.Job) *testkit.Collector[string] {
			left := stream.FromSlice(job, "left", l).WithWatermarks(timeapi.BoundedOutOfOrder(evTime, 20*time.Millisecond)).KeyBy(keyOf)
			table := stream.FromSlice(job, "rates", cs).WithWatermarks(timeapi.BoundedOutOfOrder(
				func(c windowing.Change[int64, ev]) time.Time { return evTime(c.Value) }, 20*time.Millisecond))
			return testkit.Collect(stream.TemporalJoin(left, table, kind, func(a ev, v *ev) string { return pairStr(a.Key, &a, v) }))
		})
	}
}

// refAsof is the nested-loop ASOF join.
func refAsof(l, r []ev, o stream.AsofOptions) []string {
	tol := o.Tolerance.Milliseconds()
	var out []string
	for i := range l {
		var best *ev
		for j := range r {
			x := &r[j]
			if x.Key != l[i].Key {
				continue
			}
			d := l[i].TS - x.TS
			if o.Direction == stream.Forward {
				d = -d
			}
			if d < 0 || (tol > 0 && d > tol) {
				continue
			}
			if best == nil || x.TS == best.TS || (x.TS > best.TS) == (o.Direction == stream.Backward) {
				best = x
			}
		}
		if best != nil || o.Outer {
			out = append(out, fmt.Sprintf("t=%d %s", l[i].TS, pairStr(l[i].Key, &l[i], best)))
		}
	}
	slices.Sort(out)
	return out
}

func TestAsofJoinAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 16))
	opts := []stream.AsofOptions{
		{},
		{Outer: true, Tolerance: 5 * time.Millisecond},
		{Direction: stream.Forward, Tolerance: 8 * time.Millisecond},
		{Direction: stream.Forward, Tolerance: 30 * time.Millisecond, Outer: true},
	}
	for _, o := range opts {
		keys := 1 + rng.IntN(10)
		l := joinEvents(rng, 600, keys, 20)
		r := joinEvents(rng, 300, keys, 20)
		for i := range r {
			r[i].V += 100_000
		}
		ls, rs := shuffleWithin(rng, l, 10), shuffleWithin(rng, r, 10)
		want := refAsof(ls, rs, o) // of equal times the last to arrive counts
		runMatrix(t, fmt.Sprintf("asof %+v", o), want, func(job *stream.Job) *testkit.Collector[string] {
			left, right := joinSources(job, ls, rs, 30*time.Millisecond)
			return testkit.Collect(stream.AsofJoin(left, right, o, func(a ev, u *ev) string { return pairStr(a.Key, &a, u) }))
		})
	}
}
