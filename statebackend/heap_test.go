package statebackend

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

var testInfo = TaskInfo{Operator: "op", KeyGroups: KeyGroupRange{Start: 4, End: 12}, MaxParallelism: 16}

func TestHeapLayout(t *testing.T) {
	type myInt int16
	type myString string
	for _, c := range []struct {
		name string
		tab  any
		want string
	}{
		{"int64", NewHeapTable[int64, Void, int64](testInfo), "open"},
		{"int", NewHeapTable[int, Void, string](testInfo), "open"},
		{"int8", NewHeapTable[int8, Void, int64](testInfo), "open"},
		{"uint16", NewHeapTable[uint16, Void, int64](testInfo), "open"},
		{"uint32", NewHeapTable[uint32, Void, int64](testInfo), "open"},
		{"uintptr", NewHeapTable[uintptr, Void, int64](testInfo), "open"},
		{"named int16", NewHeapTable[myInt, Void, int64](testInfo), "open"},
		{"string", NewHeapTable[string, Void, int64](testInfo), "open"},
		{"named string", NewHeapTable[myString, Void, int64](testInfo), "open"},
		// Floats compare unlike their bits (NaN, -0): they keep the map.
		{"float64", NewHeapTable[float64, Void, int64](testInfo), "map"},
		{"bool", NewHeapTable[bool, Void, int64](testInfo), "map"},
		// Structs and arrays of integers without padding are compared and
		// hashed as their bytes.
		{"struct", NewHeapTable[struct{ A, B int32 }, Void, int64](testInfo), "open"},
		{"array", NewHeapTable[[2]int64, Void, int64](testInfo), "open"},
		{"pair", NewHeapTable[struct{ K, Pane int64 }, Void, int64](testInfo), "open"},
		{"nested struct", NewHeapTable[struct {
			A [3]uint16
			B struct{ C, D int8 }
			E bool
			F [5]uint8
		}, Void, int64](testInfo), "open"},
		{"64 bytes", NewHeapTable[[8]int64, Void, int64](testInfo), "open"},
		{"65 bytes", NewHeapTable[[65]int8, Void, int64](testInfo), "map"},
		{"padded struct", NewHeapTable[struct {
			A int64
			B int32
		}, Void, int64](testInfo), "map"},
		{"struct with a float", NewHeapTable[struct{ A, B float64 }, Void, int64](testInfo), "map"},
		{"struct with a string", NewHeapTable[struct {
			A int64
			B string
		}, Void, int64](testInfo), "map"},
		{"struct with a pointer", NewHeapTable[struct{ A, B *int }, Void, int64](testInfo), "map"},
		{"empty struct", NewHeapTable[struct{}, Void, int64](testInfo), "map"},
		{"interface", NewHeapTable[any, Void, int64](testInfo), "map"},
		// Values of more than 64 bytes live out of line.
		{"64-byte value", NewHeapTable[int64, Void, [8]int64](testInfo), "open"},
		{"65-byte value", NewHeapTable[int64, Void, [65]byte](testInfo), "slab"},
		{"large value, string key", NewHeapTable[string, Void, [20]string](testInfo), "slab"},
		{"large value, map key", NewHeapTable[float64, Void, [20]string](testInfo), "map"},
		// Namespaced: open keys keep their namespaces in the open table,
		// other keys a map of them.
		{"int64 namespace", NewHeapTable[int64, int64, int64](testInfo), "nested open"},
		{"string key, struct namespace", NewHeapTable[string, struct{ A, B int64 }, string](testInfo), "nested open"},
		{"large value, namespace", NewHeapTable[int64, int64, [20]string](testInfo), "nested open"},
		{"float64 key, namespace", NewHeapTable[float64, int64, int64](testInfo), "nested"},
		// Only Void itself selects the flat layouts, not any empty struct.
		{"struct{} namespace", NewHeapTable[int64, struct{}, int64](testInfo), "nested open"},
	} {
		if got := layoutOf(c.tab); got != c.want {
			t.Errorf("%s keys: %T, want the %s layout", c.name, c.tab, c.want)
		}
	}
}

