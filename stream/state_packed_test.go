package stream_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/statebackend/pebblestate"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

// seen is a packed value: the last value of a key, as text, and when.
type seen struct {
	Text string
	At   time.Time
	N    int
}

// packedFn keeps per key a packed value state (the last value seen and a
// count) and a packed map state (the last value per residue mod 3), and
// emits both after every element.
type packedFn struct {
	last  *stream.ValueState[int, seen]
	byMod *stream.MapState[int, int, string]
}

func (f *packedFn) Open(ctx *stream.OpenContext[int]) (err error) {
	if f.last, err = stream.NewValueState[seen](ctx, "last", stream.Packed()); err != nil {
		return err
	}
	if f.last.InPlace() {
		return fmt.Errorf("a packed value state claims InPlace")
	}
	f.byMod, err = stream.NewMapState[int, string](ctx, "by-mod", stream.Packed())
	return err
}

func (f *packedFn) ProcessElement(ctx *stream.Context[int, string], v int) error {
	s, _ := f.last.Value()
	f.last.Update(seen{Text: strings.Repeat("v", v%4) + fmt.Sprint(v), At: time.UnixMilli(int64(v)).UTC(), N: s.N + 1})
	f.byMod.Put(v%3, fmt.Sprint("m", v))
	var mods [3]string
	f.byMod.Range(func(m int, s string) bool { mods[m] = s; return true })
	ctx.Emit(fmt.Sprintf("%d: n=%d prev=%q at=%d mods=%v", ctx.Key(), s.N+1, s.Text, s.At.UnixMilli(), mods))
	return nil
}

func (f *packedFn) OnTimer(*stream.Context[int, string], stream.Timer) error { return nil }

// TestPackedState: packed value and map states keep per key what Go-value
// states would, on the heap backend and on a byte backend (which ignores
// the option), at parallelism 1 and 3.
func TestPackedState(t *testing.T) {
	var in []int
	for i := range 3000 {
		in = append(in, i*7%1000)
	}
	want := map[string]bool{}
	type st struct {
		prev seen
		mods [3]string
	}
	ref := map[int]*st{}
	for _, v := range in {
		s := ref[v%5]
		if s == nil {
			s = &st{}
			ref[v%5] = s
		}
		n := s.prev.N + 1
		s.mods[v%3] = fmt.Sprint("m", v)
		want[fmt.Sprintf("%d: n=%d prev=%q at=%d mods=%v", v%5, n, s.prev.Text, s.prev.At.UnixMilli(), s.mods)] = true
		s.prev = seen{Text: strings.Repeat("v", v%4) + fmt.Sprint(v), At: time.UnixMilli(int64(v)).UTC(), N: n}
	}
	for _, backend := range []string{"memstate", "pebblestate"} {
		for _, p := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/p=%d", backend, p), func(t *testing.T) {
				job := stream.NewJob("packed")
				out := testkit.Collect(stream.FromSlice(job, "in", in).
					KeyBy(func(v int) int { return v % 5 }).Process(&packedFn{}))
				opts := []runtime.Option{runtime.Parallelism(p), runtime.StateBackend(memstate.New())}
				if backend == "pebblestate" {
					opts[1] = runtime.StateBackend(pebblestate.New(t.TempDir(), pebblestate.Options{}))
				}
				testkit.Run(t, job, opts...)
				got := out.Values()
				if len(got) != len(in) {
					t.Fatalf("%d outputs, want %d", len(got), len(in))
				}
				for _, l := range got {
					if !want[l] {
						t.Fatalf("unexpected output %q", l)
					}
				}
			})
		}
	}
}

// badKeyFn declares a packed state under a key type a packed table cannot
// index.
type badKeyFn struct{}

type nameKey struct{ Name string }

func (badKeyFn) Open(ctx *stream.OpenContext[nameKey]) error {
	_, err := stream.NewValueState[int](ctx, "n", stream.Packed())
	return err
}
func (badKeyFn) ProcessElement(*stream.Context[nameKey, int], int) error   { return nil }
func (badKeyFn) OnTimer(*stream.Context[nameKey, int], stream.Timer) error { return nil }

// TestPackedStateBadKey: a packed state under a key it cannot index fails
// the job at open, naming the state and the key type.
func TestPackedStateBadKey(t *testing.T) {
	job := stream.NewJob("packed-bad")
	testkit.Collect(stream.FromSlice(job, "in", []int{1, 2}).KeyBy(func(v int) nameKey { return nameKey{fmt.Sprint(v)} }).
		Process(stream.KeyedProcessFunc[nameKey, int, int](badKeyFn{})))
	err := testkit.RunErr(job, runtime.StateBackend(memstate.New()))
	if err == nil || !strings.Contains(err.Error(), `value state "n"`) || !strings.Contains(err.Error(), "key type stream_test.nameKey") {
		t.Fatalf("got %v, want an error naming the state and the key type", err)
	}
}
