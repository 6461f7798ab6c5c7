package stream_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

func keyOf(e ev) int64 { return e.Key }

func source(job *stream.Job, evs []ev, bound time.Duration) stream.DataStream[ev] {
	return stream.FromSlice(job, "events", evs).WithWatermarks(timeapi.BoundedOutOfOrder(evTime, bound))
}

// TestBuiltinAggregators checks Sum, Min, Max, Avg, CountDistinct, First
// and Last over tumbling and session windows (sessions merge
// accumulators) against values computed by hand.
func TestBuiltinAggregators(t *testing.T) {
	evs := []ev{{1, 5, 3}, {1, 1, 7}, {1, 9, 3}, {1, 9, 4}, {1, 2, 1}, {2, 30, 9}, {1, 4, 7}}
	type all struct {
		Sum, Min, Max, Distinct, First, Last int64
		Avg                                  float64
	}
	for _, a := range []windowing.Assigner{windowing.Tumbling(20 * time.Millisecond), windowing.Session(5 * time.Millisecond)} {
		job := stream.NewJob("aggs")
		w := source(job, evs, 10*time.Millisecond).KeyBy(keyOf).Window(a)
		v := func(e ev) int64 { return e.V }
		outs := []*testkit.Collector[windowing.Result[int64, int64]]{
			testkit.Collect(w.Aggregate(stream.Sum(v))),
			testkit.Collect(w.Aggregate(stream.Min(v))),
			testkit.Collect(w.Aggregate(stream.Max(v))),
			testkit.Collect(w.Aggregate(stream.CountDistinct(v))),
			testkit.Collect(w.Aggregate(stream.First(evTime, v))),
			testkit.Collect(w.Aggregate(stream.Last(evTime, v))),
		}
		avg := testkit.Collect(w.Aggregate(stream.Avg(v)))
		testkit.Run(t, job, runtime.Parallelism(2))
		got := map[string]all{}
		for i, c := range outs {
			for _, r := range c.Values() {
				k := fmt.Sprintf("%d%v", r.Key, fmtW(r.Window))
				x := got[k]
				*[]*int64{&x.Sum, &x.Min, &x.Max, &x.Distinct, &x.First, &x.Last}[i] = r.Value
				got[k] = x
			}
		}
		for _, r := range avg.Values() {
			k := fmt.Sprintf("%d%v", r.Key, fmtW(r.Window))
			x := got[k]
			x.Avg = r.Value
			got[k] = x
		}
		want := map[string]all{
			"1[0,20)":  {Sum: 25, Min: 1, Max: 7, Distinct: 4, First: 7, Last: 4, Avg: 25.0 / 6},
			"2[20,40)": {Sum: 9, Min: 9, Max: 9, Distinct: 1, First: 9, Last: 9, Avg: 9},
		}
		if a.Kind() == windowing.KindSession {
			want = map[string]all{
				"1[1,14)":  {Sum: 25, Min: 1, Max: 7, Distinct: 4, First: 7, Last: 4, Avg: 25.0 / 6},
				"2[30,35)": {Sum: 9, Min: 9, Max: 9, Distinct: 1, First: 9, Last: 9, Avg: 9},
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%v:\n got  %v\n want %v", a, got, want)
		}
	}
}

func fmtW(w windowing.Window) string {
	return fmt.Sprintf("[%d,%d)", w.Start.UnixMilli(), w.End.UnixMilli())
}

// TestCountDistinctLarge checks the immutable set against a map, and that
// an old accumulator is unchanged by later adds (copy-on-write safety).
func TestCountDistinctLarge(t *testing.T) {
	agg := stream.CountDistinct(func(v int64) int64 { return v })
	acc := agg.Init()
	seen := map[int64]bool{}
	var old stream.DistinctAcc[int64]
	for i := range int64(20000) {
		v := (i * 7919) % 5003
		acc = agg.Add(acc, v)
		seen[v] = true
		if i == 1000 {
			old = acc
		}
	}
	if agg.Result(acc) != int64(len(seen)) {
		t.Fatalf("count %d, want %d", agg.Result(acc), len(seen))
	}
	oldN := old.Len()
	again := agg.Add(old, -1)
	if old.Len() != oldN || again.Len() != oldN+1 {
		t.Fatalf("old accumulator changed: %d -> %d (new %d)", oldN, old.Len(), again.Len())
	}
	b := agg.Init()
	for i := range int64(6000) {
		b = agg.Add(b, i)
	}
	if m := agg.Merge(acc, b); m.Len() != 6000 {
		t.Fatalf("merge: %d distinct, want 6000", m.Len())
	}
}

// TestLateDataSideOutput: elements past the allowed lateness come out of
// the side stream; within it they update fired windows as -U/+U pairs.
func TestLateDataSideOutput(t *testing.T) {
	// Ascending watermarks: 25 moves the watermark to 24, so [0,10) and
	// [10,20) have fired; 12 is late but within 10ms of lateness, 3 is not.
	evs := []ev{{1, 1, 1}, {1, 12, 1}, {1, 25, 1}, {1, 12, 1}, {1, 3, 1}, {1, 40, 1}}
	for _, p := range []int{1, 2} {
		job := stream.NewJob("late")
		var lateOut *testkit.Collector[ev]
		res := source(job, evs, 0).KeyBy(keyOf).
			Window(windowing.Tumbling(10 * time.Millisecond)).
			AllowedLateness(10 * time.Millisecond).
			LateData(func(late stream.DataStream[ev]) { lateOut = testkit.Collect(late) }).
			Aggregate(stream.Count[ev]())
		out := testkit.Collect(res)
		// Batches of one record: the watermark moves between records.
		testkit.Run(t, job, runtime.Parallelism(p), runtime.BatchSize(1))
		var got []string
		for _, r := range out.Values() {
			got = append(got, fmt.Sprintf("%s %s %d", r.Kind, fmtW(r.Window), r.Value))
		}
		want := []string{"+I [0,10) 1", "+I [10,20) 1", "-U [10,20) 1", "+U [10,20) 2", "+I [20,30) 1", "+I [40,50) 1"}
		if !slices.Equal(got, want) {
			t.Fatalf("p=%d: got %q, want %q", p, got, want)
		}
		if l := lateOut.Records(); len(l) != 1 || l[0].Value.TS != 3 || l[0].Time != 3 {
			t.Fatalf("p=%d: late output %+v", p, l)
		}
	}
}

// TestRollingAggregate: +I for a key's first record, then -U/+U pairs.
func TestRollingAggregate(t *testing.T) {
	evs := []ev{{1, 1, 5}, {2, 2, 1}, {1, 3, 2}, {1, 4, 4}}
	job := stream.NewJob("rolling")
	out := testkit.Collect(source(job, evs, 0).KeyBy(keyOf).Aggregate(stream.Max(func(e ev) int64 { return e.V })))
	testkit.Run(t, job, runtime.Parallelism(2))
	got := map[int64][]string{}
	for _, r := range out.Records() {
		got[r.Value.Key] = append(got[r.Value.Key], fmt.Sprintf("%s%d@%d", r.Value.Kind, r.Value.Value, r.Time))
	}
	want := map[int64][]string{1: {"+I5@1", "-U5@3", "+U5@3", "-U5@4", "+U5@4"}, 2: {"+I1@2"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestWindowProcess: Process sees all elements of a window in arrival
// order; Reducing works as a window reduce.
func TestWindowProcess(t *testing.T) {
	evs := []ev{{1, 1, 5}, {1, 3, 2}, {2, 4, 7}, {1, 12, 1}}
	job := stream.NewJob("process")
	w := source(job, evs, 0).KeyBy(keyOf).Window(windowing.Tumbling(10 * time.Millisecond))
	proc := testkit.Collect(stream.DataStream[string](w.Process(func(k int64, win windowing.Window, elems []ev, emit func(string)) error {
		var vs []int64
		for _, e := range elems {
			vs = append(vs, e.V)
		}
		emit(fmt.Sprintf("%d%s%v", k, fmtW(win), vs))
		return nil
	})))
	red := testkit.Collect(w.Aggregate(stream.Reducing(func(a, b ev) ev { a.V += b.V; return a })))
	testkit.Run(t, job, runtime.Parallelism(2))
	got := proc.Values()
	slices.Sort(got)
	if want := []string{"1[0,10)[5 2]", "1[10,20)[1]", "2[0,10)[7]"}; !slices.Equal(got, want) {
		t.Fatalf("Process: got %q, want %q", got, want)
	}
	var sums []int64
	for _, r := range red.Values() {
		sums = append(sums, r.Value.V)
	}
	slices.Sort(sums)
	if !slices.Equal(sums, []int64{1, 7, 7}) {
		t.Fatalf("Reducing: %v", sums)
	}
}

// TestSlidingCountAPI is the API.md example shape: Sliding + Count.
func TestSlidingCountAPI(t *testing.T) {
	evs := []ev{{1, 0, 1}, {1, 3000, 1}, {1, 9000, 1}}
	job := stream.NewJob("api")
	out := testkit.Collect(source(job, evs, 4*time.Second).KeyBy(keyOf).
		Window(windowing.Sliding(10*time.Second, 5*time.Second)).
		Aggregate(stream.Count[ev]()))
	testkit.Run(t, job)
	var got []string
	for _, r := range out.Values() {
		got = append(got, fmt.Sprintf("%s=%d", fmtW(r.Window), r.Value))
	}
	slices.Sort(got)
	if want := []string{"[-5000,5000)=2", "[0,10000)=3", "[5000,15000)=1"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestWindowBuildErrors(t *testing.T) {
	job := stream.NewJob("bad")
	source(job, nil, 0).KeyBy(keyOf).Window(windowing.Tumbling(0)).Aggregate(stream.Count[ev]()).Print()
	if _, err := job.Graph(); err == nil {
		t.Fatal("Graph accepted a zero-size window")
	}
}
