package lookup_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/operators/lookup"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
	"github.com/weirstream/weir/timeapi"
)

// event is what the operator under test sent downstream.
type event struct {
	kind byte // 'r' record, 'w' watermark, 'e' end
	v    string
	ts   int64
}

// recorder is the Output after the operator.
type recorder struct{ evs []event }

func (r *recorder) Push(b any) error {
	bt := b.(*operators.Batch[string])
	for i, v := range bt.Values {
		r.evs = append(r.evs, event{'r', v, bt.Times[i]})
	}
	return nil
}
func (r *recorder) Watermark(wm int64) error {
	r.evs = append(r.evs, event{kind: 'w', ts: wm})
	return nil
}
func (r *recorder) Flush() error    { return nil }
func (r *recorder) EndInput() error { r.evs = append(r.evs, event{kind: 'e'}); return nil }

type timers struct{ at int64 }

func (t *timers) CallbackAt(at int64) { t.at = min(t.at, at) }

func rows(n int) map[int]string {
	m := map[int]string{}
	for k := 0; k < n; k += 2 { // odd keys have no row
		m[k] = fmt.Sprintf("row%d", k)
	}
	return m
}

func join(k int, v string, found bool) string {
	if !found {
		return fmt.Sprintf("%d:-", k)
	}
	return fmt.Sprintf("%d:%s", k, v)
}

func open(t *testing.T, table lookup.Table[int, string], opts lookup.Options, checkpointing bool) (*lookup.Operator[int, int, string, string], *recorder) {
	t.Helper()
	op := lookup.New(table, func(k int) int { return k }, join, opts)
	rec := &recorder{}
	ctx := &operators.Context{Operator: "lookup", BatchSize: 16, Clock: timeapi.SystemClock{},
		Timers: &timers{at: 1 << 62}, Checkpointing: checkpointing}
	if err := op.Open(ctx, rec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Close() })
	return op, rec
}

func batch(ts int64, keys ...int) *operators.Batch[int] {
	b := operators.NewBatch[int](len(keys))
	for _, k := range keys {
		b.Append(k, ts)
	}
	return b
}

// TestWatermarksHeld checks, in both modes and with random lookup delays,
// that every record leaves between the same watermarks it arrived between
// and that ordered mode keeps the input order.
func TestWatermarksHeld(t *testing.T) {
	for _, mode := range []lookup.Mode{lookup.Ordered, lookup.Unordered} {
		t.Run(mode.String(), func(t *testing.T) {
			seed := rand.Uint64()
			t.Logf("seed %d", seed)
			r := rand.New(rand.NewPCG(seed, 2))
			var mu sync.Mutex
			dr := rand.New(rand.NewPCG(seed, 3)) // delays, drawn by the fetchers
			table := lookup.NewMemTable(rows(100))
			table.Delay = func([]int) time.Duration {
				mu.Lock()
				defer mu.Unlock()
				return time.Duration(dr.IntN(3)) * time.Millisecond
			}
			op, rec := open(t, table, lookup.Options{Mode: mode, MaxInFlight: 3, Capacity: 64, MaxBatchKeys: 8}, false)
			var want []event
			for i := range 40 {
				var keys []int
				for range r.IntN(20) {
					keys = append(keys, r.IntN(100))
				}
				for _, k := range keys {
					want = append(want, event{'r', join(k, rows(100)[k], k%2 == 0), int64(i)})
				}
				if err := op.Push(batch(int64(i), keys...)); err != nil {
					t.Fatal(err)
				}
				if r.IntN(3) == 0 {
					if err := op.Flush(); err != nil {
						t.Fatal(err)
					}
				}
				want = append(want, event{kind: 'w', ts: int64(i)})
				if err := op.Watermark(int64(i)); err != nil {
					t.Fatal(err)
				}
			}
			want = append(want, event{kind: 'e'})
			if err := op.EndInput(); err != nil {
				t.Fatal(err)
			}
			got := coalesce(rec.evs)
			want = coalesce(want)
			if mode == lookup.Unordered { // compare each segment between watermarks as a multiset
				got, want = sortSegments(got), sortSegments(want)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("output differs:\n got %v\nwant %v", got, want)
			}
			if s := op.Stats(); s.CacheHits == 0 || s.Requests == 0 {
				t.Fatalf("stats %+v: expected cache hits and requests", s)
			}
		})
	}
}

