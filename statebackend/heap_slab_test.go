package statebackend

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/weirstream/weir/internal/testseed"
)

// bigVal is a value the heap table keeps out of line.
type bigVal struct {
	N    int64
	Name string
	Pad  [8]int64
}

func newBig(n int64) bigVal { return bigVal{N: n, Name: strconv.FormatInt(n, 10), Pad: [8]int64{n}} }

// newSlab returns a slab table over testInfo, failing if V does not get
// the slab layout.
func newSlab[K comparable, V any](t testing.TB) *slabTable[K, Void, V] {
	t.Helper()
	tab, ok := NewHeapTable[K, Void, V](testInfo).(*slabTable[K, Void, V])
	if !ok {
		t.Fatalf("%T values do not get the slab layout", *new(V))
	}
	return tab
}

// checkSlab fails unless every key group of tab is well formed.
func checkSlab[K comparable, V any](t testing.TB, tab *slabTable[K, Void, V]) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r != nil {
			t.Fatal(r)
		}
	}()
	for i := range tab.slabs {
		tab.check(i)
	}
}

// slabModel is what a slab test expects: per key group, key to value.
type slabModel map[int]map[int64]bigVal

func (m slabModel) clone() slabModel {
	c := slabModel{}
	for kg, g := range m {
		c[kg] = map[int64]bigVal{}
		for k, v := range g {
			c[kg][k] = v
		}
	}
	return c
}

// sameSlabView fails unless view v holds what want does.
func sameSlabView(t *testing.T, what string, v TableView, want slabModel) {
	t.Helper()
	for kg := testInfo.KeyGroups.Start; kg < testInfo.KeyGroups.End; kg++ {
		got := map[int64]bigVal{}
		v.ForEach(kg, func(key, _, value any) bool {
			got[key.(int64)] = value.(bigVal)
			return true
		})
		if len(got) != len(want[kg]) || v.Len(kg) != len(got) {
			t.Fatalf("%s: key group %d: %d entries, Len %d, want %d", what, kg, len(got), v.Len(kg), len(want[kg]))
		}
		for k, w := range want[kg] {
			if g, ok := got[k]; !ok || g != w {
				t.Fatalf("%s: key group %d: %d = %+v, %t; want %+v", what, kg, k, g, ok, w)
			}
		}
	}
}

