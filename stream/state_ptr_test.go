package stream_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/statebackend/pebblestate"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

// ptrSum keeps a running sum and count per key through ValueState.Ptr when
// the backend allows it, and through Value and Update otherwise.
type ptrSum struct {
	acc     *stream.ValueState[int, sumCount]
	inPlace bool
	sawNew  int // keys Ptr reported as new (per subtask)
}

type sumCount struct{ Sum, N int }

func (f *ptrSum) Open(ctx *stream.OpenContext[int]) (err error) {
	f.acc, err = stream.NewValueState[sumCount](ctx, "acc")
	if err == nil {
		f.inPlace = f.acc.InPlace()
	}
	return err
}

func (f *ptrSum) ProcessElement(ctx *stream.Context[int, string], v int) error {
	if !f.inPlace {
		if p, found := f.acc.Ptr(true); p != nil || found {
			return fmt.Errorf("Ptr without InPlace gave %v, %v", p, found)
		}
		s, _ := f.acc.Value()
		s.Sum, s.N = s.Sum+v, s.N+1
		f.acc.Update(s)
		ctx.Emit(fmt.Sprintf("%d: sum=%d n=%d", ctx.Key(), s.Sum, s.N))
		return nil
	}
	if v < 0 { // only look
		p, found := f.acc.Ptr(false)
		ctx.Emit(fmt.Sprintf("%d: peek %v %v", ctx.Key(), p != nil, found))
		return nil
	}
	p, found := f.acc.Ptr(true)
	if found != (p.N > 0) {
		return fmt.Errorf("key %d: found=%v with n=%d", ctx.Key(), found, p.N)
	}
	p.Sum += v
	p.N++
	ctx.Emit(fmt.Sprintf("%d: sum=%d n=%d", ctx.Key(), p.Sum, p.N))
	return nil
}

func (f *ptrSum) OnTimer(*stream.Context[int, string], stream.Timer) error { return nil }

// TestValueStatePtr: updates through Ptr are kept per key like Update's,
// Ptr(false) does not create a value, and with a byte backend (no
// InPlace) Ptr returns nil.
func TestValueStatePtr(t *testing.T) {
	var in []int
	for i := range 600 {
		in = append(in, 1+i%7)
	}
	in = append(in, -3, -3) // key -3 % 5: a new key, only peeked at
	want := map[int]string{}
	sums := map[int][2]int{}
	for _, v := range in[:600] {
		s := sums[v%5]
		s[0], s[1] = s[0]+v, s[1]+1
		sums[v%5] = s
		want[v%5] = fmt.Sprintf("%d: sum=%d n=%d", v%5, s[0], s[1])
	}
	for _, backend := range []string{"memstate", "pebblestate"} {
		for _, p := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/p=%d", backend, p), func(t *testing.T) {
				job := stream.NewJob("ptr")
				out := testkit.Collect(stream.FromSlice(job, "in", in).
					KeyBy(func(v int) int { return v % 5 }).Process(&ptrSum{}))
				opts := []runtime.Option{runtime.Parallelism(p), runtime.StateBackend(memstate.New())}
				if backend == "pebblestate" {
					opts[1] = runtime.StateBackend(pebblestate.New(t.TempDir(), pebblestate.Options{}))
				}
				testkit.Run(t, job, opts...)
				last := map[int]string{}
				var peeks []string
				for _, l := range out.Values() {
					var k int
					fmt.Sscanf(l, "%d:", &k)
					if k == -3 {
						peeks = append(peeks, l)
						continue
					}
					last[k] = l
				}
				for k, w := range want {
					if last[k] != w {
						t.Errorf("key %d: last output %q, want %q", k, last[k], w)
					}
				}
				// the first peek must not have created the value
				wantPeek := []string{"-3: peek false false", "-3: peek false false"}
				if backend == "pebblestate" {
					wantPeek = []string{"-3: sum=-3 n=1", "-3: sum=-6 n=2"}
				}
				if !slices.Equal(peeks, wantPeek) {
					t.Errorf("peek outputs %q, want %q", peeks, wantPeek)
				}
			})
		}
	}
}
