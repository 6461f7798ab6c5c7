package statebackend

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/weirstream/weir/internal/testseed"
)

// newOpen returns an open table over testInfo, failing if K does not get
// the open layout.
func newOpen[K comparable](t testing.TB) *openTable[K, Void, int64] {
	t.Helper()
	tab, ok := NewHeapTable[K, Void, int64](testInfo).(*openTable[K, Void, int64])
	if !ok {
		t.Fatalf("%T keys do not get the open layout", *new(K))
	}
	return tab
}

// checkOpen fails unless every key group of tab is well formed.
func checkOpen[K comparable](t testing.TB, tab *openTable[K, Void, int64]) {
	t.Helper()
	wellFormed(t, len(tab.groups), tab.check)
}

// wellFormed fails unless check(i), which panics on a malformed key group,
// passes for every key group index i below n.
func wellFormed(t testing.TB, n int, check func(i int)) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r != nil {
			t.Fatal(r)
		}
	}()
	for i := range n {
		check(i)
	}
}

// withCap empties key group kg and gives it room for capacity entries, as
// if it had grown to that and lost its keys.
func withCap[K comparable](tab *openTable[K, Void, int64], kg, capacity int) {
	g := &tab.groups[tab.index(kg)]
	*g = openGroup[K, int64]{
		openArr: openArr[K, int64]{e: make([]openEntry[K, int64], capacity), ctrl: make([]uint8, capacity+openWindow-1)},
		epoch:   tab.epoch,
	}
}

// keyWithHome returns the first key gen(i), i >= *next, whose home in an
// array of capacity entries is h, and advances *next past it.
func keyWithHome[K comparable](tab *openTable[K, Void, int64], capacity, h int, gen func(int) K, next *int) K {
	for ; ; *next++ {
		if k := gen(*next); int(home(tab.hash(k), uint64(capacity))) == h {
			*next++
			return k
		}
	}
}

// position returns the index of key's entry in key group kg, or -1.
func position[K comparable](tab *openTable[K, Void, int64], kg int, key K) int {
	return tab.groups[tab.index(kg)].find(key, tab.hash(key))
}

func TestOpenGrowth(t *testing.T) {
	tab := newOpen[int64](t)
	const kg, n = 7, 20_000 // many keys in one key group
	for k := range int64(n) {
		key := k*k*31 - k // not an arithmetic progression
		tab.Put(kg, key, Void{}, k)
		g := &tab.groups[tab.index(kg)]
		want := tab.grown(tab.index(kg), 0)
		for int(k+1)*openLoadDen > want*openLoadNum {
			want = tab.grown(tab.index(kg), want)
		}
		if len(g.e) != want || len(g.ctrl) != want+openWindow-1 {
			t.Fatalf("after %d keys: %d entries and %d control bytes, want %d and %d", k+1, len(g.e), len(g.ctrl), want, want+openWindow-1)
		}
		if k&(k+1) == 0 || int(k+2)*openLoadDen > len(g.e)*openLoadNum {
			checkOpen(t, tab) // at powers of two and full arrays
		}
	}
	checkOpen(t, tab)
	if got := tab.Len(kg); got != n {
		t.Fatalf("Len = %d, want %d", got, n)
	}
	for k := range int64(n) {
		p, found := tab.Ptr(kg, k*k*31-k, Void{}, false)
		if !found || *p != k {
			t.Fatalf("Ptr(%d) = %v, %t; want %d", k*k*31-k, p, found, k)
		}
	}
	for i := kg - testInfo.KeyGroups.Start + 1; i < len(tab.groups); i++ {
		if tab.groups[i].e != nil {
			t.Errorf("key group index %d has entries", i)
		}
	}
}

