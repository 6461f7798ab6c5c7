package spsc

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewRoundsCapacity(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{-5, 2}, {0, 2}, {1, 2}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {1000, 1024}, {1024, 1024}, {1025, 2048},
	} {
		if got := New[int](tc.in).Cap(); got != tc.want {
			t.Errorf("New(%d).Cap() = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestNewPanicsOnHugeCapacity(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(maxCapacity+1) did not panic")
		}
	}()
	New[byte](maxCapacity + 1)
}

// TestLayout checks that no 64-byte line can hold bytes of two field groups
// (or of a group and a neighbouring heap object), whatever the alignment.
func TestLayout(t *testing.T) {
	var r Ring[*int]
	type span struct {
		name       string
		start, end uintptr
	}
	groups := []span{
		{"object start", 0, 0},
		{"read-only", unsafe.Offsetof(r.buf), unsafe.Offsetof(r.mask) + unsafe.Sizeof(r.mask)},
		{"consumer", unsafe.Offsetof(r.head), unsafe.Offsetof(r.cachedTail) + unsafe.Sizeof(r.cachedTail)},
		{"producer", unsafe.Offsetof(r.tail), unsafe.Offsetof(r.cachedHead) + unsafe.Sizeof(r.cachedHead)},
		{"object end", unsafe.Sizeof(r), unsafe.Sizeof(r)},
	}
	for i := 1; i < len(groups); i++ {
		prev, cur := groups[i-1], groups[i]
		if gap := cur.start - prev.end; gap < cacheLine {
			t.Errorf("only %d bytes between %s (ends at %d) and %s (starts at %d)", gap, prev.name, prev.end, cur.name, cur.start)
		}
	}
	if d := unsafe.Offsetof(r.tail) - unsafe.Offsetof(r.head); d < 2*cacheLine {
		t.Errorf("head and tail are %d bytes apart, want >= %d", d, 2*cacheLine)
	}
}

func TestPushPopFIFO(t *testing.T) {
	r := New[int](4)
	if !r.Empty() || r.Full() || r.Len() != 0 {
		t.Fatalf("new ring: Empty=%v Full=%v Len=%d", r.Empty(), r.Full(), r.Len())
	}
	if _, ok := r.TryPop(); ok {
		t.Fatal("TryPop on empty ring succeeded")
	}
	if _, ok := r.Peek(); ok {
		t.Fatal("Peek on empty ring succeeded")
	}
	for i := range 4 {
		if !r.TryPush(i) {
			t.Fatalf("TryPush(%d) failed with Len=%d", i, r.Len())
		}
		if r.Len() != i+1 {
			t.Fatalf("Len = %d after %d pushes", r.Len(), i+1)
		}
	}
	if !r.Full() || r.Empty() {
		t.Fatalf("after 4 pushes: Full=%v Empty=%v", r.Full(), r.Empty())
	}
	if r.TryPush(99) {
		t.Fatal("TryPush on full ring succeeded")
	}
	for i := range 4 {
		if p, ok := r.Peek(); !ok || *p != i {
			t.Fatalf("Peek = %v, %v; want %d", p, ok, i)
		}
		if v, ok := r.TryPop(); !ok || v != i {
			t.Fatalf("TryPop = %d, %v; want %d, true", v, ok, i)
		}
	}
	if !r.Empty() {
		t.Fatal("ring not empty after popping everything")
	}
}

func TestWraparound(t *testing.T) {
	r := New[int](4)
	next, want := 0, 0
	// Uneven push/pop counts walk the indices around the array many times.
	for lap := range 1000 {
		for range lap%4 + 1 {
			if !r.TryPush(next) {
				break
			}
			next++
		}
		for range lap%3 + 1 {
			v, ok := r.TryPop()
			if !ok {
				break
			}
			if v != want {
				t.Fatalf("lap %d: popped %d, want %d", lap, v, want)
			}
			want++
		}
		if r.Len() != next-want {
			t.Fatalf("lap %d: Len = %d, want %d", lap, r.Len(), next-want)
		}
	}
	if next < 1000 {
		t.Fatalf("only %d pushes in 1000 laps", next)
	}
}

