package statebackend

import (
	"fmt"
	"slices"
)

// nestOpenTable is the heap table of namespaced state whose keys the open
// table can hash (openKeyKind): an openTable from key to the key's
// namespaces, the first one inline in the entry and any others in a
// slice beside it. Most keys of a windowed or versioned state have one
// namespace at a time (a bidder's open session), so that Ptr costs one
// probe of the open table and a comparison, where the map-based nestTable
// costs two map lookups and two pointer chases, and a new key costs no
// allocation where nestTable made three (the key's namespace map, its
// first bucket and the slot). Session windows over q11's bidders spent a
// quarter of their time in those maps.
//
// Copy-on-write: the open table clones a key group's entry array on the
// first write after a snapshot, which copies each nsList by value; the
// slice of further namespaces is shared with the view until it is written,
// so it carries the epoch it was made in and is cloned, like the arrays,
// when a live view may read it.
type nestOpenTable[K comparable, N comparable, V any] struct {
	t    *openTable[K, Void, nsList[N, V]]
	lens []int // entries (key, namespace) per key group
}

// nsList holds the namespaces of one key: ns and v are the first, more
// the others. An entry of the open table always holds at least one.
type nsList[N comparable, V any] struct {
	ns   N
	v    V
	more []nsItem[N, V] // written in place only while private (epoch)
	mep  uint64         // epoch more was made in
}

// nsItem is one namespace of a key beyond the first.
type nsItem[N comparable, V any] struct {
	ns N
	v  V
}

var (
	_ Pointers[int, int, int] = (*nestOpenTable[int, int, int])(nil)
	_ SnapshotTable           = (*nestOpenTable[int, int, int])(nil)
)

// newNestOpenTable returns an empty table; kind must be openKeyKind[K]()
// and not keyOther.
func newNestOpenTable[K comparable, N comparable, V any](info TaskInfo, kind keyKind) *nestOpenTable[K, N, V] {
	return &nestOpenTable[K, N, V]{
		t:    newOpenTable[K, Void, nsList[N, V]](info, kind),
		lens: make([]int, info.KeyGroups.Len()),
	}
}

// find returns the value of ns in l, or nil.
func (l *nsList[N, V]) find(ns N) *V {
	if l.ns == ns {
		return &l.v
	}
	for j := range l.more {
		if l.more[j].ns == ns {
			return &l.more[j].v
		}
	}
	return nil
}

// ownMore makes l.more private to the task: a slice a live view of key
// group index i may read is cloned first.
func (t *nestOpenTable[K, N, V]) ownMore(i int, l *nsList[N, V]) {
	if l.more != nil && !t.t.private(i, l.mep) {
		l.more, l.mep = slices.Clone(l.more), t.t.epoch
	}
}

// Get returns the value stored for (kg, key, ns).
func (t *nestOpenTable[K, N, V]) Get(kg int, key K, ns N) (V, bool) {
	if s := t.t.read(kg, key); s != nil {
		if p := s.val.find(ns); p != nil {
			return *p, true
		}
	}
	var zero V
	return zero, false
}

// Put stores v for (kg, key, ns).
func (t *nestOpenTable[K, N, V]) Put(kg int, key K, ns N, v V) {
	p, _ := t.Ptr(kg, key, ns, true)
	*p = v
}

// Ptr returns a pointer to the value of (kg, key, ns) in private memory.
// The pointer is good until the next Ptr, Put, Delete or SnapshotRange.
func (t *nestOpenTable[K, N, V]) Ptr(kg int, key K, ns N, create bool) (*V, bool) {
	l, found := t.t.Ptr(kg, key, Void{}, create)
	switch {
	case l == nil:
		return nil, false
	case !found: // a new key: its first namespace
		l.ns = ns
		t.lens[t.t.index(kg)]++
		return &l.v, false
	case l.ns == ns:
		return &l.v, true
	}
	i := t.t.index(kg)
	for j := range l.more {
		if l.more[j].ns == ns {
			t.ownMore(i, l)
			return &l.more[j].v, true
		}
	}
	if !create {
		return nil, false
	}
	t.ownMore(i, l)
	if l.more == nil {
		l.mep = t.t.epoch
	}
	l.more = append(l.more, nsItem[N, V]{ns: ns})
	t.lens[i]++
	return &l.more[len(l.more)-1].v, false
}