// TestOpenSizesOutOfPhase checks that the sizes key groups grow to from
// openPhaseAt entries spread over [2, 4) times that, evenly for any run of
// 64 key groups, so that their growths are spread over each doubling.
func TestOpenSizesOutOfPhase(t *testing.T) {
	for _, start := range []int{0, 64, 37} {
		info := TaskInfo{Operator: "op", KeyGroups: KeyGroupRange{Start: start, End: start + 64}, MaxParallelism: 128}
		tab := NewHeapTable[int64, Void, int64](info).(*openTable[int64, Void, int64])
		var sizes []int
		for i := range 64 {
			n := tab.grown(i, openPhaseAt)
			if n < 2*openPhaseAt || n >= 4*openPhaseAt {
				t.Fatalf("key group %d grows from %d to %d entries", start+i, openPhaseAt, n)
			}
			if tab.grown(i, n) != 2*n || tab.grown(i, openPhaseAt/2) != openPhaseAt {
				t.Fatalf("key group %d: sizes out of phase other than at %d", start+i, openPhaseAt)
			}
			sizes = append(sizes, n)
		}
		slices.Sort(sizes)
		// 64 sizes over 2*openPhaseAt: no gap wider than 3 even shares
		gap := sizes[0] - 2*openPhaseAt + 4*openPhaseAt - sizes[63]
		for i := 1; i < 64; i++ {
			gap = max(gap, sizes[i]-sizes[i-1])
		}
		if gap > 3*2*openPhaseAt/64 {
			t.Errorf("key groups %d to %d: sizes %v leave a gap of %d", start, start+63, sizes, gap)
		}
	}
}

// TestOpenDeleteShiftsBack builds probe chains that wrap around the end of
// the array, deletes each of their keys in turn and checks that the result
// is the table the other keys make when inserted alone, in the same order:
// backward-shift deletion leaves no trace (Knuth, TAOCP 6.4, Algorithm R).
func TestOpenDeleteShiftsBack(t *testing.T) {
	for _, capacity := range []int{16, 17} { // sizes need not be powers of two (see grown)
		t.Run(fmt.Sprint(capacity), func(t *testing.T) { testDeleteCases(t, capacity) })
	}
}

// testDeleteCases runs the deletion cases in arrays of capacity entries:
// homes in the upper half of 16 keep their distance to the end.
func testDeleteCases(t *testing.T, capacity int) {
	const kg = 5
	at := func(homes []int) []int {
		out := make([]int, len(homes))
		for i, h := range homes {
			if out[i] = h; h >= 8 {
				out[i] = h - 16 + capacity
			}
		}
		return out
	}
	for _, c := range []struct {
		name  string
		homes []int
	}{
		{"one chain over the end", []int{14, 14, 14, 14, 14}},
		{"chains meeting over the end", []int{14, 15, 14, 0, 15, 1, 0, 3}},
		{"entries at home after the hole", []int{14, 14, 0, 1, 15, 1}},
		{"gap after the chain", []int{13, 13, 15, 2, 2, 6}},
		{"full window and more", []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 11}},
		{"homes at the last entry", []int{15, 15, 15, 15, 15, 15, 15, 15, 15, 15}},
	} {
		t.Run(c.name, func(t *testing.T) {
			testDeleteShiftsBack(t, newOpen[int64](t), kg, capacity, at(c.homes), func(i int) int64 { return int64(i) })
			testDeleteShiftsBack(t, newOpen[string](t), kg, capacity, at(c.homes), func(i int) string { return "s" + strconv.Itoa(i) })
		})
	}
}

func testDeleteShiftsBack[K comparable](t *testing.T, tab *openTable[K, Void, int64], kg, capacity int, homes []int, gen func(int) K) {
	t.Helper()
	next := 0
	keys := make([]K, len(homes))
	for i, h := range homes {
		keys[i] = keyWithHome(tab, capacity, h, gen, &next)
	}
	build := func(keys []K) *openTable[K, Void, int64] {
		b := newOpen[K](t)
		b.iseed, b.sseed = tab.iseed, tab.sseed
		withCap(b, kg, capacity)
		for i, k := range keys {
			b.Put(kg, k, Void{}, int64(i))
		}
		checkOpen(t, b)
		return b
	}
	full, displaced := build(keys), 0
	for i, k := range keys {
		if position(full, kg, k) != homes[i] {
			displaced++
		}
	}
	if displaced < len(keys)/3 {
		t.Fatalf("homes %v: %d keys away from their homes, the case builds no chain:%s", homes, displaced, layout(full, kg))
	}
	for d := range keys {
		got := build(keys)
		got.Delete(kg, keys[d], Void{})
		checkOpen(t, got)
		want := build(slices.Delete(slices.Clone(keys), d, d+1))
		gg, wg := &got.groups[got.index(kg)], &want.groups[want.index(kg)]
		if !slices.Equal(gg.ctrl, wg.ctrl) || !sameKeys(gg.e, wg.e) {
			t.Fatalf("deleting key %d of homes %v:\ngot  %s\nwant %s", d, homes, layout(got, kg), layout(want, kg))
		}
		if _, ok := got.Get(kg, keys[d], Void{}); ok || got.Len(kg) != len(keys)-1 {
			t.Fatalf("deleting key %d: still found, or Len %d", d, got.Len(kg))
		}
	}
}

