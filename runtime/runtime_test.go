package runtime_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
)

var seedFlag = flag.Uint64("seed", 0, "seed for randomized tests (default: time-based; env WEIR_SEED too)")

func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := *seedFlag
	if s := os.Getenv("WEIR_SEED"); s != "" && seed == 0 {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("bad WEIR_SEED %q", s)
		}
		seed = v
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	return seed
}

type ev struct {
	Key  int64
	Val  int64
	Time int64 // Unix ms
}

func evTime(e ev) time.Time { return time.UnixMilli(e.Time) }

func randomEvents(r *rand.Rand, n, keys int) []ev {
	out := make([]ev, n)
	base := int64(1_700_000_000_000)
	for i := range out {
		// event times are mostly ascending with bounded disorder
		out[i] = ev{Key: r.Int64N(int64(keys)), Val: r.Int64N(1000) - 300, Time: base + int64(i)*10 - r.Int64N(50)}
	}
	return out
}

type sum struct {
	Key, Sum, N int64
}

// pipelineJob: Filter -> Map -> KeyBy -> Reduce, the Reduce's rolling
// results collected.
func pipelineJob(events []ev) (*stream.Job, *testkit.Collector[sum]) {
	job := stream.NewJob("random")
	out := stream.FromSlice(job, "events", events).
		WithWatermarks(timeapi.BoundedOutOfOrder(evTime, 100*time.Millisecond)).
		Filter(func(e ev) bool { return e.Val%7 != 0 }).
		Map(func(e ev) sum { return sum{Key: e.Key, Sum: e.Val, N: 1} }).
		KeyBy(func(s sum) int64 { return s.Key }).
		Reduce(func(a, b sum) sum { return sum{Key: a.Key, Sum: a.Sum + b.Sum, N: a.N + b.N} })
	return job, testkit.Collect(out)
}

// referenceRolling is the plain-Go reference: per key, the sequence of
// rolling sums in input order.
func referenceRolling(events []ev) map[int64][]sum {
	acc := map[int64]sum{}
	out := map[int64][]sum{}
	for _, e := range events {
		if e.Val%7 == 0 {
			continue
		}
		a := acc[e.Key]
		a = sum{Key: e.Key, Sum: a.Sum + e.Val, N: a.N + 1}
		acc[e.Key] = a
		out[e.Key] = append(out[e.Key], a)
	}
	return out
}

func perKey(vals []sum) map[int64][]sum {
	out := map[int64][]sum{}
	for _, v := range vals {
		out[v.Key] = append(out[v.Key], v)
	}
	return out
}

func equalPerKey(t *testing.T, label string, got, want map[int64][]sum) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d keys, want %d", label, len(got), len(want))
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Fatalf("%s: key %d: got %d results %v..., want %d %v...", label, k, len(got[k]), head(got[k]), len(w), head(w))
		}
	}
}

func head(s []sum) []sum { return s[:min(len(s), 3)] }

// TestRandomParallelism runs the same job at parallelism 1, 2 and 4, in
// the threaded and the deterministic mode, against a plain-Go reference:
// the per-key sequence of rolling results must match exactly (so per-key
// order survives the exchange).
func TestRandomParallelism(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 1))
	for round := range 3 {
		events := randomEvents(r, 2000+r.IntN(20000), 1+r.IntN(300))
		want := referenceRolling(events)
		batch := 1 + r.IntN(700)
		for _, p := range []int{1, 2, 4} {
			job, out := pipelineJob(events)
			err := runtime.Run(context.Background(), job, runtime.Parallelism(p), runtime.BatchSize(batch), runtime.RingSize(2+r.IntN(6)))
			if err != nil {
				t.Fatal(err)
			}
			equalPerKey(t, fmt.Sprintf("round %d threaded p=%d batch=%d", round, p, batch), perKey(out.Values()), want)

			job, out = pipelineJob(events)
			testkit.Run(t, job, runtime.Parallelism(p), runtime.BatchSize(batch))
			equalPerKey(t, fmt.Sprintf("round %d stepped p=%d", round, p), perKey(out.Values()), want)
		}
	}
}