// Delete removes (kg, key, ns), and key with its last namespace.
func (t *nestOpenTable[K, N, V]) Delete(kg int, key K, ns N) {
	i := t.t.index(kg)
	j := t.t.locate(i, key, t.t.hash(key))
	if j < 0 {
		return
	}
	g := &t.t.groups[i]
	if l := &g.e[j].val; len(l.more) == 0 {
		if l.ns != ns {
			return
		}
		t.t.removeAt(i, j)
		t.lens[i]--
		return
	} else if l.find(ns) == nil {
		return
	}
	l := &t.t.own(i)[j].val // the arrays keep their layout: j stays valid
	t.ownMore(i, l)
	last := len(l.more) - 1
	if l.ns == ns {
		l.ns, l.v = l.more[last].ns, l.more[last].v
	} else {
		for m := range l.more {
			if l.more[m].ns == ns {
				l.more[m] = l.more[last]
				break
			}
		}
	}
	l.more[last] = nsItem[N, V]{} // holds no pointers once removed
	if l.more = l.more[:last]; last == 0 {
		l.more = nil
	}
	t.lens[i]--
}

// Namespaces calls fn for each namespace of (kg, key) until fn returns
// false.
func (t *nestOpenTable[K, N, V]) Namespaces(kg int, key K, fn func(ns N, v V) bool) {
	if s := t.t.read(kg, key); s != nil {
		s.val.each(fn)
	}
}

// each calls fn for each namespace of l until fn returns false.
func (l *nsList[N, V]) each(fn func(ns N, v V) bool) bool {
	if !fn(l.ns, l.v) {
		return false
	}
	for _, m := range l.more {
		if !fn(m.ns, m.v) {
			return false
		}
	}
	return true
}

// Len is the number of entries in key group kg.
func (t *nestOpenTable[K, N, V]) Len(kg int) int { return t.lens[t.t.index(kg)] }

// SnapshotRange returns a view of the key groups in r in O(r.Len()).
func (t *nestOpenTable[K, N, V]) SnapshotRange(r KeyGroupRange) TableView {
	v := t.t.SnapshotRange(r).(*openView[K, Void, nsList[N, V]])
	start := r.Start - t.t.kgs.Start
	return &nestOpenView[K, N, V]{openView: v, lens: slices.Clone(t.lens[start : start+r.Len()])}
}

// check panics unless key group index i is well formed: the open table's
// check, no key without a namespace or with one twice, and lens counting
// the namespaces.
func (t *nestOpenTable[K, N, V]) check(i int) {
	t.t.check(i)
	n := 0
	t.t.groups[i].each(func(s *openEntry[K, nsList[N, V]]) bool {
		l, seen := &s.val, map[N]bool{}
		l.each(func(ns N, _ V) bool {
			if seen[ns] {
				panic(fmt.Sprintf("weir/statebackend: key group %d: key %v has namespace %v twice", i+t.t.kgs.Start, s.key, ns))
			}
			seen[ns] = true
			n++
			return true
		})
		if l.more != nil && len(l.more) == 0 {
			panic(fmt.Sprintf("weir/statebackend: key group %d: key %v keeps an empty slice", i+t.t.kgs.Start, s.key))
		}
		return true
	})
	if n != t.lens[i] {
		panic(fmt.Sprintf("weir/statebackend: key group %d: %d namespaces, counted %d", i+t.t.kgs.Start, n, t.lens[i]))
	}
}

// nestOpenView is a view of a nestOpenTable: the open table's view and the
// entry counts the key groups had when it was taken.
type nestOpenView[K comparable, N comparable, V any] struct {
	*openView[K, Void, nsList[N, V]]
	lens []int
}

// Len is the number of entries of key group kg in the view.
func (v *nestOpenView[K, N, V]) Len(kg int) int { return v.lens[v.index(kg)] }

// ForEach calls fn for each entry of key group kg in the view.
func (v *nestOpenView[K, N, V]) ForEach(kg int, fn func(key, ns, value any) bool) {
	v.groups[v.index(kg)].each(func(s *openEntry[K, nsList[N, V]]) bool {
		var key any = s.key
		return s.val.each(func(ns N, val V) bool { return fn(key, ns, val) })
	})
}