func sameKeys[K comparable](a, b []openEntry[K, int64]) bool {
	return slices.EqualFunc(a, b, func(x, y openEntry[K, int64]) bool { return x.key == y.key })
}

// layout describes the entries of key group kg: index:key@home.
func layout[K comparable](tab *openTable[K, Void, int64], kg int) string {
	g := &tab.groups[tab.index(kg)]
	s := ""
	for j, e := range g.e {
		if g.ctrl[j] != ctrlEmpty {
			s += fmt.Sprintf(" %d:%v@%d", j, e.key, home(tab.hash(e.key), uint64(len(g.e))))
		}
	}
	return s
}

func TestOpenZeroKey(t *testing.T) {
	// An unused entry holds the zero key: the zero key must not be found
	// there, in an empty group, a group without it or one that had it.
	testZeroKey(t, newOpen[int64](t), []int64{1, 2, 3, -1})
	testZeroKey(t, newOpen[string](t), []string{"a", "b", "\x00", " "})
	testZeroKey(t, newOpen[uint8](t), []uint8{1, 2, 255})
	testZeroKey(t, newOpen[pairKey](t), []pairKey{{0, 1}, {1, 0}, {-1, -1}})
	testZeroKey(t, newOpen[oddKey](t), []oddKey{newOddKey(1), newOddKey(2), newOddKey(1 << 11)})
}

func testZeroKey[K comparable](t *testing.T, tab *openTable[K, Void, int64], others []K) {
	t.Helper()
	var zero K
	const kg = 6
	mustMissOpen(t, tab, kg, zero)
	for i, k := range others {
		tab.Put(kg, k, Void{}, int64(i+1))
	}
	mustMissOpen(t, tab, kg, zero)
	if p, found := tab.Ptr(kg, zero, Void{}, true); found || *p != 0 {
		t.Fatalf("Ptr(zero key, create) = %d, %t; want a new zero value", *p, found)
	} else {
		*p = 42
	}
	if v, ok := tab.Get(kg, zero, Void{}); !ok || v != 42 || tab.Len(kg) != len(others)+1 {
		t.Fatalf("Get(zero key) = %d, %t, Len %d; want 42, true, %d", v, ok, tab.Len(kg), len(others)+1)
	}
	tab.Delete(kg, zero, Void{})
	mustMissOpen(t, tab, kg, zero)
	for i, k := range others {
		if v, ok := tab.Get(kg, k, Void{}); !ok || v != int64(i+1) {
			t.Fatalf("Get(%v) = %d, %t; want %d", k, v, ok, i+1)
		}
	}
	checkOpen(t, tab)
}

func mustMissOpen[K comparable](t *testing.T, tab *openTable[K, Void, int64], kg int, key K) {
	t.Helper()
	if v, ok := tab.Get(kg, key, Void{}); ok {
		t.Fatalf("Get(%v) = %d, true on a missing key", key, v)
	}
	if p, found := tab.Ptr(kg, key, Void{}, false); p != nil || found {
		t.Fatalf("Ptr(%v, false) = %p, %t on a missing key", key, p, found)
	}
	n := 0
	tab.Namespaces(kg, key, func(Void, int64) bool { n++; return true })
	if n != 0 {
		t.Fatalf("Namespaces(%v) reported a missing key", key)
	}
}

func TestOpenSmallIntegers(t *testing.T) {
	type code uint16
	t.Run("int8", func(t *testing.T) {
		testAllKeys(t, newOpen[int8](t), 256, func(i int) int8 { return int8(i - 128) })
	})
	t.Run("uint8", func(t *testing.T) {
		testAllKeys(t, newOpen[uint8](t), 256, func(i int) uint8 { return uint8(i) })
	})
	t.Run("int16", func(t *testing.T) {
		testAllKeys(t, newOpen[int16](t), 1<<16, func(i int) int16 { return int16(i - 1<<15) })
	})
	t.Run("named uint16", func(t *testing.T) {
		testAllKeys(t, newOpen[code](t), 1<<16, func(i int) code { return code(i) })
	})
	t.Run("int32", func(t *testing.T) {
		testAllKeys(t, newOpen[int32](t), 5000, func(i int) int32 { return int32(i-2500) * 65537 })
	})
	t.Run("uintptr", func(t *testing.T) {
		testAllKeys(t, newOpen[uintptr](t), 5000, func(i int) uintptr { return ^uintptr(i) })
	})
	t.Run("pairs", func(t *testing.T) {
		testAllKeys(t, newOpen[pairKey](t), 5000, func(i int) pairKey { return pairKey{K: int64(i % 50), Pane: int64(i / 50)} })
	})
	t.Run("odd structs", func(t *testing.T) {
		testAllKeys(t, newOpen[oddKey](t), 5000, newOddKey)
	})
	t.Run("strings", func(t *testing.T) {
		testAllKeys(t, newOpen[string](t), 5000, func(i int) string { return string(make([]byte, i%40)) + strconv.Itoa(i) })
	})
}

