package statetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/weirstream/weir/statebackend"
)

// mustGet fails unless (kg, k, n) holds want.
func mustGet[K, N comparable, V any](t testing.TB, tab statebackend.Table[K, N, V], kg int, k K, n N, want V) {
	t.Helper()
	if got, ok := tab.Get(kg, k, n); !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get(%d, %+v, %+v) = %+v, %t; want %+v, true", kg, k, n, got, ok, want)
	}
}

// mustMiss fails unless (kg, k, n) is absent and Get returns the zero value.
func mustMiss[K, N comparable, V any](t testing.TB, tab statebackend.Table[K, N, V], kg int, k K, n N) {
	t.Helper()
	if got, ok := tab.Get(kg, k, n); ok || !reflect.DeepEqual(got, *new(V)) {
		t.Fatalf("Get(%d, %+v, %+v) = %+v, %t; want zero, false", kg, k, n, got, ok)
	}
}

// mustLen fails unless key group kg has want entries.
func mustLen[K, N comparable, V any](t testing.TB, tab statebackend.Table[K, N, V], kg, want int) {
	t.Helper()
	if got := tab.Len(kg); got != want {
		t.Fatalf("Len(%d) = %d, want %d", kg, got, want)
	}
}

func (c tcase[K, N, V]) testBasic(t *testing.T, f statebackend.Factory) {
	tab := c.open(t, newBackend(t, f), "basic")
	kg, n := info.KeyGroups.Start+1, c.ns(0)
	k1, k2 := c.key(1), c.key(2)
	mustMiss(t, tab, kg, k1, n)
	mustLen(t, tab, kg, 0)

	tab.Put(kg, k1, n, c.val(1))
	mustGet(t, tab, kg, k1, n, c.val(1))
	mustLen(t, tab, kg, 1)
	tab.Put(kg, k1, n, c.val(2))
	mustGet(t, tab, kg, k1, n, c.val(2))
	mustLen(t, tab, kg, 1)
	tab.Put(kg, k2, n, c.val(3))
	mustLen(t, tab, kg, 2)

	tab.Delete(kg, c.key(3), n) // missing: no-op
	mustLen(t, tab, kg, 2)
	tab.Delete(kg, k1, n)
	mustMiss(t, tab, kg, k1, n)
	mustGet(t, tab, kg, k2, n, c.val(3))
	mustLen(t, tab, kg, 1)
	tab.Delete(kg, k1, n)
	mustLen(t, tab, kg, 1)
	tab.Put(kg, k1, n, c.val(4))
	mustGet(t, tab, kg, k1, n, c.val(4))

	m := model[K, N, V]{}
	for i := range 1000 {
		tab.Put(kg, c.key(i), n, c.val(i))
		m.put(kg, c.key(i), n, c.val(i))
	}
	for i := 0; i < 1000; i += 3 {
		tab.Delete(kg, c.key(i), n)
		m.del(kg, c.key(i), n)
	}
	if err := c.checkTable(tab, m, 1010); err != nil {
		t.Fatal(err)
	}
}

