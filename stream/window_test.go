package stream_test

import (
	"cmp"
	"context"
	"fmt"
	"github.com/weirstream/weir/internal/testseed"
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

// seed returns the test's random seed (WEIR_SEED overrides) and logs it.
func seed(t *testing.T) uint64 { return testseed.Seed(t) }

type ev struct {
	Key int64
	TS  int64 // ms
	V   int64
}

func evTime(e ev) time.Time { return timeapi.Time(e.TS) }

// cs is a count and a sum.
type cs struct{ N, Sum int64 }

type csAgg struct{}

func (csAgg) Init() cs          { return cs{} }
func (csAgg) Add(a cs, e ev) cs { return cs{a.N + 1, a.Sum + e.V} }
func (csAgg) Merge(a, b cs) cs  { return cs{a.N + b.N, a.Sum + b.Sum} }
func (csAgg) Result(a cs) cs    { return a }
func (csAgg) String() string    { return "count+sum" }
func asResult(r windowing.Result[int64, cs]) string {
	return fmt.Sprintf("%s k=%d [%d,%d) n=%d sum=%d", r.Kind, r.Key, r.Window.Start.UnixMilli(), r.Window.End.UnixMilli(), r.Value.N, r.Value.Sum)
}

// genEvents makes n events over keys keys, in time order with jitter:
// each event is at most maxDelay ms behind the latest before it.
func genEvents(rng *rand.Rand, n, keys int, maxDelay int64) []ev {
	out := make([]ev, n)
	var now int64 = 1_000_000 + rng.Int64N(1000)
	for i := range out {
		now += rng.Int64N(7)
		ts := now - rng.Int64N(maxDelay+1)
		out[i] = ev{Key: rng.Int64N(int64(keys)), TS: ts, V: rng.Int64N(100)}
	}
	return out
}

// refWindows recomputes every window from the sorted input: the dumb
// reference of the window operator.
func refWindows(a windowing.Assigner, evs []ev) []string {
	type wk struct{ k, s, e int64 }
	acc := map[wk]cs{}
	add := func(k, s, e, v int64) { c := acc[wk{k, s, e}]; acc[wk{k, s, e}] = cs{c.N + 1, c.Sum + v} }
	sorted := slices.Clone(evs)
	slices.SortStableFunc(sorted, func(x, y ev) int { return int(x.TS - y.TS) })
	size, slide := a.Size().Milliseconds(), a.Slide().Milliseconds()
	off := a.Offset().Milliseconds()
	floor := func(x, u int64) int64 { return x - (((x-off)%u)+u)%u }
	switch a.Kind() {
	case windowing.KindTumbling, windowing.KindSliding:
		for _, e := range sorted {
			for s := floor(e.TS, slide); s > e.TS-size; s -= slide {
				add(e.Key, s, s+size, e.V)
			}
		}
	case windowing.KindCumulate:
		for _, e := range sorted {
			base := floor(e.TS, size)
			for end := floor(e.TS, slide) + slide; end <= base+size; end += slide {
				add(e.Key, base, end, e.V)
			}
		}
	case windowing.KindSession:
		gap := a.Gap().Milliseconds()
		type sess struct {
			s, e int64
			c    cs
		}
		open := map[int64]*sess{}
		flush := func(k int64, x *sess) { acc[wk{k, x.s, x.e}] = x.c }
		for _, e := range sorted {
			x := open[e.Key]
			if x != nil && e.TS < x.e {
				x.e = max(x.e, e.TS+gap)
				x.c = cs{x.c.N + 1, x.c.Sum + e.V}
				continue
			}
			if x != nil {
				flush(e.Key, x)
			}
			open[e.Key] = &sess{e.TS, e.TS + gap, cs{1, e.V}}
		}
		for k, x := range open {
			flush(k, x)
		}
	}
	var out []string
	for w, c := range acc {
		out = append(out, fmt.Sprintf("+I k=%d [%d,%d) n=%d sum=%d", w.k, w.s, w.e, c.N, c.Sum))
	}
	slices.Sort(out)
	return out
}

func windowJob(a windowing.Assigner, evs []ev, bound time.Duration) (*stream.Job, *testkit.Collector[windowing.Result[int64, cs]]) {
	job := stream.NewJob("windows")
	res := stream.FromSlice(job, "events", evs).
		WithWatermarks(timeapi.BoundedOutOfOrder(evTime, bound)).
		KeyBy(func(e ev) int64 { return e.Key }).
		Window(a).
		Aggregate(stream.Aggregator[ev, cs, cs](csAgg{}))
	return job, testkit.Collect(res)
}

func collected(t *testing.T, c *testkit.Collector[windowing.Result[int64, cs]]) []string {
	var out []string
	for _, r := range c.Records() {
		if r.Time != r.Value.Window.End.UnixMilli()-1 {
			t.Fatalf("result %s has event time %d, want end-1", asResult(r.Value), r.Time)
		}
		out = append(out, asResult(r.Value))
	}
	slices.Sort(out)
	return out
}

// TestWindowsAgainstReference runs random out-of-order input (within the
// watermark bound, so nothing is late) through every aligned and session
// assigner at parallelism 1 and 2, in the deterministic step mode and in
// the threaded runtime, and compares with recomputing each window from
// the sorted input.
func TestWindowsAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 1))
	assigners := []windowing.Assigner{
		windowing.Tumbling(100 * time.Millisecond),
		windowing.Tumbling(100 * time.Millisecond).WithOffset(30 * time.Millisecond),
		windowing.Sliding(100*time.Millisecond, 20*time.Millisecond),
		windowing.Sliding(100*time.Millisecond, 40*time.Millisecond),
		windowing.Sliding(30*time.Millisecond, 50*time.Millisecond), // gaps between windows
		windowing.Session(15 * time.Millisecond),
		windowing.Cumulate(25*time.Millisecond, 100*time.Millisecond),
	}
	for _, a := range assigners {
		evs := genEvents(rng, 3000, 1+rng.IntN(20), 40)
		want := refWindows(a, evs)
		for _, p := range []int{1, 2} {
			for _, threaded := range []bool{false, true} {
				name := fmt.Sprintf("%v/p=%d/threaded=%v", a, p, threaded)
				job, c := windowJob(a, evs, 40*time.Millisecond)
				if threaded {
					if err := runtime.Run(context.Background(), job, runtime.Parallelism(p), runtime.Pinning(false)); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
				} else {
					testkit.Run(t, job, runtime.Parallelism(p))
				}
				if got := collected(t, c); !slices.Equal(got, want) {
					t.Fatalf("%s: %d results, want %d\n%s", name, len(got), len(want), firstDiff(got, want))
				}
			}
		}
	}
}