// testAllKeys puts n distinct keys into one key group, then deletes every
// other one, checking the table at each step.
func testAllKeys[K comparable](t *testing.T, tab *openTable[K, Void, int64], n int, key func(int) K) {
	const kg = 11
	for i := range n {
		tab.Put(kg, key(i), Void{}, int64(i))
	}
	checkOpen(t, tab)
	for i := 0; i < n; i += 2 {
		tab.Delete(kg, key(i), Void{})
	}
	checkOpen(t, tab)
	if got := tab.Len(kg); got != n/2 {
		t.Fatalf("Len = %d, want %d", got, n/2)
	}
	for i := range n {
		v, ok := tab.Get(kg, key(i), Void{})
		if want := i%2 == 1; ok != want || ok && v != int64(i) {
			t.Fatalf("Get(%v) = %d, %t; want %d, %t", key(i), v, ok, i, want)
		}
	}
}

// TestOpenRandom runs random operations, snapshots and releases on an open
// table and compares it, and every live view, with a map after each one.
func TestOpenRandom(t *testing.T) {
	s := testseed.Seed(t)
	t.Run("int64", func(t *testing.T) {
		testOpenOf(t, newOpen[int64](t), rand.New(rand.NewPCG(s, 1)), func(i int) int64 { return int64(i) * -7919 })
	})
	t.Run("int8", func(t *testing.T) {
		testOpenOf(t, newOpen[int8](t), rand.New(rand.NewPCG(s, 2)), func(i int) int8 { return int8(i) })
	})
	t.Run("string", func(t *testing.T) {
		testOpenOf(t, newOpen[string](t), rand.New(rand.NewPCG(s, 3)), strconv.Itoa)
	})
	t.Run("pair", func(t *testing.T) {
		// keys that differ in one word only, either one
		testOpenOf(t, newOpen[pairKey](t), rand.New(rand.NewPCG(s, 4)), func(i int) pairKey {
			return pairKey{K: int64(i % 7), Pane: int64(i/7) * 2000}
		})
	})
	t.Run("odd struct", func(t *testing.T) {
		testOpenOf(t, newOpen[oddKey](t), rand.New(rand.NewPCG(s, 5)), newOddKey)
	})
}

// testOpenOf is testOpenRandom over an open table of int64 values.
func testOpenOf[K comparable](t *testing.T, tab *openTable[K, Void, int64], rng *rand.Rand, key func(int) K) {
	testOpenRandom(t, tab, func(tb testing.TB) { checkOpen(tb, tab) }, rng, key, func(v int64) int64 { return v })
}

// pairKey is a key of two words, like the window operator's (key, pane).
type pairKey struct{ K, Pane int64 }

// oddKey is a key of 14 bytes without padding: hashed by words and a tail.
type oddKey struct {
	A [3]uint16
	B struct{ C, D int8 }
	E bool
	F [5]uint8
}

func newOddKey(i int) oddKey {
	var k oddKey
	k.A[i%3] = uint16(i)
	k.B.C = int8(i >> 3)
	k.E = i%2 == 1
	k.F[4] = uint8(i >> 11)
	return k
}

// openModel is the reference of the random table tests: key group -> key
// -> value.
type openModel[K comparable, V any] map[int]map[K]V

func (m openModel[K, V]) clone() openModel[K, V] {
	c := make(openModel[K, V], len(m))
	for kg, g := range m {
		c[kg] = maps.Clone(g)
	}
	return c
}

type openModelView[K comparable, V any] struct {
	v    TableView
	want openModel[K, V]
}

// randomTable is what testOpenRandom drives: an open, slab or packed
// table.
type randomTable[K comparable, V any] interface {
	Table[K, Void, V]
	SnapshotTable
}