func (c tcase[K, N, V]) testNamespaces(t *testing.T, f statebackend.Factory) {
	tab := c.open(t, newBackend(t, f), "ns")
	kg := info.KeyGroups.End - 1
	k1, k2 := c.key(1), c.key(2)
	m := model[K, N, V]{}
	for j := range c.nns {
		tab.Put(kg, k1, c.ns(j), c.val(10+j))
		m.put(kg, k1, c.ns(j), c.val(10+j))
	}
	tab.Put(kg, k2, c.ns(0), c.val(20))
	m.put(kg, k2, c.ns(0), c.val(20))
	mustLen(t, tab, kg, c.nns+1)
	if err := c.checkTable(tab, m, 4); err != nil {
		t.Fatal(err)
	}

	calls := 0
	tab.Namespaces(kg, k1, func(N, V) bool { calls++; return false })
	if calls != 1 {
		t.Fatalf("Namespaces went on after fn returned false: %d calls", calls)
	}
	tab.Namespaces(kg, c.key(3), func(n N, v V) bool {
		t.Fatalf("Namespaces of a missing key reported %+v = %+v", n, v)
		return true
	})

	// Delete the namespaces of k1 one by one; k2 must not notice.
	for j := c.nns - 1; j >= 0; j-- {
		tab.Delete(kg, k1, c.ns(j))
		m.del(kg, k1, c.ns(j))
		if err := c.checkTable(tab, m, 4); err != nil {
			t.Fatalf("after deleting namespace %d: %v", j, err)
		}
	}
	tab.Put(kg, k1, c.ns(c.nns-1), c.val(30))
	m.put(kg, k1, c.ns(c.nns-1), c.val(30))
	if err := c.checkTable(tab, m, 4); err != nil {
		t.Fatal(err)
	}
}

func (c tcase[K, N, V]) testPtr(t *testing.T, f statebackend.Factory) {
	tab := c.open(t, newBackend(t, f), "ptr")
	pt := tab.(statebackend.Pointers[K, N, V]) // run only when it does (hasPointers)
	kg, k, n := info.KeyGroups.Start, c.key(5), c.ns(c.nns-1)
	if p, found := pt.Ptr(kg, k, n, false); p != nil || found {
		t.Fatalf("Ptr(create=false) of a missing entry = %p, %t; want nil, false", p, found)
	}
	mustLen(t, tab, kg, 0)
	p, found := pt.Ptr(kg, k, n, true)
	if p == nil || found || !reflect.DeepEqual(*p, *new(V)) {
		t.Fatalf("Ptr(create=true) of a missing entry = %p, %t; want a zero value, false", p, found)
	}
	mustGet(t, tab, kg, k, n, *new(V))
	mustLen(t, tab, kg, 1)
	*p = c.val(1)
	mustGet(t, tab, kg, k, n, c.val(1))

	for _, create := range []bool{false, true} {
		p, found = pt.Ptr(kg, k, n, create)
		if p == nil || !found || !reflect.DeepEqual(*p, c.val(1)) {
			t.Fatalf("Ptr(create=%t) of an entry = %p, %t; want %+v, true", create, p, found, c.val(1))
		}
	}
	*p = c.val(2)
	mustGet(t, tab, kg, k, n, c.val(2))
	tab.Put(kg, k, n, c.val(3))
	if p, _ = pt.Ptr(kg, k, n, false); p == nil || !reflect.DeepEqual(*p, c.val(3)) {
		t.Fatalf("Ptr after Put = %p, want %+v", p, c.val(3))
	}
	mustLen(t, tab, kg, 1)

	// Ptr in one namespace or key group leaves the others alone.
	*pt2(t, pt, kg, k, c.ns(0)) = c.val(4)
	*pt2(t, pt, kg+1, k, n) = c.val(5)
	mustGet(t, tab, kg, k, c.ns(0), c.val(4))
	mustGet(t, tab, kg+1, k, n, c.val(5))
	if c.nns > 1 {
		mustGet(t, tab, kg, k, n, c.val(3))
	}

	tab.Delete(kg, k, n)
	if p, found := pt.Ptr(kg, k, n, false); p != nil || found {
		t.Fatalf("Ptr(create=false) after Delete = %p, %t; want nil, false", p, found)
	}
}

// pt2 returns Ptr(kg, k, n, create=true), failing on nil.
func pt2[K, N comparable, V any](t testing.TB, pt statebackend.Pointers[K, N, V], kg int, k K, n N) *V {
	t.Helper()
	p, _ := pt.Ptr(kg, k, n, true)
	if p == nil {
		t.Fatalf("Ptr(%d, %+v, %+v, true) = nil", kg, k, n)
	}
	return p
}