// coalesce drops a watermark directly followed by another: the operator
// may hold both and pass on only the later one.
func coalesce(evs []event) []event {
	var out []event
	for i, e := range evs {
		if e.kind == 'w' && i+1 < len(evs) && evs[i+1].kind == 'w' {
			continue
		}
		out = append(out, e)
	}
	return out
}

func sortSegments(evs []event) []event {
	out := slices.Clone(evs)
	start := 0
	for i := range out {
		if out[i].kind != 'r' {
			slices.SortFunc(out[start:i], func(a, b event) int { return strings.Compare(a.v, b.v) })
			start = i + 1
		}
	}
	return out
}

// TestDedupAndCache checks that one batch sends each distinct key once and
// that a second batch with the same keys is answered from the cache
// (found and not-found alike).
func TestDedupAndCache(t *testing.T) {
	table := lookup.NewMemTable(rows(10))
	op, rec := open(t, table, lookup.Options{}, false)
	if err := op.Push(batch(1, 1, 2, 1, 2, 3, 3)); err != nil {
		t.Fatal(err)
	}
	if err := op.EndInput(); err != nil {
		t.Fatal(err)
	}
	if table.KeysRead() != 3 {
		t.Fatalf("table read %d keys, want 3", table.KeysRead())
	}
	before := len(rec.evs)
	if err := op.Push(batch(2, 3, 2, 1)); err != nil {
		t.Fatal(err)
	}
	if err := op.Flush(); err != nil {
		t.Fatal(err)
	}
	if table.Calls() != 1 || len(rec.evs) != before+3 || rec.evs[before].v != "3:-" || rec.evs[before+1].v != "2:row2" {
		t.Fatalf("second batch: calls=%d events=%v", table.Calls(), rec.evs[before:])
	}
}

// TestRetryThenSucceed takes the table down for a while: lookups are
// retried and every record still gets its row.
func TestRetryThenSucceed(t *testing.T) {
	table := lookup.NewMemTable(rows(50))
	table.SetDown(true)
	op, rec := open(t, table, lookup.Options{RetryBackoff: time.Millisecond, RetryMaxBackoff: 20 * time.Millisecond, FailAfter: 10 * time.Second}, false)
	time.AfterFunc(150*time.Millisecond, func() { table.SetDown(false) })
	keys := []int{0, 1, 2, 3, 4, 5, 6}
	if err := op.Push(batch(7, keys...)); err != nil {
		t.Fatal(err)
	}
	if err := op.EndInput(); err != nil {
		t.Fatal(err)
	}
	if len(rec.evs) != len(keys)+1 || rec.evs[6].v != "6:row6" || table.Calls() < 3 {
		t.Fatalf("events %v after %d calls", rec.evs, table.Calls())
	}
}