// testOpenRandom runs random operations, snapshots and releases on tab and
// compares it, and every live view, with a model; check fails unless tab
// is well formed. val makes the value of a random number.
func testOpenRandom[K, V comparable](t *testing.T, tab randomTable[K, V], check func(testing.TB), rng *rand.Rand, key func(int) K, val func(int64) V) {
	m := openModel[K, V]{}
	var views []openModelView[K, V]
	defer func() {
		for _, v := range views {
			v.v.Release()
		}
	}()
	for op := range 20_000 {
		kg := 4 + rng.IntN(2)                                  // two key groups, so that keys meet
		k, v := key(rng.IntN(40+op/40)), val(rng.Int64N(1000)) // growing key space: growth and deletions
		if m[kg] == nil {
			m[kg] = map[K]V{}
		}
		want, exists := m[kg][k]
		switch x := rng.IntN(100); {
		case x < 30:
			tab.Put(kg, k, Void{}, v)
			m[kg][k] = v
		case x < 55:
			tab.Delete(kg, k, Void{})
			delete(m[kg], k)
		case x < 85:
			pt, ok := tab.(Pointers[K, Void, V])
			if !ok { // a packed table: Get, then Put if the key exists or is created
				got, found := tab.Get(kg, k, Void{})
				if found != exists || got != want {
					t.Fatalf("op %d: Get(%d, %v) = %v, %t; want %v, %t", op, kg, k, got, found, want, exists)
				}
				if exists || x < 75 {
					tab.Put(kg, k, Void{}, v)
					m[kg][k] = v
				}
				break
			}
			p, found := pt.Ptr(kg, k, Void{}, x < 75)
			if found != exists || (p == nil) != (!exists && x >= 75) || p != nil && *p != want {
				t.Fatalf("op %d: Ptr(%d, %v, %t) = %p, %t; want %v, %t", op, kg, k, x < 75, p, found, want, exists)
			}
			if p != nil {
				*p = v
				m[kg][k] = v
			}
		case x < 88 && isSweeper(tab):
			// Sweep: visit every key once, rewrite some, remove others
			seen, n0 := map[K]bool{}, len(m[kg])
			tab.(Sweeper[K, Void, V]).Sweep(kg, func(key K, _ Void, p *V) bool {
				if w, ok := m[kg][key]; seen[key] || !ok || *p != w {
					t.Fatalf("op %d: Sweep(%d) gave %v = %v (seen before: %t); want %v, %t", op, kg, key, *p, seen[key], w, ok)
				}
				seen[key] = true
				switch rng.IntN(3) {
				case 0:
					delete(m[kg], key)
					return true
				case 1:
					nv := val(rng.Int64N(1000))
					*p, m[kg][key] = nv, nv
				}
				return false
			})
			if len(seen) != n0 {
				t.Fatalf("op %d: Sweep(%d) visited %d keys of %d", op, kg, len(seen), n0)
			}
		case x < 90:
			if got, found := tab.Get(kg, k, Void{}); found != exists || got != want {
				t.Fatalf("op %d: Get(%d, %v) = %v, %t; want %v, %t", op, kg, k, got, found, want, exists)
			}
			calls := 0
			tab.Namespaces(kg, k, func(_ Void, got V) bool {
				if calls++; got != want {
					t.Fatalf("op %d: Namespaces(%d, %v) gave %v, want %v", op, kg, k, got, want)
				}
				return true
			})
			if calls > 1 || (calls == 1) != exists {
				t.Fatalf("op %d: Namespaces(%d, %v) called fn %d times; the key exists: %t", op, kg, k, calls, exists)
			}
		case x < 97:
			if len(views) < 3 {
				views = append(views, openModelView[K, V]{tab.SnapshotRange(testInfo.KeyGroups), m.clone()})
			}
		default:
			if len(views) > 0 {
				i := rng.IntN(len(views))
				checkOpenView(t, views[i].v, views[i].want)
				views[i].v.Release()
				views = slices.Delete(views, i, i+1)
			}
		}
		if got, want := tab.Len(kg), len(m[kg]); got != want {
			t.Fatalf("op %d: Len(%d) = %d, want %d", op, kg, got, want)
		}
		if op%100 == 0 {
			check(t)
			now := tab.SnapshotRange(testInfo.KeyGroups)
			checkOpenView(t, now, m)
			now.Release()
			for _, v := range views {
				checkOpenView(t, v.v, v.want)
			}
		}
	}
}

