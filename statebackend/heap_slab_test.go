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
	wellFormed(t, len(tab.slabs), tab.check)
}

// TestSlabRandom runs the random table test on a slab table; slots of
// deleted keys are reused, so a view that read a reused slot shows up.
func TestSlabRandom(t *testing.T) {
	tab := newSlab[int64, bigVal](t)
	testOpenRandom(t, tab, func(tb testing.TB) { checkSlab(tb, tab) }, rand.New(rand.NewPCG(testseed.Seed(t), 6)),
		func(i int) int64 { return int64(i) * 7919 }, newBig)
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
	want := openModel[int64, bigVal]{kg: {}}
	for k := range int64(3 * slabChunkLen) {
		want[kg][k] = newBig(k)
	}
	checkOpenView(t, v, want)
	tab.Delete(kg, 2, Void{}) // chunk 0: cloned now, zeroed slot
	if sl.chunks[0] == before[0] {
		t.Error("a deletion did not clone its chunk")
	}
	if q, _ := tab.Ptr(kg, 1000, Void{}, true); *q != (bigVal{}) { // reuses the slot of key 2
		t.Errorf("a reused slot holds %+v", *q)
	}
	checkOpenView(t, v, want)
	v.Release()
	c1 := sl.chunks[1]
	p, _ = tab.Ptr(kg, slabChunkLen+2, Void{}, false)
	p.N = -2
	if sl.chunks[1] != c1 {
		t.Error("a write after the release cloned the chunk again")
	}
	checkSlab(t, tab)
}