// layoutOf names the layout of a heap table: "open", "slab", "map",
// "nested open" or "nested".
func layoutOf(tab any) string {
	switch name := fmt.Sprintf("%T", tab); {
	case strings.HasPrefix(name, "*statebackend.openTable["):
		return "open"
	case strings.HasPrefix(name, "*statebackend.slabTable["):
		return "slab"
	case strings.HasPrefix(name, "*statebackend.flatTable["):
		return "map"
	case strings.HasPrefix(name, "*statebackend.nestOpenTable["):
		return "nested open"
	case strings.HasPrefix(name, "*statebackend.nestTable["):
		return "nested"
	default:
		return name
	}
}

// mustPanic runs fn and checks that it panics with a message containing want.
func mustPanic(t *testing.T, what, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", what)
			return
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Errorf("%s: panic %q, want %q", what, msg, want)
		}
	}()
	fn()
}

func TestKeyGroupOutsideRangePanics(t *testing.T) {
	t.Run("open", func(t *testing.T) { testOutside(t, NewHeapTable[int64, Void, int64](testInfo)) })
	t.Run("map", func(t *testing.T) { testOutside[Void](t, newFlatTable[int64, Void, int64](testInfo)) })
	t.Run("nested open", func(t *testing.T) { testOutside(t, NewHeapTable[int64, Void2, int64](testInfo)) })
	t.Run("nested", func(t *testing.T) { testOutside(t, newNestTable[int64, Void2, int64](testInfo)) })
}

// Void2 is a namespace type that is not Void.
type Void2 struct{}

func testOutside[N comparable](t *testing.T, tab Table[int64, N, int64]) {
	var n N
	ptr := tab.(Pointers[int64, N, int64])
	for _, kg := range []int{3, 12, -1, 1 << 40} {
		want := fmt.Sprintf("weir/statebackend: key group %d outside [4,12) of operator op", kg)
		mustPanic(t, "Get", want, func() { tab.Get(kg, 1, n) })
		mustPanic(t, "Put", want, func() { tab.Put(kg, 1, n, 1) })
		mustPanic(t, "Delete", want, func() { tab.Delete(kg, 1, n) })
		mustPanic(t, "Len", want, func() { tab.Len(kg) })
		mustPanic(t, "Ptr", want, func() { ptr.Ptr(kg, 1, n, true) })
		mustPanic(t, "Namespaces", want, func() { tab.Namespaces(kg, 1, func(N, int64) bool { return true }) })
	}
	for kg := 4; kg < 12; kg++ {
		if tab.Len(kg) != 0 {
			t.Errorf("Len(%d) = %d after out-of-range writes", kg, tab.Len(kg))
		}
	}
}

func TestViewMisusePanics(t *testing.T) {
	tab := NewHeapTable[int64, Void, int64](testInfo)
	st := tab.(SnapshotTable)
	mustPanic(t, "SnapshotRange outside", "snapshot range [3,6) outside [4,12) of operator op",
		func() { st.SnapshotRange(KeyGroupRange{Start: 3, End: 6}) })
	mustPanic(t, "NewHeapTable with a reversed range", "invalid key group range [5,4)",
		func() {
			NewHeapTable[int64, Void, int64](TaskInfo{Operator: "op", KeyGroups: KeyGroupRange{Start: 5, End: 4}})
		})
	v := st.SnapshotRange(KeyGroupRange{Start: 5, End: 7})
	if got := v.Range(); got != (KeyGroupRange{Start: 5, End: 7}) {
		t.Errorf("Range() = %v", got)
	}
	mustPanic(t, "ForEach outside", "key group 7 outside snapshot [5,7) of operator op",
		func() { v.ForEach(7, func(_, _, _ any) bool { return true }) })
	mustPanic(t, "Len outside", "key group 4 outside snapshot [5,7)", func() { v.Len(4) })
	v.Release()
	v.Release()
	mustPanic(t, "Len after Release", "used after Release", func() { v.Len(5) })
}