// isSweeper reports whether tab has Sweep (the open table).
func isSweeper[K comparable, V any](tab randomTable[K, V]) bool {
	_, ok := tab.(Sweeper[K, Void, V])
	return ok
}

// checkOpenView compares a view with the model.
func checkOpenView[K comparable, V comparable](t *testing.T, v TableView, want openModel[K, V]) {
	t.Helper()
	for kg := testInfo.KeyGroups.Start; kg < testInfo.KeyGroups.End; kg++ {
		got := map[K]V{}
		v.ForEach(kg, func(key, _, value any) bool {
			got[key.(K)] = value.(V)
			return true
		})
		if len(got) != len(want[kg]) || v.Len(kg) != len(got) {
			t.Fatalf("view of key group %d: %d entries, Len %d, want %d", kg, len(got), v.Len(kg), len(want[kg]))
		}
		for k, w := range want[kg] {
			if g, ok := got[k]; !ok || g != w {
				t.Fatalf("view of key group %d: %v = %v, %t; want %v", kg, k, g, ok, w)
			}
		}
	}
}

// TestOpenSnapshotWhileGrowing takes views of a key group while it grows
// through many sizes, reading each from another goroutine while the task
// inserts, updates and deletes (run with -race).
func TestOpenSnapshotWhileGrowing(t *testing.T) {
	tab := newOpen[int64](t)
	const kg = 8
	m := openModel[int64, int64]{kg: {}}
	var wg sync.WaitGroup
	var stop atomic.Bool
	errs := make(chan error, 32)
	for round := range 12 {
		v := tab.SnapshotRange(KeyGroupRange{Start: kg, End: kg + 1})
		want := maps.Clone(m[kg])
		wg.Go(func() {
			defer v.Release()
			for reads := 0; reads < 3 || !stop.Load(); reads++ {
				if err := sameView(v, kg, want); err != nil {
					errs <- fmt.Errorf("view of round %d: %w", round, err)
					return
				}
			}
		})
		// Double the key group, update the old keys through Ptr and drop
		// some of them.
		for k := range int64(1 << round) {
			key := int64(1<<round) + k
			tab.Put(kg, key, Void{}, key)
			m[kg][key] = key
			p, _ := tab.Ptr(kg, k, Void{}, true)
			*p = -k
			m[kg][k] = -k
			if k%5 == 0 {
				tab.Delete(kg, k+1, Void{})
				delete(m[kg], k+1)
			}
		}
		checkOpen(t, tab)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	now := tab.SnapshotRange(testInfo.KeyGroups)
	defer now.Release()
	checkOpenView(t, now, m)
}

// sameView compares key group kg of a view with want.
func sameView(v TableView, kg int, want map[int64]int64) error {
	n := 0
	var err error
	v.ForEach(kg, func(key, _, value any) bool {
		n++
		if w, ok := want[key.(int64)]; !ok || w != value.(int64) {
			err = fmt.Errorf("%v = %v, want %d (present %t)", key, value, w, ok)
			return false
		}
		return true
	})
	if err == nil && (n != len(want) || v.Len(kg) != n) {
		err = fmt.Errorf("%d entries, Len %d, want %d", n, v.Len(kg), len(want))
	}
	return err
}

// TestOpenClonedOncePerSnapshot checks that the first write to a shared key
// group clones its arrays and later writes do not, and that the clone
// leaves the view's arrays alone.
func TestOpenClonedOncePerSnapshot(t *testing.T) {
	tab := newOpen[int64](t)
	for k := range int64(40) {
		tab.Put(4, k, Void{}, k)
	}
	g := &tab.groups[0]
	e0, c0 := g.e, g.ctrl
	v := tab.SnapshotRange(testInfo.KeyGroups)
	defer v.Release()
	if _, ok := tab.Get(4, 1, Void{}); !ok || &g.e[0] != &e0[0] {
		t.Fatal("a read after the snapshot cloned the key group")
	}
	tab.Delete(4, 3, Void{})
	e1, c1 := g.e, g.ctrl
	if &e1[0] == &e0[0] || &c1[0] == &c0[0] {
		t.Fatal("the first write after the snapshot did not clone the key group's arrays")
	}
	tab.Put(4, 1, Void{}, -1)
	*ptrOK(t, tab, 4, 2) = -2
	tab.Put(4, 1000, Void{}, 0)
	tab.Delete(4, 5, Void{})
	if &g.e[0] != &e1[0] || &g.ctrl[0] != &c1[0] {
		t.Error("later writes cloned the key group's arrays again")
	}
	want := map[int64]int64{}
	for k := range int64(40) {
		want[k] = k
	}
	if err := sameView(v, 4, want); err != nil {
		t.Errorf("view after the writes: %v", err)
	}
	for k := int64(1000); tab.Len(4) < 60; k++ { // grow: new arrays, the view's stay
		tab.Put(4, k, Void{}, k)
	}
	if err := sameView(v, 4, want); err != nil {
		t.Errorf("view after growth: %v", err)
	}
	checkOpen(t, tab)
}

func ptrOK[K comparable](t *testing.T, tab *openTable[K, Void, int64], kg int, k K) *int64 {
	t.Helper()
	p, found := tab.Ptr(kg, k, Void{}, false)
	if !found {
		t.Fatalf("Ptr(%d, %v) did not find the key", kg, k)
	}
	return p
}

func TestOpenStringAllocs(t *testing.T) {
	tab := newOpen[string](t)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
		tab.Put(4+i%8, keys[i], Void{}, 0)
	}
	tab.SnapshotRange(testInfo.KeyGroups).Release()
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		*ptrOK(t, tab, 4+i%8, keys[i]) += 1
		i = (i + 1) % len(keys)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per update, want 0", allocs)
	}
}