// TestTableStaysDown fails the operator with an error naming the table and
// the number of keys once FailAfter has passed.
func TestTableStaysDown(t *testing.T) {
	table := lookup.NewMemTable(rows(50))
	table.SetDown(true)
	op, _ := open(t, table, lookup.Options{RetryBackoff: time.Millisecond, FailAfter: 100 * time.Millisecond}, false)
	if err := op.Push(batch(7, 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := op.EndInput()
	if !errors.Is(err, lookup.ErrTableDown) || !errors.Is(err, lookup.ErrMemTableDown) ||
		!strings.Contains(err.Error(), `table "memtable"`) || !strings.Contains(err.Error(), "3 keys") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("gave up after %v", d)
	}
	if err2 := op.Push(batch(8, 1)); err2 == nil {
		t.Fatal("operator accepted records after failing")
	}
}

// TestPermanentErrorFailsAtOnce: no retries for a Permanent error.
func TestPermanentErrorFailsAtOnce(t *testing.T) {
	op, _ := open(t, badTable{}, lookup.Options{FailAfter: time.Hour}, false)
	if err := op.Push(batch(1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := op.EndInput(); !lookup.IsPermanent(err) || !strings.Contains(err.Error(), "cannot decode") {
		t.Fatalf("got %v", err)
	}
}

type badTable struct{}

func (badTable) GetBatch(context.Context, []int) ([]string, []bool, error) {
	return nil, nil, lookup.Permanent(errors.New("cannot decode"))
}

// TestBackpressure runs far more misses than Capacity through one slow
// request at a time: Push waits for room and nothing is lost.
func TestBackpressure(t *testing.T) {
	table := lookup.NewMemTable(rows(1000))
	table.Delay = func([]int) time.Duration { return time.Millisecond }
	op, rec := open(t, table, lookup.Options{Capacity: 8, MaxInFlight: 1, MaxBatchKeys: 4, CacheSize: -1}, false)
	var want []event
	for i := range 20 {
		keys := []int{i * 3, i*3 + 1, i*3 + 2, i * 3}
		for _, k := range keys {
			want = append(want, event{'r', join(k, rows(1000)[k], k%2 == 0), int64(i)})
		}
		if err := op.Push(batch(int64(i), keys...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := op.EndInput(); err != nil {
		t.Fatal(err)
	}
	want = append(want, event{kind: 'e'})
	if !slices.Equal(rec.evs, want) {
		t.Fatalf("got %v\nwant %v", rec.evs, want)
	}
}

// TestCheckpointingFlushDrains: with checkpointing on, Flush leaves nothing
// in flight.
func TestCheckpointingFlushDrains(t *testing.T) {
	table := lookup.NewMemTable(rows(10))
	table.Delay = func([]int) time.Duration { return 5 * time.Millisecond }
	op, rec := open(t, table, lookup.Options{}, true)
	if err := op.Push(batch(1, 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if err := op.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(rec.evs) != 3 {
		t.Fatalf("after a checkpointing flush: %v", rec.evs)
	}
}

func TestBadOptions(t *testing.T) {
	err := lookup.Options{Mode: 7, MaxInFlight: -1}.Validate()
	if !errors.Is(err, lookup.ErrBadOptions) || !strings.Contains(err.Error(), "MaxInFlight -1") {
		t.Fatalf("got %v", err)
	}
	job := stream.NewJob("bad")
	stream.LookupJoin(stream.FromSlice(job, "s", []int{1}), nil, func(k int) int { return k }, join, lookup.Options{}).Print()
	if _, err := job.Graph(); !errors.Is(err, stream.ErrNilFunc) || !strings.Contains(err.Error(), "LookupJoin") {
		t.Fatalf("got %v", err)
	}
}

// TestLookupJoinJob runs jobs through runtime.Run (threaded, parallelism
// 2) and testkit's deterministic mode, in both modes, and compares with a
// reference computed by a plain loop.
func TestLookupJoinJob(t *testing.T) {
	const n = 20000
	tbl := rows(500)
	type rec struct {
		Key int
		At  int64
	}
	in := make([]rec, n)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range in {
		in[i] = rec{Key: r.IntN(500), At: int64(i)}
	}
	var want []string
	for _, x := range in {
		v, ok := tbl[x.Key]
		want = append(want, fmt.Sprintf("%d@%d", x.At, len(join(x.Key, v, ok))))
	}
	for _, tc := range []struct {
		name  string
		mode  lookup.Mode
		run   func(*testing.T, *stream.Job)
		cache int
	}{
		{"threaded-ordered", lookup.Ordered, runThreaded, 0},
		{"threaded-unordered-nocache", lookup.Unordered, runThreaded, -1},
		{"stepped-ordered", lookup.Ordered, func(t *testing.T, j *stream.Job) { testkit.Run(t, j) }, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := lookup.NewMemTable(tbl)
			table.Delay = func([]int) time.Duration { return 200 * time.Microsecond }
			job := stream.NewJob(tc.name)
			src := stream.FromSlice(job, "in", in).WithWatermarks(timeapi.Ascending(func(x rec) time.Time { return time.UnixMilli(x.At) }))
			out := stream.LookupJoin(src, lookup.Table[int, string](table), func(x rec) int { return x.Key },
				func(x rec, v string, ok bool) string { return fmt.Sprintf("%d@%d", x.At, len(join(x.Key, v, ok))) },
				stream.LookupOptions{Mode: tc.mode, CacheSize: tc.cache})
			c := testkit.Collect(out)
			tc.run(t, job)
			got := c.Values()
			if tc.mode == lookup.Unordered {
				slices.Sort(got)
				w := slices.Clone(want)
				slices.Sort(w)
				if !slices.Equal(got, w) {
					t.Fatalf("got %d records, want %d; differ", len(got), len(w))
				}
				return
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %d records, want %d; differ", len(got), len(want))
			}
		})
	}
}

func runThreaded(t *testing.T, job *stream.Job) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := runtime.Run(ctx, job, runtime.Parallelism(2), runtime.Pinning(false)); err != nil {
		t.Fatal(err)
	}
}
