package statebackend

import (
	"fmt"
	"reflect"
	"slices"
)

// slabTable is the heap table of Void-namespaced state whose keys suit the
// open table (see openKeyKind) and whose values are larger than
// openInlineMax bytes: an open table maps each key to a slot number, and
// the values live in slots of fixed chunks per key group, which never move.
//
// Inline entries of large values make every growth of the open table copy
// all of them (a top-10 list of bids is a kilobyte), with a write barrier
// per pointer while the collector runs, and leave the arrays three eighths
// to three quarters full of them. Out of line, growth copies a key and a
// slot number per entry, arrays of them hold no pointers for the collector
// to scan, and a value costs one more dependent load.
//
// Copy-on-write works per chunk: a chunk, like the chunk list of a key
// group, is stamped with the epoch it was created in, and the first write
// to a value after a snapshot of its key group clones its chunk (and the
// list). Slots of deleted keys are zeroed and reused; the chunks never
// shrink.
type slabTable[K comparable, N comparable, V any] struct {
	idx   *openTable[K, N, uint32] // key to slot; owns the copy-on-write bookkeeping
	slabs []slab[V]                // per key group
}

// slab holds the values of one key group.
type slab[V any] struct {
	chunks []*slabChunk[V]
	epoch  uint64   // epoch chunks (the list) was created in
	n      uint32   // slots handed out: chunks hold at least n
	free   []uint32 // zeroed slots of deleted keys; the table's alone
}

// slabChunk is slabChunkLen slots.
type slabChunk[V any] struct {
	epoch uint64 // epoch v was created in
	v     [slabChunkLen]V
}

const (
	// openInlineMax is the largest value, in bytes, the open table keeps
	// inline; larger ones go to a slabTable.
	openInlineMax = 64
	// slabChunkLen is the number of slots of a chunk.
	slabShift    = 6
	slabChunkLen = 1 << slabShift
)

var (
	_ Pointers[int, Void, [9]int64] = (*slabTable[int, Void, [9]int64])(nil)
	_ SnapshotTable                 = (*slabTable[int, Void, [9]int64])(nil)
)

// newSlabTable returns an empty slab table; kind must be openKeyKind[K]()
// and not keyOther.
func newSlabTable[K comparable, N comparable, V any](info TaskInfo, kind keyKind) *slabTable[K, N, V] {
	return &slabTable[K, N, V]{
		idx:   newOpenTable[K, N, uint32](info, kind),
		slabs: make([]slab[V], info.KeyGroups.Len()),
	}
}

// read returns slot s of key group index i for reading.
func (t *slabTable[K, N, V]) read(i int, s uint32) *V {
	return &t.slabs[i].chunks[s>>slabShift].v[s&(slabChunkLen-1)]
}

// write returns slot s of key group index i for writing: its chunk, and
// the chunk list, are made private first. While no view of the key group
// was ever taken (req is 0) it does not read the chunk's epoch, which
// lies on another cache line than most of its values.
func (t *slabTable[K, N, V]) write(i int, s uint32) *V {
	sl := &t.slabs[i]
	c := sl.chunks[s>>slabShift]
	if t.idx.req[i] != 0 && !t.idx.private(i, c.epoch) {
		c = t.ownChunk(i, s>>slabShift)
	}
	return &c.v[s&(slabChunkLen-1)]
}

// ownChunk clones chunk k of key group index i, and the chunk list if a
// view shares it, and returns the clone.
func (t *slabTable[K, N, V]) ownChunk(i int, k uint32) *slabChunk[V] {
	sl := &t.slabs[i]
	if !t.idx.private(i, sl.epoch) {
		sl.chunks, sl.epoch = slices.Clone(sl.chunks), t.idx.epoch
	}
	c := new(slabChunk[V])
	*c = *sl.chunks[k]
	c.epoch = t.idx.epoch
	sl.chunks[k] = c
	return c
}

// alloc returns a zero slot of key group index i: a freed one, or the next
// new one. Appending to the chunk list writes past the end every view of
// it sees, so it needs no copy.
func (t *slabTable[K, N, V]) alloc(i int) uint32 {
	sl := &t.slabs[i]
	if n := len(sl.free); n > 0 {
		s := sl.free[n-1]
		sl.free = sl.free[:n-1]
		return s
	}
	s := sl.n
	if s == 1<<32-1 {
		panic(fmt.Sprintf("weir/statebackend: key group %d of operator %s holds 2^32-1 values", i+t.idx.kgs.Start, t.idx.op))
	}
	if s&(slabChunkLen-1) == 0 {
		if sl.chunks == nil {
			sl.epoch = t.idx.epoch
		}
		sl.chunks = append(sl.chunks, &slabChunk[V]{epoch: t.idx.epoch})
	}
	sl.n++
	return s
}

