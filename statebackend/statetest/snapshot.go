package statetest

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/weirstream/weir/statebackend"
)

// fillKeys is the number of keys fill writes.
const fillKeys = 200

// fill writes fillKeys keys spread over all key groups, key i with 1 +
// i%nns namespaces.
func (c tcase[K, N, V]) fill(tab statebackend.Table[K, N, V], m model[K, N, V]) {
	r := info.KeyGroups
	for i := range fillKeys {
		kg := r.Start + i%r.Len()
		for j := range 1 + i%c.nns {
			tab.Put(kg, c.key(i), c.ns(j), c.val(i*10+j))
			m.put(kg, c.key(i), c.ns(j), c.val(i*10+j))
		}
	}
}

// mutate changes what fill wrote in every key group, in a way that depends
// on round: overwrites, deletes, in-place updates through Ptr (Put if the
// table has no Pointers), new keys and new namespaces of existing keys.
func (c tcase[K, N, V]) mutate(tab statebackend.Table[K, N, V], m model[K, N, V], round int) {
	r := info.KeyGroups
	pt, hasPtr := tab.(statebackend.Pointers[K, N, V])
	for i := range fillKeys {
		kg := r.Start + i%r.Len()
		k, n := c.key(i), c.ns((i+round)%c.nns)
		v := c.val(1_000_000 + round*1000 + i)
		switch (i + round) % 6 {
		case 0, 1:
			tab.Put(kg, k, n, v)
			m.put(kg, k, n, v)
		case 2:
			tab.Delete(kg, k, n)
			m.del(kg, k, n)
		case 3, 4:
			if !hasPtr {
				tab.Put(kg, k, n, v)
			} else if p, _ := pt.Ptr(kg, k, n, true); p != nil {
				*p = v
			}
			m.put(kg, k, n, v)
		case 5:
			k = c.key(fillKeys + round*fillKeys + i) // a new key
			tab.Put(kg, k, n, v)
			m.put(kg, k, n, v)
		}
	}
}

// snapshot takes a snapshot of r, failing the test on error.
func snapshot(t testing.TB, b statebackend.Backend, r statebackend.KeyGroupRange) statebackend.Snapshot {
	t.Helper()
	s, err := b.Snapshot(r)
	if err != nil {
		t.Fatalf("Snapshot(%v): %v", r, err)
	}
	return s
}

// view pairs a snapshot with the contents it must show.
type view[K, N comparable, V any] struct {
	s    statebackend.Snapshot
	r    statebackend.KeyGroupRange
	want model[K, N, V]
}

func (c tcase[K, N, V]) take(t testing.TB, b statebackend.Backend, r statebackend.KeyGroupRange, m model[K, N, V]) view[K, N, V] {
	t.Helper()
	return view[K, N, V]{s: snapshot(t, b, r), r: r, want: m.clone()}
}

func (v view[K, N, V]) check(t testing.TB, name string) {
	t.Helper()
	if err := checkView(v.s.Table(name), v.r, v.want); err != nil {
		t.Fatalf("snapshot %v of %q: %v", v.r, name, err)
	}
}

func (c tcase[K, N, V]) testSnapshotConsistency(t *testing.T, f statebackend.Factory) {
	b := newBackend(t, f)
	t1, t2 := c.open(t, b, "one"), c.open(t, b, "two")
	m1, m2 := model[K, N, V]{}, model[K, N, V]{}
	c.fill(t1, m1)
	c.fill(t2, m2)
	c.mutate(t2, m2, 7)
	v1 := c.take(t, b, info.KeyGroups, m1)
	v2 := view[K, N, V]{s: v1.s, r: v1.r, want: m2.clone()}
	defer v1.s.Release()
	v1.check(t, "one")
	v2.check(t, "two")
	for round := range 4 {
		c.mutate(t1, m1, round)
		v1.check(t, "one")
		v2.check(t, "two")
	}
	if err := c.checkTable(t1, m1, fillKeys); err != nil {
		t.Fatalf("table after the writes: %v", err)
	}
	if err := c.checkTable(t2, m2, fillKeys); err != nil {
		t.Fatalf("untouched table: %v", err)
	}
}

func (c tcase[K, N, V]) testSnapshotConcurrent(t *testing.T, f statebackend.Factory) {
	b := newBackend(t, f)
	tab := c.open(t, b, "conc")
	m := model[K, N, V]{}
	c.fill(tab, m)
	c.mutate(tab, m, 1)
	v := c.take(t, b, info.KeyGroups, m)

	// The reader plays the asynchronous checkpoint writer: it reads the
	// view over and over while the task writes, then releases it.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var readErr error
	reads := 0
	wg.Go(func() {
		defer v.s.Release()
		for reads < 2 || !stop.Load() {
			if readErr = checkView(v.s.Table("conc"), v.r, v.want); readErr != nil {
				return
			}
			reads++
		}
	})
	for round := range 6 {
		c.mutate(tab, m, round)
	}
	stop.Store(true)
	wg.Wait()
	if readErr != nil {
		t.Fatalf("concurrent read %d: %v", reads, readErr)
	}
	for round := 6; round < 9; round++ { // after the release
		c.mutate(tab, m, round)
	}
	if err := c.checkTable(tab, m, fillKeys); err != nil {
		t.Fatal(err)
	}
}

