package statebackend

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// NewHeapTable returns the heap implementation of Table, the one Open uses
// for backends that implement TableOpener. It keeps Go values in hash
// tables, one per key group of info.KeyGroups, and also implements Pointers
// and SnapshotTable.
//
// When N is Void the table uses a flat layout, one hash table from key to
// value per key group, so that Get, Put and Ptr cost one lookup. For keys
// of integer kinds (of any size) and string kinds, named types included,
// and for structs and arrays of integers without padding (such as a pair
// of int64), up to 64 bytes, that hash table is the table's own
// open-addressing one, which keeps keys and values inline in one array per
// key group, or, for values of more than 64 bytes, keys and slot numbers,
// with the values in chunks that never move; for other key types it is a
// Go map from key to a separately allocated slot. When N is not Void,
// keys the open table can hash map, in an open table, to their first
// namespace and value inline and a slice of any others (most keys of
// windowed state have one namespace at a time), and other keys to a Go map
// of their namespaces; Namespaces walks the key's namespaces either way.
//
// Snapshots are copy-on-write: SnapshotRange marks the key groups of its
// range as shared in O(key groups), and the first write afterwards to a
// shared map, entry array or value copies it, so that no memory a live view
// can read is ever written again. The task never takes a lock; a released
// view stops the copying. Copies are shallow (see Pointers).
//
// A key group outside info.KeyGroups is the caller's bug: every method
// panics with a message naming the key group and the operator. So is an
// invalid info.KeyGroups (negative start, end before start): NewHeapTable
// panics; backends validate their TaskInfo before.
func NewHeapTable[K comparable, N comparable, V any](info TaskInfo) Table[K, N, V] {
	if r := info.KeyGroups; r.Start < 0 || r.End < r.Start {
		panic(fmt.Sprintf("weir/statebackend: invalid key group range %v of operator %s", r, info.Operator))
	}
	if _, void := any(*new(N)).(Void); void {
		if kind := openKeyKind[K](); kind != keyOther {
			if unsafe.Sizeof(*new(V)) > openInlineMax {
				return newSlabTable[K, N, V](info, kind)
			}
			return newOpenTable[K, N, V](info, kind)
		}
		return newFlatTable[K, N, V](info)
	}
	if kind := openKeyKind[K](); kind != keyOther {
		return newNestOpenTable[K, N, V](info, kind)
	}
	return newNestTable[K, N, V](info)
}

// newNestTable returns an empty map-based namespaced table.
func newNestTable[K comparable, N comparable, V any](info TaskInfo) *nestTable[K, N, V] {
	t := &nestTable[K, N, V]{groups: make([]nestGroup[K, N, V], info.KeyGroups.Len())}
	t.init(info)
	return t
}

// newFlatTable returns an empty map-based Void table.
func newFlatTable[K comparable, N comparable, V any](info TaskInfo) *flatTable[K, N, V] {
	t := &flatTable[K, N, V]{groups: make([]flatGroup[K, V], info.KeyGroups.Len())}
	t.init(info)
	return t
}

// slot holds one value. A slot, like every map and entry array of the heap
// table, is stamped with the epoch it was created in; it may be written in
// place only while no live view of its key group is as recent as it (see
// cow.private).
type slot[V any] struct {
	v     V
	epoch uint64
}

// cow is the copy-on-write bookkeeping shared by both layouts.
//
// The task's epoch grows by one with every snapshot: a view taken in epoch e
// can reach only objects stamped with an epoch <= e, and objects created
// afterwards carry a later epoch. req holds, per key group, the epoch of the
// newest live view of the group, so an object is private to the task (safe
// to write) iff its epoch > req. Views are released from other goroutines:
// Release flips the view's flag and bumps the releases counter; the task
// notices the counter only on the copy path (refresh), prunes released views
// and lowers req, so the hot path has no atomic operation and no lock.
//
// All fields but releases belong to the task's goroutine.
type cow struct {
	op       string
	kgs      KeyGroupRange
	epoch    uint64     // epoch of objects created now
	req      []uint64   // per key group: epoch of the newest live view, 0 if none
	live     []*viewHdr // views not known to be released
	seen     uint64     // releases when req was last computed
	releases atomic.Uint64
}