// Get returns the value stored for (kg, key).
func (t *slabTable[K, N, V]) Get(kg int, key K, ns N) (V, bool) {
	if s, ok := t.idx.Get(kg, key, ns); ok {
		return *t.read(kg-t.idx.kgs.Start, s), true
	}
	var zero V
	return zero, false
}

// Put stores v for (kg, key).
func (t *slabTable[K, N, V]) Put(kg int, key K, ns N, v V) {
	p, _ := t.Ptr(kg, key, ns, true)
	*p = v
}

// Ptr returns a pointer to the value of (kg, key) in a private chunk. The
// pointer stays good until the next snapshot, which may make a later
// write clone the chunk; values never move otherwise.
func (t *slabTable[K, N, V]) Ptr(kg int, key K, ns N, create bool) (*V, bool) {
	p, found := t.idx.Ptr(kg, key, ns, create)
	if p == nil {
		return nil, false
	}
	i := kg - t.idx.kgs.Start // checked by idx.Ptr
	if !found {
		*p = t.alloc(i)
	}
	return t.write(i, *p), found
}

// Delete removes (kg, key), zeroing its slot for reuse.
func (t *slabTable[K, N, V]) Delete(kg int, key K, _ N) {
	s, ok := t.idx.remove(kg, key)
	if !ok {
		return
	}
	i := kg - t.idx.kgs.Start
	*t.write(i, s) = *new(V)
	t.slabs[i].free = append(t.slabs[i].free, s)
}

// Namespaces calls fn with Void and the value of (kg, key) if it exists.
func (t *slabTable[K, N, V]) Namespaces(kg int, key K, fn func(ns N, v V) bool) {
	if s, ok := t.idx.Get(kg, key, *new(N)); ok {
		fn(*new(N), *t.read(kg-t.idx.kgs.Start, s))
	}
}

// Len is the number of entries in key group kg.
func (t *slabTable[K, N, V]) Len(kg int) int { return t.idx.Len(kg) }

// SnapshotRange returns a view of the key groups in r in O(r.Len()).
func (t *slabTable[K, N, V]) SnapshotRange(r KeyGroupRange) TableView {
	iv := t.idx.SnapshotRange(r).(*openView[K, N, uint32])
	v := &slabView[K, N, V]{openView: iv, chunks: make([][]*slabChunk[V], r.Len())}
	for j := range v.chunks {
		v.chunks[j] = t.slabs[r.Start-t.idx.kgs.Start+j].chunks
	}
	return v
}

// check panics unless key group index i is well formed: its open table is
// (openTable.check), every key has its own slot below n, the free slots
// are the others and hold zero values, and the chunks cover n slots. It
// costs O(entries): tests call it.
func (t *slabTable[K, N, V]) check(i int) {
	t.idx.check(i)
	sl, kg := &t.slabs[i], i+t.idx.kgs.Start
	if len(sl.chunks) != int((uint64(sl.n)+slabChunkLen-1)>>slabShift) {
		panic(fmt.Sprintf("weir/statebackend: key group %d: %d chunks for %d slots", kg, len(sl.chunks), sl.n))
	}
	owner := make([]int8, sl.n) // 1: a key's, 2: free
	g := &t.idx.groups[i]
	for j, c := range g.ctrl[:len(g.e)] {
		if c == ctrlEmpty {
			continue
		}
		if s := g.e[j].val; s >= sl.n || owner[s] != 0 {
			panic(fmt.Sprintf("weir/statebackend: key group %d: key %v has slot %d of %d, taken: %t", kg, g.e[j].key, s, sl.n, s < sl.n && owner[s] != 0))
		} else {
			owner[s] = 1
		}
	}
	for _, s := range sl.free {
		if s >= sl.n || owner[s] != 0 {
			panic(fmt.Sprintf("weir/statebackend: key group %d: free slot %d of %d is taken", kg, s, sl.n))
		}
		owner[s] = 2
		if !reflect.ValueOf(t.read(i, s)).Elem().IsZero() {
			panic(fmt.Sprintf("weir/statebackend: key group %d: free slot %d holds a value", kg, s))
		}
	}
	if n := slices.Index(owner, 0); n >= 0 {
		panic(fmt.Sprintf("weir/statebackend: key group %d: slot %d is neither a key's nor free", kg, n))
	}
}

// slabView is a view of a slabTable: the view of its open table and the
// chunk lists the key groups had, which the table never writes again while
// the view is live.
type slabView[K comparable, N comparable, V any] struct {
	*openView[K, N, uint32]
	chunks [][]*slabChunk[V]
}

// ForEach calls fn for each entry of key group kg in the view.
func (v *slabView[K, N, V]) ForEach(kg int, fn func(key, ns, value any) bool) {
	chunks := v.chunks[v.index(kg)]
	v.openView.ForEach(kg, func(key, ns, s any) bool {
		slot := s.(uint32)
		return fn(key, ns, chunks[slot>>slabShift].v[slot&(slabChunkLen-1)])
	})
}
