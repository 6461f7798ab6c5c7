package statebackend

import "maps"

// nestTable is the heap table of namespaced state: per key group, a map
// from key to the map of that key's namespaces.
type nestTable[K comparable, N comparable, V any] struct {
	cow
	groups []nestGroup[K, N, V]
}

// nestGroup is the storage of one key group.
type nestGroup[K comparable, N comparable, V any] struct {
	m       map[K]*nsmap[N, V]
	epoch   uint64 // epoch m was created in
	n       int    // number of entries
	deletes int    // keys deleted since m was made (see compact)
}

// nsmap holds the namespaces of one key; m is never reassigned, and an
// nsmap is never empty.
type nsmap[N comparable, V any] struct {
	m     map[N]*slot[V]
	epoch uint64 // epoch m was created in
}

var (
	_ Pointers[int, int, int] = (*nestTable[int, int, int])(nil)
	_ SnapshotTable           = (*nestTable[int, int, int])(nil)
)

// lookup returns the namespace map of key and the slot of ns, if any.
func (t *nestTable[K, N, V]) lookup(i int, key K, ns N) (*nsmap[N, V], *slot[V]) {
	nm := t.groups[i].m[key]
	if nm == nil {
		return nil, nil
	}
	return nm, nm.m[ns]
}

// Get returns the value stored for (kg, key, ns).
func (t *nestTable[K, N, V]) Get(kg int, key K, ns N) (V, bool) {
	if _, s := t.lookup(t.index(kg), key, ns); s != nil {
		return s.v, true
	}
	var zero V
	return zero, false
}

// Put stores v for (kg, key, ns), in place when the slot is private.
func (t *nestTable[K, N, V]) Put(kg int, key K, ns N, v V) {
	i := t.index(kg)
	nm, s := t.lookup(i, key, ns)
	if s != nil && t.private(i, s.epoch) {
		s.v = v
		return
	}
	t.insert(i, key, ns, nm, s).v = v
}

// Ptr returns a pointer into a private slot of (kg, key, ns).
func (t *nestTable[K, N, V]) Ptr(kg int, key K, ns N, create bool) (*V, bool) {
	i := t.index(kg)
	nm, s := t.lookup(i, key, ns)
	if s != nil && t.private(i, s.epoch) {
		return &s.v, true
	}
	if s == nil && !create {
		return nil, false
	}
	return &t.insert(i, key, ns, nm, s).v, s != nil
}

// insert stores a new slot for (key, ns) in private maps and returns it. nm
// and s are the current namespace map and slot, or nil; the new slot starts
// with a copy of s's value.
func (t *nestTable[K, N, V]) insert(i int, key K, ns N, nm *nsmap[N, V], s *slot[V]) *slot[V] {
	c := &slot[V]{epoch: t.epoch}
	if s != nil {
		c.v = s.v
	} else {
		t.groups[i].n++
	}
	if nm == nil {
		t.own(i)[key] = &nsmap[N, V]{m: map[N]*slot[V]{ns: c}, epoch: t.epoch}
	} else {
		t.ownNS(i, key, nm).m[ns] = c
	}
	return c
}

// Delete removes (kg, key, ns), and key with its last namespace.
func (t *nestTable[K, N, V]) Delete(kg int, key K, ns N) {
	i := t.index(kg)
	nm, s := t.lookup(i, key, ns)
	if s == nil {
		return
	}
	if len(nm.m) == 1 {
		delete(t.own(i), key)
		t.compact(i)
	} else {
		delete(t.ownNS(i, key, nm).m, ns)
	}
	t.groups[i].n--
}

// compact rebuilds a key group's map after many key deletions: a Go map
// never shrinks, so keys that come and go (sessions) would grow it without
// bound. Amortized O(1) per delete; m is private here (after own).
func (t *nestTable[K, N, V]) compact(i int) {
	g := &t.groups[i]
	g.deletes++
	if g.deletes < 4*len(g.m)+256 {
		return
	}
	m := make(map[K]*nsmap[N, V], len(g.m))
	for k, nm := range g.m {
		m[k] = nm
	}
	g.m, g.deletes = m, 0
}

// Namespaces calls fn for each namespace of (kg, key) until fn returns false.
func (t *nestTable[K, N, V]) Namespaces(kg int, key K, fn func(ns N, v V) bool) {
	nm := t.groups[t.index(kg)].m[key]
	if nm == nil {
		return
	}
	for ns, s := range nm.m {
		if !fn(ns, s.v) {
			return
		}
	}
}

// Len is the number of entries in key group kg.
func (t *nestTable[K, N, V]) Len(kg int) int { return t.groups[t.index(kg)].n }

// own returns the key map of key group index i after making it private:
// the first write after a snapshot clones it (namespace maps stay shared).
func (t *nestTable[K, N, V]) own(i int) map[K]*nsmap[N, V] {
	g := &t.groups[i]
	switch {
	case g.m == nil:
		g.m, g.epoch = make(map[K]*nsmap[N, V]), t.epoch
	case !t.private(i, g.epoch):
		g.m, g.epoch = maps.Clone(g.m), t.epoch
	}
	return g.m
}

// ownNS returns key's namespace map nm after making it private: a shared
// one is cloned (its slots stay shared) and replaces nm in the key map.
func (t *nestTable[K, N, V]) ownNS(i int, key K, nm *nsmap[N, V]) *nsmap[N, V] {
	if t.private(i, nm.epoch) {
		return nm
	}
	c := &nsmap[N, V]{m: maps.Clone(nm.m), epoch: t.epoch}
	t.own(i)[key] = c
	return c
}

// SnapshotRange returns a view of the key groups in r in O(r.Len()).
func (t *nestTable[K, N, V]) SnapshotRange(r KeyGroupRange) TableView {
	v := &nestView[K, N, V]{
		viewHdr: t.share(r),
		maps:    make([]map[K]*nsmap[N, V], r.Len()),
		lens:    make([]int, r.Len()),
	}
	for j := range v.maps {
		g := &t.groups[r.Start-t.kgs.Start+j]
		v.maps[j], v.lens[j] = g.m, g.n
	}
	return v
}

// nestView is a view of a nestTable: the key maps and entry counts the key
// groups had when it was taken.
type nestView[K comparable, N comparable, V any] struct {
	*viewHdr
	maps []map[K]*nsmap[N, V]
	lens []int
}

// Len is the number of entries of key group kg in the view.
func (v *nestView[K, N, V]) Len(kg int) int { return v.lens[v.index(kg)] }

// ForEach calls fn for each entry of key group kg in the view.
func (v *nestView[K, N, V]) ForEach(kg int, fn func(key, ns, value any) bool) {
	for k, nm := range v.maps[v.index(kg)] {
		var key any = k
		for ns, s := range nm.m {
			if !fn(key, ns, s.v) {
				return
			}
		}
	}
}