func TestPushNPopNPartial(t *testing.T) {
	r := New[int](4)
	if n := r.PushN([]int{0, 1, 2, 3, 4, 5}); n != 4 {
		t.Fatalf("PushN(6 into 4 free) = %d, want 4", n)
	}
	if n := r.PushN([]int{9}); n != 0 {
		t.Fatalf("PushN on full ring = %d, want 0", n)
	}
	dst := make([]int, 3)
	if n := r.PopN(dst); n != 3 || dst[0] != 0 || dst[2] != 2 {
		t.Fatalf("PopN(3) = %d, %v", n, dst)
	}
	// head=3, tail=4: this push wraps from slot 0 to 2.
	if n := r.PushN([]int{4, 5, 6, 7}); n != 3 {
		t.Fatalf("PushN wrapping = %d, want 3", n)
	}
	dst = make([]int, 10)
	if n := r.PopN(dst); n != 4 || dst[0] != 3 || dst[1] != 4 || dst[3] != 6 {
		t.Fatalf("PopN wrapping = %d, %v; want 4, [3 4 5 6 ...]", n, dst[:4])
	}
	if n := r.PopN(dst); n != 0 {
		t.Fatalf("PopN on empty ring = %d", n)
	}
	if n := r.PushN(nil); n != 0 {
		t.Fatalf("PushN(nil) = %d", n)
	}
	if n := r.PopN(nil); n != 0 {
		t.Fatalf("PopN(nil) = %d", n)
	}
}

func TestPeekModifies(t *testing.T) {
	r := New[int](2)
	r.TryPush(1)
	p, _ := r.Peek()
	*p = 7
	if v, _ := r.TryPop(); v != 7 {
		t.Fatalf("TryPop after modifying via Peek = %d, want 7", v)
	}
}

func TestPopZeroesSlots(t *testing.T) {
	r := New[*int](4)
	for range 3 {
		r.TryPush(new(int))
	}
	r.TryPop()
	r.PopN(make([]*int, 2))
	r.PushN([]*int{new(int), new(int)}) // slots 3 and 0
	r.TryPop()
	for i, p := range r.buf {
		if (p != nil) != (i == 0) {
			t.Errorf("slot %d = %v after pops; only slot 0 should be set", i, p)
		}
	}
}

// TestAgainstReference drives a ring and a plain slice with the same random
// operations and compares every result.
func TestAgainstReference(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	r := New[int](8)
	var ref []int
	next := 0
	for step := range 100000 {
		switch op := rng.IntN(5); op {
		case 0:
			ok := r.TryPush(next)
			if ok != (len(ref) < 8) {
				t.Fatalf("step %d: TryPush = %v with %d queued", step, ok, len(ref))
			}
			if ok {
				ref = append(ref, next)
				next++
			}
		case 1:
			es := make([]int, rng.IntN(11))
			for i := range es {
				es[i] = next + i
			}
			n := r.PushN(es)
			if n != min(len(es), 8-len(ref)) {
				t.Fatalf("step %d: PushN(%d) = %d with %d queued", step, len(es), n, len(ref))
			}
			ref = append(ref, es[:n]...)
			next += n
		case 2:
			v, ok := r.TryPop()
			if ok != (len(ref) > 0) || (ok && v != ref[0]) {
				t.Fatalf("step %d: TryPop = %d, %v; ref %v", step, v, ok, ref)
			}
			if ok {
				ref = ref[1:]
			}
		case 3:
			dst := make([]int, rng.IntN(11))
			n := r.PopN(dst)
			if n != min(len(dst), len(ref)) {
				t.Fatalf("step %d: PopN(%d) = %d with %d queued", step, len(dst), n, len(ref))
			}
			for i := range n {
				if dst[i] != ref[i] {
					t.Fatalf("step %d: PopN[%d] = %d, want %d", step, i, dst[i], ref[i])
				}
			}
			ref = ref[n:]
		case 4:
			p, ok := r.Peek()
			if ok != (len(ref) > 0) || (ok && *p != ref[0]) {
				t.Fatalf("step %d: Peek = %v, %v; ref %v", step, p, ok, ref)
			}
		}
		if r.Len() != len(ref) || r.Empty() != (len(ref) == 0) || r.Full() != (len(ref) == 8) {
			t.Fatalf("step %d: Len=%d Empty=%v Full=%v; ref has %d", step, r.Len(), r.Empty(), r.Full(), len(ref))
		}
	}
}