// TestOutOfOrderEqualsInOrder: shuffling within the watermark bound gives
// exactly the in-order result.
func TestOutOfOrderEqualsInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 2))
	for _, a := range []windowing.Assigner{windowing.Sliding(50*time.Millisecond, 10*time.Millisecond), windowing.Session(8 * time.Millisecond)} {
		evs := genEvents(rng, 2000, 5, 0)
		// Arrival order: by ts plus a jitter of up to 20ms, so every event
		// lags the latest before it by at most 20ms (the watermark bound).
		jitter := make(map[int]int64, len(evs))
		idx := make([]int, len(evs))
		for i := range idx {
			idx[i], jitter[i] = i, rng.Int64N(21)
		}
		slices.SortStableFunc(idx, func(x, y int) int {
			return cmp.Compare(evs[x].TS+jitter[x], evs[y].TS+jitter[y])
		})
		shuffled := make([]ev, len(evs))
		for i, j := range idx {
			shuffled[i] = evs[j]
		}
		job1, c1 := windowJob(a, evs, 20*time.Millisecond)
		testkit.Run(t, job1)
		job2, c2 := windowJob(a, shuffled, 20*time.Millisecond)
		testkit.Run(t, job2, runtime.Parallelism(2))
		if g, w := collected(t, c2), collected(t, c1); !slices.Equal(g, w) {
			t.Fatalf("%v: out of order differs\n%s", a, firstDiff(g, w))
		}
	}
}

func firstDiff(got, want []string) string {
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("first difference at %d:\n got  %s\n want %s", i, g, w)
		}
	}
	return "equal"
}

// csAddTo is csAgg with AddTo; its Add fails the test, so the operators
// must call AddTo.
type csAddTo struct {
	csAgg
	t *testing.T
}

func (a csAddTo) Add(acc cs, e ev) cs {
	a.t.Error("Add called on an aggregator with AddTo")
	return a.csAgg.Add(acc, e)
}

func (csAddTo) AddTo(acc *cs, e ev) { acc.N, acc.Sum = acc.N+1, acc.Sum+e.V }

// TestAggregatorAddTo: window operators (aligned and session) and rolling
// aggregations fold records with an aggregator's AddTo, with the results
// of Add.
func TestAggregatorAddTo(t *testing.T) {
	var _ stream.AdderTo[ev, cs] = csAddTo{}
	rng := rand.New(rand.NewPCG(seed(t), 3))
	for _, a := range []windowing.Assigner{
		windowing.Tumbling(100 * time.Millisecond),
		windowing.Sliding(100*time.Millisecond, 20*time.Millisecond),
		windowing.Session(15 * time.Millisecond),
		windowing.Cumulate(25*time.Millisecond, 100*time.Millisecond),
	} {
		evs := genEvents(rng, 2000, 1+rng.IntN(20), 40)
		job := stream.NewJob("windows")
		c := testkit.Collect(source(job, evs, 40*time.Millisecond).KeyBy(keyOf).Window(a).
			Aggregate(stream.Aggregator[ev, cs, cs](csAddTo{t: t})))
		testkit.Run(t, job, runtime.Parallelism(2))
		if got, want := collected(t, c), refWindows(a, evs); !slices.Equal(got, want) {
			t.Fatalf("%v: %d results, want %d\n%s", a, len(got), len(want), firstDiff(got, want))
		}
	}

	evs := []ev{{1, 1, 5}, {2, 2, 1}, {1, 3, 2}}
	job := stream.NewJob("rolling")
	out := testkit.Collect(source(job, evs, 0).KeyBy(keyOf).Aggregate(stream.Aggregator[ev, cs, cs](csAddTo{t: t})))
	testkit.Run(t, job)
	var got []string
	for _, r := range out.Records() {
		got = append(got, fmt.Sprintf("%s%d:%v", r.Value.Kind, r.Value.Key, r.Value.Value))
	}
	if want := []string{"+I1:{1 5}", "+I2:{1 1}", "-U1:{1 5}", "+U1:{2 7}"}; !slices.Equal(got, want) {
		t.Fatalf("rolling: got %v, want %v", got, want)
	}
}