// TestGeneratorParallelSplits: a parallel generator source feeds every
// worker; totals match the plain loop at any parallelism.
func TestGeneratorParallelSplits(t *testing.T) {
	const n = 50_000
	want := map[int64]int64{}
	for i := range int64(n) {
		want[i%97] += i
	}
	for _, p := range []int{1, 2, 3, 4} {
		job := stream.NewJob("gen")
		out := testkit.Collect(stream.FromGenerator(job, "gen", n, func(i int64) sum { return sum{Key: i % 97, Sum: i, N: 1} }).
			KeyBy(func(s sum) int64 { return s.Key }).
			Reduce(func(a, b sum) sum { return sum{a.Key, a.Sum + b.Sum, a.N + b.N} }))
		if err := runtime.Run(context.Background(), job, runtime.Parallelism(p)); err != nil {
			t.Fatal(err)
		}
		got := map[int64]int64{}
		count := 0
		for _, v := range out.Values() {
			got[v.Key] = max(got[v.Key], v.Sum)
			count++
		}
		if count != n {
			t.Fatalf("p=%d: %d results, want %d", p, count, n)
		}
		for k, w := range want {
			if got[k] != w {
				t.Fatalf("p=%d key %d: %d, want %d", p, k, got[k], w)
			}
		}
	}
}

// TestDeterministicOrder: the step mode gives the same output in the same
// order on every run.
func TestDeterministicOrder(t *testing.T) {
	events := randomEvents(rand.New(rand.NewPCG(7, 7)), 5000, 50)
	var first []sum
	for range 3 {
		job, out := pipelineJob(events)
		testkit.Run(t, job, runtime.Parallelism(3), runtime.BatchSize(64))
		if first == nil {
			first = out.Values()
			continue
		}
		if !slices.Equal(first, out.Values()) {
			t.Fatal("deterministic mode produced a different order")
		}
	}
}

func TestUnionAndFanOut(t *testing.T) {
	job := stream.NewJob("union")
	a := stream.FromSlice(job, "a", []int{1, 2, 3})
	b := stream.FromGenerator(job, "b", 100, func(i int64) int { return int(i) + 1000 })
	u := a.Union(b)
	evens := testkit.Collect(u.Filter(func(v int) bool { return v%2 == 0 }))
	all := testkit.Collect(u.Map(func(v int) int { return -v }))
	if err := runtime.Run(context.Background(), job, runtime.Parallelism(2)); err != nil {
		t.Fatal(err)
	}
	if all.Len() != 103 {
		t.Fatalf("fan-out got %d records, want 103", all.Len())
	}
	if evens.Len() != 51 {
		t.Fatalf("evens got %d, want 51", evens.Len())
	}
}

func TestErrorsNameTheOperator(t *testing.T) {
	cases := []struct {
		name  string
		build func(job *stream.Job)
		want  string
	}{
		{"panic in map", func(job *stream.Job) {
			stream.FromGenerator(job, "gen", 10_000, func(i int64) int64 { return i }).
				Map(func(i int64) int64 {
					if i == 5000 {
						panic("boom")
					}
					return i
				}).Name("exploding-map").SinkTo(operators.Discard[int64]())
		}, `operator "exploding-map"`},
		{"sink error", func(job *stream.Job) {
			stream.FromGenerator(job, "gen", 10_000, func(i int64) int64 { return i }).
				KeyBy(func(i int64) int64 { return i % 3 }).
				Reduce(func(a, b int64) int64 { return a + b }).
				SinkTo(operators.SinkFunc[int64](func(*operators.Context, *operators.Batch[int64]) error {
					return errors.New("disk full")
				}))
		}, "disk full"},
		{"process error", func(job *stream.Job) {
			stream.FromSlice(job, "s", []int64{1, 2, 3}).
				KeyBy(func(i int64) int64 { return i }).
				Process(stream.ProcessFuncs[int64, int64, int64]{Element: func(ctx *stream.Context[int64, int64], v int64) error {
					if v == 2 {
						return errors.New("bad record 2")
					}
					ctx.Emit(v)
					return nil
				}}).Name("picky").SinkTo(operators.Discard[int64]())
		}, `operator "picky" (subtask`},
		{"panic in key selector", func(job *stream.Job) {
			stream.FromSlice(job, "s", []int64{1, 2, 3}).
				KeyBy(func(i int64) int64 { panic("no key") }).
				Reduce(func(a, b int64) int64 { return a }).SinkTo(operators.Discard[int64]())
		}, "no key"},
	}
	for _, c := range cases {
		for _, p := range []int{1, 2} {
			job := stream.NewJob(c.name)
			c.build(job)
			err := runtime.Run(context.Background(), job, runtime.Parallelism(p))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s p=%d: got %v, want error containing %q", c.name, p, err, c.want)
			}
			var oe *operators.OperatorError
			if !errors.As(err, &oe) {
				t.Fatalf("%s: error %v is not an OperatorError", c.name, err)
			}
			err = testkit.RunErr(job)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s stepped: got %v, want %q", c.name, err, c.want)
			}
		}
	}
}