// TestSlabRandom runs random operations, snapshots and releases on a slab
// table and compares it, and every live view, with a model; slots of
// deleted keys are reused, so a view reading a reused slot shows up.
func TestSlabRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 6))
	tab := newSlab[int64, bigVal](t)
	m := slabModel{}
	type liveView struct {
		v    TableView
		want slabModel
	}
	var views []liveView
	defer func() {
		for _, v := range views {
			v.v.Release()
		}
	}()
	for op := range 20_000 {
		kg := 4 + rng.IntN(3)
		k, v := rng.Int64N(int64(50+op/30)), newBig(rng.Int64N(1_000_000))
		if m[kg] == nil {
			m[kg] = map[int64]bigVal{}
		}
		want, exists := m[kg][k]
		switch x := rng.IntN(100); {
		case x < 30:
			tab.Put(kg, k, Void{}, v)
			m[kg][k] = v
		case x < 55:
			tab.Delete(kg, k, Void{})
			delete(m[kg], k)
		case x < 80:
			p, found := tab.Ptr(kg, k, Void{}, x < 70)
			if found != exists || p == nil && (x < 70 || exists) || p != nil && *p != want && found {
				t.Fatalf("op %d: Ptr(%d, %d, %t) = %v, %t; want %+v, %t", op, kg, k, x < 70, p, found, want, exists)
			}
			if p != nil && !found && *p != (bigVal{}) {
				t.Fatalf("op %d: Ptr(%d, %d) created %+v, want the zero value", op, kg, k, *p)
			}
			if p != nil {
				p.N, p.Pad[7] = v.N, v.N // in place, part of the value
				w := m[kg][k]
				w.N, w.Pad[7] = v.N, v.N
				m[kg][k] = w
			}
		case x < 90:
			got, found := tab.Get(kg, k, Void{})
			if found != exists || got != want {
				t.Fatalf("op %d: Get(%d, %d) = %+v, %t; want %+v, %t", op, kg, k, got, found, want, exists)
			}
			calls := 0
			tab.Namespaces(kg, k, func(_ Void, got bigVal) bool {
				if calls++; got != want {
					t.Fatalf("op %d: Namespaces(%d, %d) gave %+v, want %+v", op, kg, k, got, want)
				}
				return true
			})
			if calls > 1 || (calls == 1) != exists {
				t.Fatalf("op %d: Namespaces(%d, %d) called fn %d times; the key exists: %t", op, kg, k, calls, exists)
			}
		case x < 97:
			if len(views) < 3 {
				views = append(views, liveView{tab.SnapshotRange(testInfo.KeyGroups), m.clone()})
			}
		default:
			if len(views) > 0 {
				i := rng.IntN(len(views))
				sameSlabView(t, "view at release", views[i].v, views[i].want)
				views[i].v.Release()
				views = slices.Delete(views, i, i+1)
			}
		}
		if got, want := tab.Len(kg), len(m[kg]); got != want {
			t.Fatalf("op %d: Len(%d) = %d, want %d", op, kg, got, want)
		}
		if op%100 == 0 {
			checkSlab(t, tab)
			now := tab.SnapshotRange(testInfo.KeyGroups)
			sameSlabView(t, "view now", now, m)
			now.Release()
			for _, v := range views {
				sameSlabView(t, "live view", v.v, v.want)
			}
		}
	}
}

// TestSlabCopyOnWrite checks that the first write to a value after a
// snapshot clones its chunk and the chunk list, and no other chunk, and
// that a released view stops the copying.
func TestSlabCopyOnWrite(t *testing.T) {
	tab := newSlab[int64, bigVal](t)
	const kg = 5
	for k := range int64(3 * slabChunkLen) {
		tab.Put(kg, k, Void{}, newBig(k))
	}
	sl := &tab.slabs[tab.idx.index(kg)]
	if len(sl.chunks) != 3 {
		t.Fatalf("%d chunks for %d values, want 3", len(sl.chunks), 3*slabChunkLen)
	}
	before, list := slices.Clone(sl.chunks), &sl.chunks[0]
	v := tab.SnapshotRange(testInfo.KeyGroups)
	p, _ := tab.Ptr(kg, slabChunkLen+1, Void{}, false) // a value of chunk 1
	p.N = -1
	switch {
	case &sl.chunks[0] == list:
		t.Error("the chunk list was not cloned")
	case sl.chunks[1] == before[1]:
		t.Error("the written chunk was not cloned")
	case sl.chunks[0] != before[0] || sl.chunks[2] != before[2]:
		t.Error("a chunk that was not written was cloned")
	}
	want := slabModel{kg: {}}
	for k := range int64(3 * slabChunkLen) {
		want[kg][k] = newBig(k)
	}
	sameSlabView(t, "view after a write", v, want)
	tab.Delete(kg, 2, Void{}) // chunk 0: cloned now, zeroed slot
	if sl.chunks[0] == before[0] {
		t.Error("a deletion did not clone its chunk")
	}
	if q, _ := tab.Ptr(kg, 1000, Void{}, true); *q != (bigVal{}) { // reuses the slot of key 2
		t.Errorf("a reused slot holds %+v", *q)
	}
	sameSlabView(t, "view after a deletion and a reuse", v, want)
	v.Release()
	c1 := sl.chunks[1]
	p, _ = tab.Ptr(kg, slabChunkLen+2, Void{}, false)
	p.N = -2
	if sl.chunks[1] != c1 {
		t.Error("a write after the release cloned the chunk again")
	}
	checkSlab(t, tab)
}