// layouts runs a test on the four layouts with int64 keys and values.
func layouts(t *testing.T, test func(t *testing.T, tab Table[int64, int64, int64], ns int64)) {
	t.Run("open", func(t *testing.T) { test(t, voidAdapter{NewHeapTable[int64, Void, int64](testInfo)}, 0) })
	t.Run("map", func(t *testing.T) { test(t, voidAdapter{newFlatTable[int64, Void, int64](testInfo)}, 0) })
	t.Run("nested open", func(t *testing.T) { test(t, NewHeapTable[int64, int64, int64](testInfo), 3) })
	t.Run("nested", func(t *testing.T) { test(t, newNestTable[int64, int64, int64](testInfo), 3) })
}

// voidAdapter presents a Void table as an int64-namespaced one, so that a
// test body serves both layouts.
type voidAdapter struct{ t Table[int64, Void, int64] }

func (a voidAdapter) Get(kg int, k, _ int64) (int64, bool) { return a.t.Get(kg, k, Void{}) }
func (a voidAdapter) Put(kg int, k, _ int64, v int64)      { a.t.Put(kg, k, Void{}, v) }
func (a voidAdapter) Delete(kg int, k, _ int64)            { a.t.Delete(kg, k, Void{}) }
func (a voidAdapter) Len(kg int) int                       { return a.t.Len(kg) }
func (a voidAdapter) Namespaces(kg int, k int64, fn func(int64, int64) bool) {
	a.t.Namespaces(kg, k, func(_ Void, v int64) bool { return fn(0, v) })
}
func (a voidAdapter) Ptr(kg int, k, _ int64, create bool) (*int64, bool) {
	return a.t.(Pointers[int64, Void, int64]).Ptr(kg, k, Void{}, create)
}
func (a voidAdapter) SnapshotRange(r KeyGroupRange) TableView {
	return a.t.(SnapshotTable).SnapshotRange(r)
}

// ptr returns Ptr(kg, k, ns, true).
func ptr(tab Table[int64, int64, int64], kg int, k, ns int64) *int64 {
	p, _ := tab.(Pointers[int64, int64, int64]).Ptr(kg, k, ns, true)
	return p
}

func snap(tab Table[int64, int64, int64], r KeyGroupRange) TableView {
	return tab.(SnapshotTable).SnapshotRange(r)
}

func TestCopyOnWriteCopiesOnce(t *testing.T) {
	layouts(t, func(t *testing.T, tab Table[int64, int64, int64], ns int64) {
		p0 := ptr(tab, 5, 1, ns)
		*p0 = 10
		v := snap(tab, testInfo.KeyGroups)
		defer v.Release()
		p1 := ptr(tab, 5, 1, ns)
		if p1 == p0 {
			t.Fatal("Ptr after a snapshot returned the shared slot")
		}
		if *p1 != 10 {
			t.Fatalf("copied slot = %d, want 10", *p1)
		}
		*p1 = 11
		if p2 := ptr(tab, 5, 1, ns); p2 != p1 {
			t.Error("second Ptr after a snapshot copied again")
		}
		tab.Put(5, 1, ns, 12)
		if p3 := ptr(tab, 5, 1, ns); p3 != p1 || *p3 != 12 {
			t.Error("Put on a private slot did not write in place")
		}
		// A key created after the snapshot is private at once.
		p4 := ptr(tab, 5, 2, ns)
		if p5 := ptr(tab, 5, 2, ns); p5 != p4 {
			t.Error("a slot created after the snapshot was copied")
		}
		got := 0
		v.ForEach(5, func(_, _, value any) bool { got = int(value.(int64)); return true })
		if got != 10 || v.Len(5) != 1 {
			t.Errorf("view of key group 5: value %d, Len %d; want 10, 1", got, v.Len(5))
		}
	})
}

func TestReleaseStopsCopying(t *testing.T) {
	layouts(t, func(t *testing.T, tab Table[int64, int64, int64], ns int64) {
		p0 := ptr(tab, 6, 1, ns)
		v := snap(tab, testInfo.KeyGroups)
		var wg sync.WaitGroup
		wg.Go(v.Release) // released by another goroutine, as checkpoints do
		wg.Wait()
		if p1 := ptr(tab, 6, 1, ns); p1 != p0 {
			t.Error("Ptr after Release copied the slot")
		}
	})
}