func TestCancel(t *testing.T) {
	for _, p := range []int{1, 2} {
		job := stream.NewJob("endless")
		sink := operators.Discard[int64]()
		stream.FromGenerator(job, "gen", -1, func(i int64) int64 { return i }).
			KeyBy(func(i int64) int64 { return i % 100 }).
			Reduce(func(a, b int64) int64 { return a + b }).SinkTo(sink)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		err := runtime.Run(ctx, job, runtime.Parallelism(p))
		cancel()
		if !errors.Is(err, runtime.ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("p=%d: got %v, want ErrCanceled wrapping DeadlineExceeded", p, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("cancel took %v", d)
		}
		if sink.Count() == 0 {
			t.Fatal("nothing was processed before cancel")
		}
	}
}

// TestChannelSourceAndBackpressure: a slow sink behind a tiny ring parks
// the producer; nothing is dropped.
func TestChannelSourceAndBackpressure(t *testing.T) {
	c := make(chan int, 16)
	go func() {
		for i := range 20_000 {
			c <- i
		}
		close(c)
	}()
	job := stream.NewJob("chan")
	var got int64
	stream.FromChannel(job, "c", c).
		KeyBy(func(i int) int { return i % 10 }).
		Reduce(func(a, b int) int { return a + b }).
		SinkTo(operators.SinkFunc[int](func(ctx *operators.Context, b *operators.Batch[int]) error {
			time.Sleep(20 * time.Microsecond)
			got += int64(b.Len()) // one sink subtask at parallelism 1
			return nil
		}))
	if err := runtime.Run(context.Background(), job, runtime.Parallelism(1), runtime.RingSize(2), runtime.BatchSize(16)); err != nil {
		t.Fatal(err)
	}
	if got != 20_000 {
		t.Fatalf("sink got %d records, want 20000", got)
	}
}

func TestRunTwiceAtOnce(t *testing.T) {
	job := stream.NewJob("twice")
	c := make(chan int, 1)
	started := make(chan struct{})
	var once sync.Once
	stream.FromChannel(job, "c", c).SinkTo(operators.SinkFunc[int](func(*operators.Context, *operators.Batch[int]) error {
		once.Do(func() { close(started) })
		return nil
	}))
	done := make(chan error)
	go func() { done <- runtime.Run(context.Background(), job, runtime.Parallelism(1)) }()
	c <- 1
	<-started // the first run is certainly running now
	err := runtime.Run(context.Background(), job)
	if !errors.Is(err, stream.ErrRunning) {
		t.Fatalf("second Run: got %v, want ErrRunning", err)
	}
	close(c)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// finished: may run again (the channel is closed: it ends at once)
	if err := runtime.Run(context.Background(), job); err != nil {
		t.Fatalf("rerun after finish: %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	job := stream.NewJob("opts")
	stream.FromSlice(job, "s", []int{1}).SinkTo(operators.Discard[int]())
	for _, o := range []runtime.Option{runtime.Parallelism(-1), runtime.MaxParallelism(0 - 5), runtime.BatchSize(-2), runtime.RingSize(1), nil} {
		if err := runtime.Run(context.Background(), job, o); err == nil {
			t.Fatal("bad option accepted")
		}
	}
	if err := runtime.Run(context.Background(), job, runtime.Parallelism(200)); err == nil {
		t.Fatal("parallelism above max parallelism accepted")
	}
}

// TestSpareProc: while a threaded job runs, GOMAXPROCS is above its
// workers (a P free for the Go scheduler's own goroutines); SpareProc(false)
// leaves it as it was.
func TestSpareProc(t *testing.T) {
	before := goruntime.GOMAXPROCS(0)
	for _, spare := range []bool{true, false} {
		var seen atomic.Int64
		job := stream.NewJob("procs")
		stream.FromGenerator(job, "gen", 10, func(i int64) int { return int(i) }).
			Map(func(v int) int { seen.Store(int64(goruntime.GOMAXPROCS(0))); return v }).
			SinkTo(operators.SinkFunc[int](func(*operators.Context, *operators.Batch[int]) error { return nil }))
		const par = 3
		if err := runtime.Run(context.Background(), job, runtime.Parallelism(par), runtime.SpareProc(spare)); err != nil {
			t.Fatal(err)
		}
		got := int(seen.Load())
		if spare && got < par+1 {
			t.Errorf("SpareProc(true): GOMAXPROCS %d during a run of %d workers, want at least %d", got, par, par+1)
		}
		if !spare && got != before {
			t.Errorf("SpareProc(false): GOMAXPROCS %d during the run, want %d as before", got, before)
		}
		if now := goruntime.GOMAXPROCS(0); now != before {
			t.Errorf("SpareProc(%v): GOMAXPROCS %d after the run, want %d as before", spare, now, before)
		}
	}
}