func (c tcase[K, N, V]) testSnapshotMultiple(t *testing.T, f statebackend.Factory) {
	b := newBackend(t, f)
	tab := c.open(t, b, "multi")
	m := model[K, N, V]{}
	c.fill(tab, m)
	leaked := c.take(t, b, info.KeyGroups, m) // never released
	c.mutate(tab, m, 0)
	v1 := c.take(t, b, info.KeyGroups, m)
	c.mutate(tab, m, 1)
	v2 := c.take(t, b, info.KeyGroups, m)
	c.mutate(tab, m, 2)
	v3 := c.take(t, b, kgr(6, 10), m)
	c.mutate(tab, m, 3)
	for _, v := range []view[K, N, V]{leaked, v1, v2, v3} {
		v.check(t, "multi")
	}
	v2.s.Release()
	c.mutate(tab, m, 4)
	for _, v := range []view[K, N, V]{leaked, v1, v3} {
		v.check(t, "multi")
	}
	v1.s.Release()
	v1.s.Release() // a second Release is a no-op
	c.mutate(tab, m, 5)
	leaked.check(t, "multi")
	v3.check(t, "multi")
	v3.s.Release()
	c.mutate(tab, m, 6)
	leaked.check(t, "multi")
	if err := c.checkTable(tab, m, fillKeys); err != nil {
		t.Fatal(err)
	}
}

func (c tcase[K, N, V]) testSnapshotRelease(t *testing.T, f statebackend.Factory) {
	b := newBackend(t, f)
	tab := c.open(t, b, "rel")
	m := model[K, N, V]{}
	c.fill(tab, m)
	for round := range 3 {
		v := c.take(t, b, info.KeyGroups, m)
		v.check(t, "rel")
		v.s.Release()
		c.mutate(tab, m, round)
		if err := c.checkTable(tab, m, fillKeys); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	v := c.take(t, b, info.KeyGroups, m)
	v.check(t, "rel")
	v.s.Release()
}

func (c tcase[K, N, V]) testSnapshotPartial(t *testing.T, f statebackend.Factory) {
	b := newBackend(t, f)
	tab := c.open(t, b, "part")
	m := model[K, N, V]{}
	c.fill(tab, m)
	lo := c.take(t, b, kgr(4, 7), m)
	hi := c.take(t, b, kgr(9, 12), m)
	empty := c.take(t, b, kgr(8, 8), m)
	for round := range 3 {
		c.mutate(tab, m, round)
		lo.check(t, "part")
		hi.check(t, "part")
		empty.check(t, "part")
	}
	lo.s.Release()
	c.mutate(tab, m, 3)
	hi.check(t, "part")
	hi.s.Release()
	empty.s.Release()
	if err := c.checkTable(tab, m, fillKeys); err != nil {
		t.Fatal(err)
	}
}

func testSnapshotTables(t *testing.T, f statebackend.Factory) {
	type V = statebackend.Void
	b := newBackend(t, f)
	s := snapshot(t, b, info.KeyGroups)
	if got := s.Tables(); len(got) != 0 {
		t.Errorf("Tables() of an empty backend = %q", got)
	}
	if ts := s.Table("x"); ts != nil {
		t.Errorf("Table(%q) of an empty backend = %v, want nil", "x", ts)
	}
	s.Release()

	tc, err1 := statebackend.Open[int64, V, int64](b, "c")
	_, err2 := statebackend.Open[string, int64, string](b, "a")
	_, err3 := statebackend.Open[int64, V, record](b, "b")
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	kg := info.KeyGroups.Start + 3
	for i := range int64(3) {
		tc.Put(kg, i, V{}, i)
	}
	s = snapshot(t, b, info.KeyGroups)
	defer s.Release()
	if got, want := s.Tables(), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Tables() = %q, want %q", got, want)
	}
	if ts := s.Table("zzz"); ts != nil {
		t.Errorf("Table(%q) = %v, want nil", "zzz", ts)
	}
	ts := s.Table("c")
	if ts == nil {
		t.Fatal(`Table("c") = nil`)
	}
	calls := 0
	ts.ForEach(kg, func(_, _, _ any) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("ForEach went on after fn returned false: %d calls", calls)
	}

	if _, err := statebackend.Open[int64, V, int64](b, "d"); err != nil {
		t.Fatal(err)
	}
	if got := s.Tables(); slices.Contains(got, "d") {
		t.Errorf("Tables() = %q includes a table opened after the snapshot", got)
	}
	s2 := snapshot(t, b, info.KeyGroups)
	defer s2.Release()
	if got, want := s2.Tables(), []string{"a", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("Tables() = %q, want %q", got, want)
	}
}

func testSnapshotRangeErrors(t *testing.T, f statebackend.Factory) {
	b := newBackend(t, f)
	if _, err := statebackend.Open[int64, statebackend.Void, int64](b, "t"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []statebackend.KeyGroupRange{kgr(0, 4), kgr(3, 5), kgr(11, 13), kgr(0, 16), kgr(8, 6), kgr(12, 16)} {
		if s, err := b.Snapshot(r); err == nil {
			s.Release()
			t.Errorf("Snapshot(%v) of key groups %v: no error", r, info.KeyGroups)
		}
	}
	for _, r := range []statebackend.KeyGroupRange{kgr(4, 12), kgr(5, 6), kgr(4, 4), kgr(12, 12)} {
		s, err := b.Snapshot(r)
		if err != nil {
			t.Errorf("Snapshot(%v): %v", r, err)
			continue
		}
		s.Release()
	}
}

// kgr is a short KeyGroupRange literal.
func kgr(start, end int) statebackend.KeyGroupRange {
	return statebackend.KeyGroupRange{Start: start, End: end}
}