func (c tcase[K, N, V]) testKeyGroups(t *testing.T, f statebackend.Factory) {
	tab := c.open(t, newBackend(t, f), "kg")
	r := info.KeyGroups
	m := model[K, N, V]{}
	for kg := r.Start; kg < r.End; kg++ {
		// The same key and namespace in every group, another key in some.
		tab.Put(kg, c.key(0), c.ns(0), c.val(kg))
		m.put(kg, c.key(0), c.ns(0), c.val(kg))
		if kg%2 == 0 {
			tab.Put(kg, c.key(1), c.ns(c.nns-1), c.val(100+kg))
			m.put(kg, c.key(1), c.ns(c.nns-1), c.val(100+kg))
		}
	}
	if err := c.checkTable(tab, m, 3); err != nil {
		t.Fatal(err)
	}
	tab.Delete(r.Start, c.key(0), c.ns(0))
	m.del(r.Start, c.key(0), c.ns(0))
	tab.Put(r.End-1, c.key(0), c.ns(0), c.val(-1))
	m.put(r.End-1, c.key(0), c.ns(0), c.val(-1))
	if err := c.checkTable(tab, m, 3); err != nil {
		t.Fatal(err)
	}
}

func testOpen(t *testing.T, f statebackend.Factory) {
	type V = statebackend.Void
	b := newBackend(t, f)
	t1, err := statebackend.Open[int64, V, int64](b, "a")
	if err != nil {
		t.Fatal(err)
	}
	t2, err := statebackend.Open[int64, V, int64](b, "a")
	if err != nil {
		t.Fatalf("second Open of the same table: %v", err)
	}
	if reflect.TypeOf(t1).Comparable() && t1 != t2 {
		t.Errorf("second Open returned %p, want the first table %p", t2, t1)
	}
	kg := info.KeyGroups.Start + 2
	t1.Put(kg, 7, V{}, 70)
	mustGet(t, t2, kg, 7, V{}, 70)

	if _, err := statebackend.Open[int64, V, string](b, "a"); err == nil {
		t.Error("Open with another value type: no error")
	}
	if _, err := statebackend.Open[int64, int64, int64](b, "a"); err == nil {
		t.Error("Open with another namespace type: no error")
	}
	if _, err := statebackend.Open[string, V, int64](b, "a"); err == nil {
		t.Error("Open with another key type: no error")
	}
	if _, err := statebackend.Open[int64, V, int64](b, ""); err == nil {
		t.Error("Open with an empty name: no error")
	}
	mustGet(t, t1, kg, 7, V{}, 70)

	t3, err := statebackend.Open[int64, V, int64](b, "b")
	if err != nil {
		t.Fatal(err)
	}
	mustMiss(t, t3, kg, 7, V{})
	t4, err := statebackend.Open[int64, V, int64](newBackend(t, f), "a")
	if err != nil {
		t.Fatal(err)
	}
	mustMiss(t, t4, kg, 7, V{})
}

func testClosed(t *testing.T, f statebackend.Factory) {
	b, err := f.NewBackend(info)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Info(); got.Operator != info.Operator || got.KeyGroups != info.KeyGroups {
		t.Errorf("Info() = %+v, want %+v", got, info)
	}
	if _, err := statebackend.Open[int64, statebackend.Void, int64](b, "a"); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := statebackend.Open[int64, statebackend.Void, int64](b, "a"); !errors.Is(err, statebackend.ErrClosed) {
		t.Errorf("Open after Close: %v, want ErrClosed", err)
	}
	if _, err := statebackend.Open[int64, statebackend.Void, int64](b, "new"); !errors.Is(err, statebackend.ErrClosed) {
		t.Errorf("Open of a new table after Close: %v, want ErrClosed", err)
	}
	if _, err := b.Snapshot(info.KeyGroups); !errors.Is(err, statebackend.ErrClosed) {
		t.Errorf("Snapshot after Close: %v, want ErrClosed", err)
	}
	_ = b.Close() // must not panic; the result is the backend's choice
}