// TestConcurrent moves 1e6 values from a producer goroutine to a consumer
// goroutine, mixing single and batch operations, and checks order and that
// nothing is lost or duplicated. Run it with -race.
func TestConcurrent(t *testing.T) {
	const total = 1_000_000
	r := New[uint64](64)
	var wg sync.WaitGroup
	wg.Go(func() { // producer
		batch := make([]uint64, 0, 48)
		for next := uint64(0); next < total; {
			if next%3 == 0 {
				if r.TryPush(next) {
					next++
				} else {
					runtime.Gosched()
				}
				continue
			}
			batch = batch[:0]
			for v := next; v < min(next+uint64(next%47)+1, total); v++ {
				batch = append(batch, v)
			}
			n := r.PushN(batch)
			if n == 0 {
				runtime.Gosched()
			}
			next += uint64(n)
		}
	})
	var got uint64
	var fail string
	wg.Go(func() { // consumer
		dst := make([]uint64, 40)
		for got < total && fail == "" {
			switch got % 4 {
			case 0:
				p, ok := r.Peek()
				if !ok {
					runtime.Gosched()
					continue
				}
				if *p != got {
					fail = "Peek out of order"
				}
				fallthrough
			case 1:
				v, ok := r.TryPop()
				if !ok {
					runtime.Gosched()
					continue
				}
				if v != got {
					fail = "TryPop out of order"
				}
				got++
			default:
				n := r.PopN(dst[:got%40+1])
				if n == 0 {
					runtime.Gosched()
				}
				for _, v := range dst[:n] {
					if v != got {
						fail = "PopN out of order"
					}
					got++
				}
			}
		}
	})
	wg.Wait()
	if fail != "" {
		t.Fatalf("%s near value %d", fail, got)
	}
	if got != total || !r.Empty() {
		t.Fatalf("consumed %d of %d values, Len=%d", got, total, r.Len())
	}
}

func BenchmarkSPSC(b *testing.B) {
	b.Run("PushPop/same-goroutine", func(b *testing.B) {
		r := New[uint64](1024)
		b.ReportAllocs()
		for i := range b.N {
			r.TryPush(uint64(i))
			r.TryPop()
		}
	})
	b.Run("PushNPopN64/same-goroutine", func(b *testing.B) {
		r := New[uint64](1024)
		src, dst := make([]uint64, 64), make([]uint64, 64)
		b.ReportAllocs()
		for range b.N {
			r.PushN(src)
			r.PopN(dst)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/64, "ns/elem")
	})
	b.Run("PushPop/cross-goroutine", func(b *testing.B) {
		benchCross(b, 1)
	})
	b.Run("PushNPopN64/cross-goroutine", func(b *testing.B) {
		benchCross(b, 64)
	})
}

// benchCross measures throughput from the benchmark goroutine to a consumer
// goroutine; one op moves one element (batch == 1) or a batch of elements.
func benchCross(b *testing.B, batch int) {
	r := New[uint64](1024)
	total := b.N * batch
	done := make(chan struct{})
	go func() {
		defer close(done)
		dst := make([]uint64, batch)
		spins := 0
		for got := 0; got < total; {
			var n int
			if batch == 1 {
				if _, ok := r.TryPop(); ok {
					n = 1
				}
			} else {
				n = r.PopN(dst)
			}
			if n == 0 {
				backoff(&spins)
			} else {
				spins = 0
			}
			got += n
		}
	}()
	src := make([]uint64, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if batch == 1 {
			for spins := 0; !r.TryPush(uint64(i)); {
				backoff(&spins)
			}
			continue
		}
		for s, spins := src, 0; len(s) > 0; {
			n := r.PushN(s)
			if n == 0 {
				backoff(&spins)
			}
			s = s[n:]
		}
	}
	<-done
	if batch > 1 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/elem")
	}
}

// backoff busy-waits for the first few failed attempts, as a pinned worker
// would, and then yields so the benchmark also works with GOMAXPROCS=1.
func backoff(spins *int) {
	*spins++
	if *spins > 64 {
		*spins = 0
		runtime.Gosched()
	}
}