// init sets up the bookkeeping for the valid range info.KeyGroups.
func (c *cow) init(info TaskInfo) {
	c.op, c.kgs, c.epoch = info.Operator, info.KeyGroups, 1
	c.req = make([]uint64, info.KeyGroups.Len())
}

// index returns the storage index of key group kg. A key group outside the
// table's range is a caller bug (the exchange routed a record to the wrong
// task) and panics rather than corrupting another group.
func (c *cow) index(kg int) int {
	i := kg - c.kgs.Start
	if uint(i) >= uint(len(c.req)) {
		panic(outsideError{kg: kg, c: c}) // no call, so that index inlines
	}
	return i
}

// outsideError is the panic value of a key group outside the table.
type outsideError struct {
	kg int
	c  *cow
}

func (e outsideError) Error() string {
	return fmt.Sprintf("weir/statebackend: key group %d outside %v of operator %s", e.kg, e.c.kgs, e.c.op)
}

// private reports whether an object of key group index i stamped with epoch
// e can be written in place: no live view can read it.
func (c *cow) private(i int, e uint64) bool {
	return e > c.req[i] || (c.refresh() && e > c.req[i])
}

// refresh applies the releases made since its last call and reports whether
// req may have changed. It costs one atomic load when nothing was released.
func (c *cow) refresh() bool {
	n := c.releases.Load()
	if n == c.seen {
		return false
	}
	c.seen = n
	live := c.live[:0]
	for _, h := range c.live {
		if !h.released.Load() {
			live = append(live, h)
		}
	}
	clear(c.live[len(live):])
	c.live = live
	clear(c.req)
	for _, h := range live {
		for kg := h.r.Start; kg < h.r.End; kg++ {
			i := kg - c.kgs.Start
			c.req[i] = max(c.req[i], h.epoch)
		}
	}
	return true
}

// share starts a view of the key groups in r: from now on every object of
// those groups that exists is shared with it.
func (c *cow) share(r KeyGroupRange) *viewHdr {
	if r.Start < c.kgs.Start || r.End > c.kgs.End || r.End < r.Start {
		panic(fmt.Sprintf("weir/statebackend: snapshot range %v outside %v of operator %s", r, c.kgs, c.op))
	}
	c.refresh()
	h := &viewHdr{r: r, epoch: c.epoch, op: c.op, releases: &c.releases}
	for i := r.Start - c.kgs.Start; i < r.End-c.kgs.Start; i++ {
		c.req[i] = c.epoch
	}
	c.epoch++
	if r.Len() > 0 {
		c.live = append(c.live, h)
	}
	return h
}

// viewHdr is the part of a view the task reads: r and epoch never change
// after share, released is the only field written by other goroutines.
type viewHdr struct {
	r        KeyGroupRange
	epoch    uint64
	op       string
	released atomic.Bool
	releases *atomic.Uint64 // the table's cow.releases
}

// Range is the key-group range of the view.
func (h *viewHdr) Range() KeyGroupRange { return h.r }

// Release frees the view; later calls are no-ops.
func (h *viewHdr) Release() {
	if h.released.CompareAndSwap(false, true) {
		h.releases.Add(1)
	}
}

// index returns the position of key group kg in the view, panicking on
// the caller bugs of reading outside the range or after Release.
func (h *viewHdr) index(kg int) int {
	if h.released.Load() {
		panic(fmt.Sprintf("weir/statebackend: snapshot of operator %s used after Release", h.op))
	}
	if !h.r.Contains(kg) {
		panic(fmt.Sprintf("weir/statebackend: key group %d outside snapshot %v of operator %s", kg, h.r, h.op))
	}
	return kg - h.r.Start
}
