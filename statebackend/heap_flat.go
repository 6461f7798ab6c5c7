package statebackend

import "maps"

// flatTable is the heap table of Void-namespaced state: one map from key to
// slot per key group. N is always Void; the namespace arguments are ignored.
type flatTable[K comparable, N comparable, V any] struct {
	cow
	groups []flatGroup[K, V]
}

// flatGroup is the storage of one key group.
type flatGroup[K comparable, V any] struct {
	m       map[K]*slot[V]
	epoch   uint64 // epoch m was created in
	deletes int    // since m was made: a Go map never shrinks, so churn is compacted
}

var (
	_ Pointers[int, Void, int] = (*flatTable[int, Void, int])(nil)
	_ SnapshotTable            = (*flatTable[int, Void, int])(nil)
	_ Sweeper[int, Void, int]  = (*flatTable[int, Void, int])(nil)
)

// Get returns the value stored for (kg, key).
func (t *flatTable[K, N, V]) Get(kg int, key K, _ N) (V, bool) {
	if s := t.groups[t.index(kg)].m[key]; s != nil {
		return s.v, true
	}
	var zero V
	return zero, false
}

// Put stores v for (kg, key), in place when the slot is private.
func (t *flatTable[K, N, V]) Put(kg int, key K, _ N, v V) {
	i := t.index(kg)
	if s := t.groups[i].m[key]; s != nil && t.private(i, s.epoch) {
		s.v = v
		return
	}
	t.own(i)[key] = &slot[V]{v: v, epoch: t.epoch}
}

// Ptr returns a pointer into a private slot of (kg, key): one map lookup
// when the slot exists and no live view shares it.
func (t *flatTable[K, N, V]) Ptr(kg int, key K, _ N, create bool) (*V, bool) {
	i := t.index(kg)
	s := t.groups[i].m[key]
	if s != nil && t.private(i, s.epoch) {
		return &s.v, true
	}
	if s == nil && !create {
		return nil, false
	}
	c := &slot[V]{epoch: t.epoch}
	if s != nil {
		c.v = s.v
	}
	t.own(i)[key] = c
	return &c.v, s != nil
}

// Delete removes (kg, key).
func (t *flatTable[K, N, V]) Delete(kg int, key K, _ N) {
	i := t.index(kg)
	if _, ok := t.groups[i].m[key]; ok {
		delete(t.own(i), key)
		t.compact(i, 1)
	}
}

// Sweep implements Sweeper: one pass over the map of key group kg. A slot
// a view shares is copied before fn sees it.
func (t *flatTable[K, N, V]) Sweep(kg int, fn func(key K, ns N, v *V) bool) {
	i := t.index(kg)
	if len(t.groups[i].m) == 0 {
		return
	}
	m := t.own(i)
	var ns N
	removed := 0
	for k, s := range m {
		if !t.private(i, s.epoch) {
			s = &slot[V]{v: s.v, epoch: t.epoch}
			m[k] = s
		}
		if fn(k, ns, &s.v) {
			delete(m, k)
			removed++
		}
	}
	if removed > 0 {
		t.compact(i, removed)
	}
}

// compact counts n deletions from key group index i's map and rebuilds it
// after many: keys that come and go (window panes) would otherwise grow it
// without bound. Amortized O(1) per delete.
func (t *flatTable[K, N, V]) compact(i, n int) {
	g := &t.groups[i]
	g.deletes += n
	if g.deletes < 4*len(g.m)+256 {
		return
	}
	m := make(map[K]*slot[V], len(g.m))
	for k, s := range g.m {
		m[k] = s
	}
	g.m, g.deletes = m, 0
}

// Namespaces calls fn with Void and the value of (kg, key) if it exists.
func (t *flatTable[K, N, V]) Namespaces(kg int, key K, fn func(ns N, v V) bool) {
	if s := t.groups[t.index(kg)].m[key]; s != nil {
		fn(*new(N), s.v)
	}
}

// Len is the number of entries in key group kg.
func (t *flatTable[K, N, V]) Len(kg int) int { return len(t.groups[t.index(kg)].m) }

// own returns the map of key group index i after making it private: the
// first write after a snapshot clones it (the slots stay shared).
func (t *flatTable[K, N, V]) own(i int) map[K]*slot[V] {
	g := &t.groups[i]
	switch {
	case g.m == nil:
		g.m, g.epoch, g.deletes = make(map[K]*slot[V]), t.epoch, 0
	case !t.private(i, g.epoch):
		g.m, g.epoch = maps.Clone(g.m), t.epoch
	}
	return g.m
}

// SnapshotRange returns a view of the key groups in r in O(r.Len()).
func (t *flatTable[K, N, V]) SnapshotRange(r KeyGroupRange) TableView {
	v := &flatView[K, N, V]{viewHdr: t.share(r), maps: make([]map[K]*slot[V], r.Len())}
	for j := range v.maps {
		v.maps[j] = t.groups[r.Start-t.kgs.Start+j].m
	}
	return v
}

// flatView is a view of a flatTable: the maps the key groups had when it
// was taken, which the table never writes again while the view is live.
type flatView[K comparable, N comparable, V any] struct {
	*viewHdr
	maps []map[K]*slot[V]
}

// Len is the number of entries of key group kg in the view.
func (v *flatView[K, N, V]) Len(kg int) int { return len(v.maps[v.index(kg)]) }

// ForEach calls fn for each entry of key group kg in the view.
func (v *flatView[K, N, V]) ForEach(kg int, fn func(key, ns, value any) bool) {
	var ns any = *new(N)
	for k, s := range v.maps[v.index(kg)] {
		if !fn(k, ns, s.v) {
			return
		}
	}
}