func TestLeakedSnapshotOnlyCostsCopies(t *testing.T) {
	layouts(t, func(t *testing.T, tab Table[int64, int64, int64], ns int64) {
		*ptr(tab, 6, 1, ns) = 1
		leaked := snap(tab, testInfo.KeyGroups)
		_ = leaked
		v := snap(tab, testInfo.KeyGroups)
		v.Release()
		p1 := ptr(tab, 6, 1, ns)
		*p1 = 2
		if p2 := ptr(tab, 6, 1, ns); p2 != p1 {
			t.Error("copied twice")
		}
		if got, _ := tab.Get(6, 1, ns); got != 2 {
			t.Errorf("Get = %d, want 2", got)
		}
		leaked.ForEach(6, func(_, _, value any) bool {
			if value.(int64) != 1 {
				t.Errorf("leaked view = %v, want 1", value)
			}
			return true
		})
	})
}

func TestPartialSnapshotCopiesOnlyItsGroups(t *testing.T) {
	layouts(t, func(t *testing.T, tab Table[int64, int64, int64], ns int64) {
		in, out := ptr(tab, 5, 1, ns), ptr(tab, 4, 1, ns)
		v := snap(tab, KeyGroupRange{Start: 5, End: 6})
		defer v.Release()
		if ptr(tab, 4, 1, ns) != out {
			t.Error("a key group outside the snapshot was copied")
		}
		if ptr(tab, 5, 1, ns) == in {
			t.Error("a key group inside the snapshot was not copied")
		}
	})
}

func TestOuterMapClonedOncePerSnapshot(t *testing.T) {
	tab := newFlatTable[int64, Void, int64](testInfo)
	for k := range int64(100) {
		tab.Put(4, k, Void{}, k)
	}
	v := tab.SnapshotRange(testInfo.KeyGroups)
	defer v.Release()
	m0 := tab.groups[0].m
	tab.Put(4, 1, Void{}, -1)
	m1 := tab.groups[0].m
	if sameMap(m0, m1) {
		t.Fatal("first write after the snapshot did not clone the key group's map")
	}
	tab.Put(4, 2, Void{}, -2)
	tab.Delete(4, 3, Void{})
	tab.Put(4, 1000, Void{}, 0)
	if !sameMap(m1, tab.groups[0].m) {
		t.Error("later writes cloned the key group's map again")
	}
	if len(m0) != 100 || m0[1].v != 1 || m0[3] == nil {
		t.Error("the snapshot's map changed")
	}
}

func sameMap[K comparable, V any](a, b map[K]V) bool {
	return fmt.Sprintf("%p", a) == fmt.Sprintf("%p", b)
}

func TestSteadyStateAllocs(t *testing.T) {
	layouts(t, func(t *testing.T, tab Table[int64, int64, int64], ns int64) {
		for k := range int64(1000) {
			tab.Put(4+int(k%8), k, ns, k)
		}
		v := snap(tab, testInfo.KeyGroups)
		v.Release()
		k := int64(0)
		allocs := testing.AllocsPerRun(2000, func() {
			kg := 4 + int(k%8)
			*ptr(tab, kg, k, ns) += 1
			x, _ := tab.Get(kg, k, ns)
			tab.Put(kg, k, ns, x+1)
			k = (k + 1) % 1000
		})
		if allocs != 0 {
			t.Errorf("%v allocations per update, want 0", allocs)
		}
	})
}

func TestSnapshotCostsKeyGroupsNotEntries(t *testing.T) {
	tab := NewHeapTable[int64, int64, int64](testInfo)
	for k := range int64(10_000) {
		tab.Put(4+int(k%8), k, k%3, k)
	}
	st := tab.(SnapshotTable)
	allocs := testing.AllocsPerRun(50, func() { st.SnapshotRange(testInfo.KeyGroups).Release() })
	if allocs > 8 {
		t.Errorf("SnapshotRange made %v allocations for 10k entries, want a few", allocs)
	}
}