// BenchmarkVoidLayouts compares the two layouts of Void tables, the open
// table and the map of slots, over 10k keys spread over 128 key groups: by
// k%128 (the keys of a group form an arithmetic progression), scattered by
// a hash as the exchange does, and strings.
func BenchmarkVoidLayouts(b *testing.B) {
	info := TaskInfo{Operator: "bench", KeyGroups: KeyGroupRange{Start: 0, End: 128}, MaxParallelism: 128}
	const n = 10_000
	ints, strs, mod, scat := make([]int64, n), make([]string, n), make([]int, n), make([]int, n)
	pairs := make([]pairKey, n)
	for i := range n {
		ints[i], strs[i], mod[i] = int64(i), "k"+strconv.Itoa(i), i%128
		pairs[i] = pairKey{K: int64(i / 5), Pane: int64(i%5) * 2000}
		scat[i] = int(mix64(uint64(i)^0x5bd1e995) % 128)
	}
	b.Run("open/mod", func(b *testing.B) { benchLayout(b, NewHeapTable[int64, Void, int64](info), ints, mod) })
	b.Run("map/mod", func(b *testing.B) { benchLayout(b, newFlatTable[int64, Void, int64](info), ints, mod) })
	b.Run("open/scattered", func(b *testing.B) { benchLayout(b, NewHeapTable[int64, Void, int64](info), ints, scat) })
	b.Run("map/scattered", func(b *testing.B) { benchLayout(b, newFlatTable[int64, Void, int64](info), ints, scat) })
	b.Run("open/string", func(b *testing.B) { benchLayout(b, NewHeapTable[string, Void, int64](info), strs, scat) })
	b.Run("map/string", func(b *testing.B) { benchLayout(b, newFlatTable[string, Void, int64](info), strs, scat) })
	b.Run("open/pair", func(b *testing.B) { benchLayout(b, NewHeapTable[pairKey, Void, int64](info), pairs, scat) })
	b.Run("map/pair", func(b *testing.B) { benchLayout(b, newFlatTable[pairKey, Void, int64](info), pairs, scat) })
}

func benchLayout[K comparable](b *testing.B, tab Table[K, Void, int64], keys []K, kgs []int) {
	for i, k := range keys {
		tab.Put(kgs[i], k, Void{}, 0)
	}
	pt := tab.(Pointers[K, Void, int64])
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p, _ := pt.Ptr(kgs[i], keys[i], Void{}, true)
		*p++
		if i++; i == len(keys) {
			i = 0
		}
	}
}

// incremental makes every growth of arrays of from bytes or more
// incremental, moving step bytes of entries per insertion (at least one),
// until the test ends.
func incremental(t *testing.T, from, step int) {
	f, s := openIncrementalFrom, openMigrateBytes
	t.Cleanup(func() { openIncrementalFrom, openMigrateBytes = f, s })
	openIncrementalFrom, openMigrateBytes = from, step
}

// TestOpenRandomIncremental runs the random tests of the open, nested open
// and packed tables with every growth incremental and one entry moved per
// insertion, so that moves meet views, deletions, updates of keys not yet
// moved, and the next growth (which finishes them).
func TestOpenRandomIncremental(t *testing.T) {
	incremental(t, 0, 1)
	t.Run("open", TestOpenRandom)
	t.Run("nested", TestNestOpenRandom)
	t.Run("packed", TestPackedRandom)
	t.Run("packed nested", TestPackedNestRandom)
	t.Run("snapshot while growing", TestOpenSnapshotWhileGrowing)
	t.Run("growth", TestOpenGrowth)
}

// TestOpenGrowsIncrementally checks that a large key group's growth moves
// a bounded number of entries per insertion, that the keys not yet moved
// are found, updated and deleted where they are (updated and deleted ones
// move first, leaving a view's arrays alone), and that the moves end
// before the next growth.
func TestOpenGrowsIncrementally(t *testing.T) {
	const step = 4
	incremental(t, 64*16, step*16) // int64 keys and values: from 64 entries, step per insertion
	tab := newOpen[int64](t)
	const kg = 6
	g := &tab.groups[tab.index(kg)]
	want := map[int64]int64{}
	var k int64
	for ; g.old.e == nil || len(g.old.e) < 64; k++ {
		tab.Put(kg, k*7919, Void{}, k)
		want[k*7919] = k
	}
	if g.mig > step {
		t.Fatalf("the growth moved %d entries, want at most %d", g.mig, step)
	}
	checkOpen(t, tab)
	v := tab.SnapshotRange(testInfo.KeyGroups)
	defer v.Release()
	frozen := maps.Clone(want)
	inOld := func() []int64 { // keys still in the old arrays
		var ks []int64
		for j := g.mig; j < len(g.old.e); j++ {
			if g.old.ctrl[j]&ctrlUsed != 0 {
				ks = append(ks, g.old.e[j].key)
			}
		}
		return ks
	}
	old := inOld()
	if len(old) < 6 {
		t.Fatalf("%d keys in the old arrays, want at least 6", len(old))
	}
	*ptrOK(t, tab, kg, old[0]) = -1
	want[old[0]] = -1
	tab.Put(kg, old[1], Void{}, -2)
	want[old[1]] = -2
	tab.Delete(kg, old[2], Void{})
	delete(want, old[2])
	for _, key := range old[:3] {
		if slices.Contains(inOld(), key) {
			t.Fatalf("key %d was written but is still in the old arrays", key)
		}
	}
	checkOpen(t, tab)
	if err := sameView(v, kg, frozen); err != nil {
		t.Fatalf("view after writing keys not yet moved: %v", err)
	}
	// reads find keys where they are, and move the next entries on
	for _, key := range inOld()[:2] {
		mig := g.mig
		if got, ok := tab.Get(kg, key, Void{}); !ok || got != want[key] {
			t.Fatalf("Get(%d) = %d, %t; want %d", key, got, ok, want[key])
		}
		if g.mig != mig+step {
			t.Fatalf("a read moved the old entries from %d to %d, want %d", mig, g.mig, mig+step)
		}
	}
	checkOpen(t, tab)
	size := len(g.e)
	for n := 0; g.old.e != nil; n++ {
		if n > len(g.old.e)/step {
			t.Fatalf("%d insertions and the moves are not done (%d of %d)", n, g.mig, len(g.old.e))
		}
		k++
		tab.Put(kg, k*7919, Void{}, k)
		want[k*7919] = k
	}
	if len(g.e) != size {
		t.Fatalf("the arrays grew to %d entries before the moves ended", len(g.e))
	}
	checkOpen(t, tab)
	if err := sameView(v, kg, frozen); err != nil {
		t.Fatalf("view after the moves: %v", err)
	}
	now := tab.SnapshotRange(testInfo.KeyGroups)
	defer now.Release()
	if err := sameView(now, kg, want); err != nil {
		t.Fatalf("table after the moves: %v", err)
	}
}

// TestFlatRandom runs the random table test, Sweep included, on the
// map-based table of keys the open table does not take (floats, pointers,
// structs with strings: the window operator's (string key, pane) pairs).
func TestFlatRandom(t *testing.T) {
	type strPane struct {
		K    string
		Pane int64
	}
	tab, ok := NewHeapTable[strPane, Void, int64](testInfo).(*flatTable[strPane, Void, int64])
	if !ok {
		t.Fatal("(string, int64) keys do not get the map-based table")
	}
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 6))
	testOpenRandom(t, tab, func(testing.TB) {}, rng, func(i int) strPane { return strPane{strconv.Itoa(i % 5), int64(i / 5)} }, func(v int64) int64 { return v })
}
