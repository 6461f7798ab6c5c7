package statebackend

import (
	"fmt"
	"reflect"
	"unsafe"
)

// packedTable is the heap table of OpenPacked: state whose values are
// kept encoded, in the plain encoding of the byte backends (plainCodec),
// in byte arenas per key group, and whose keys suit the open table (see
// openKeyKind). Its index maps each (key, namespace) to where the value's
// bytes lie: an openTable when N is Void, a nestOpenTable otherwise.
//
// Nothing of it holds pointers but the chunk lists (and namespaces that
// hold some), so the garbage collector neither scans it nor charges
// writes to it with barriers. A heap table of values with strings or
// times (a Bid holds four pointers) is scanned whole by every collection,
// which for a few hundred megabytes of state takes hundreds of
// milliseconds of one core and stalls the tasks sharing it. The price is
// an encoding per Put, a decoding per Get, and the strings' bytes, which
// are copied into the arena where the Go values could share them.
//
// Arena bytes are written once: a Put appends the value's new encoding
// and leaves the old one behind as dead bytes, which a compaction of the
// key group reclaims once they outweigh the live ones (copying the live
// ones to new chunks). Decoded strings point into the arena instead of
// copying it (codecMode.views): they stay valid, and keep their chunk
// alive, however long the caller holds them. It also makes snapshots
// plain: a view holds the index's view (copied on write, like every open
// table's) and the chunk lists as they were.
type packedTable[K comparable, N comparable, V any] struct {
	idx    packedIndex[K, N] // (key, namespace) to bytes; owns the copy-on-write bookkeeping
	cow    *cow              // idx's
	arenas []arena           // per key group
	codec  *kvCodec          // plain, with views
	buf    []byte            // encoding scratch, for a key group without chunks
	tmp    V                 // the value being encoded or decoded: a local would escape to the heap
}

// packedIndex is the index of a packed table: an openTable or a
// nestOpenTable of packedRefs.
type packedIndex[K comparable, N comparable] interface {
	Table[K, N, packedRef]
	Pointers[K, N, packedRef]
	SnapshotTable
	// take removes (kg, key, ns) and returns its reference.
	take(kg int, key K, ns N) (packedRef, bool)
	// refs calls fn with a pointer to every reference of key group index
	// i, in private memory (copied first if a view shares it).
	refs(i int, fn func(*packedRef))
	// eachRef calls fn with every key and reference of key group index i.
	eachRef(i int, fn func(key any, r packedRef))
	check(i int)
}

func (t *openTable[K, N, V]) take(kg int, key K, _ N) (V, bool) { return t.remove(kg, key) }

func (t *openTable[K, N, V]) refs(i int, fn func(*V)) {
	g := &t.groups[i]
	t.settle(i, len(g.old.e)) // visiting every key costs more than the moves
	e := t.own(i)
	for j, c := range g.ctrl[:len(e)] {
		if c != ctrlEmpty {
			fn(&e[j].val)
		}
	}
}

func (t *openTable[K, N, V]) eachRef(i int, fn func(key any, v V)) {
	t.groups[i].each(func(s *openEntry[K, V]) bool { fn(s.key, s.val); return true })
}

func (t *nestOpenTable[K, N, V]) eachRef(i int, fn func(key any, v V)) {
	t.t.eachRef(i, func(key any, l nsList[N, V]) {
		l.each(func(_ N, v V) bool { fn(key, v); return true })
	})
}

func (t *nestOpenTable[K, N, V]) take(kg int, key K, ns N) (V, bool) {
	v, ok := t.Get(kg, key, ns)
	if ok {
		t.Delete(kg, key, ns)
	}
	return v, ok
}

func (t *nestOpenTable[K, N, V]) refs(i int, fn func(*V)) {
	t.t.refs(i, func(l *nsList[N, V]) {
		fn(&l.v)
		t.ownMore(i, l)
		for m := range l.more {
			fn(&l.more[m].v)
		}
	})
}

// packedRef is where the encoding of one value lies in its key group's
// arena.
type packedRef struct {
	chunk, off, n uint32
}

// arena is the value bytes of one key group.
type arena struct {
	// chunks are byte arrays of full length; a chunk's bytes are written
	// once, in order: all of them for every chunk but the last, used
	// bytes of the last.
	chunks [][]byte
	used   int
	live   int // bytes of current values
	dead   int // bytes of replaced and deleted ones
}

const (
	// Chunks grow from arenaMinChunk bytes to arenaMaxChunk by doubling,
	// so that small key groups stay small; a larger value gets a chunk of
	// its own size.
	arenaMinChunk = 1 << 10
	arenaMaxChunk = 1 << 16
)

// A key group is compacted when its dead bytes exceed its live ones and
// arenaCompactMin (a variable for tests).
var arenaCompactMin = 1 << 16

var (
	_ SnapshotTable = (*packedTable[int, Void, string])(nil)
	_ SnapshotTable = (*packedTable[int, int, string])(nil)
)

// OpenPacked returns the typed table name of backend b, like Open, except
// that a heap backend keeps the values encoded in byte arenas, out of the
// garbage collector's sight (see the package doc), instead of as Go
// values. Byte backends encode every table anyway: for them it is Open.
//
// A packed table has no Pointers. Its values must have the plain encoding
// of the byte backends: integers, floats, bools, strings, time.Time
// (without its monotonic reading or zone name), and arrays, structs and
// slices of them; its keys must suit the open table (integer and string
// kinds, and structs and arrays of integers without padding, up to 64
// bytes). Otherwise OpenPacked fails, naming the type. Namespaces are
// kept as Go values beside the references (the collector scans them if
// they hold pointers). Strings a Get returns point into the table's
// arena, which is never written again: they may be kept. A decoded slice
// is a new one.
func OpenPacked[K comparable, N comparable, V any](b Backend, name string) (Table[K, N, V], error) {
	if _, ok := b.(KVBackend); ok {
		return Open[K, N, V](b, name)
	}
	codec, err := packedCodec[K, N, V]()
	if err != nil {
		return nil, fmt.Errorf("weir/statebackend: packed table %q of %s: %w", name, b.Info().Operator, err)
	}
	t, err := openHeap(b, name, func() any { return newPackedTable[K, N, V](b.Info(), codec) })
	if err != nil {
		return nil, err
	}
	tt, ok := t.(*packedTable[K, N, V])
	if !ok {
		return nil, fmt.Errorf("weir/statebackend: table %q of %s opened before as %T, not packed", name, b.Info().Operator, t)
	}
	if err := loadRestored(b, name, Table[K, N, V](tt)); err != nil {
		return nil, err
	}
	return tt, nil
}

// packedCodec returns the codec of a packed table's values, or why its
// types cannot be packed.
func packedCodec[K comparable, N comparable, V any]() (*kvCodec, error) {
	if openKeyKind[K]() == keyOther {
		return nil, fmt.Errorf("key type %T: a packed table's keys are integers, strings, or structs or arrays of integers without padding, up to 64 bytes", *new(K))
	}
	c, err := plainCodec(reflect.TypeFor[V](), codecMode{values: true, views: true})
	if err != nil {
		return nil, fmt.Errorf("value type %T has no plain encoding: %w", *new(V), err)
	}
	return c, nil
}

// newPackedTable returns an empty packed table; codec is packedCodec's.
func newPackedTable[K comparable, N comparable, V any](info TaskInfo, codec *kvCodec) *packedTable[K, N, V] {
	t := &packedTable[K, N, V]{arenas: make([]arena, info.KeyGroups.Len()), codec: codec}
	if _, void := any(*new(N)).(Void); void {
		o := newOpenTable[K, N, packedRef](info, openKeyKind[K]())
		t.idx, t.cow = o, &o.cow
	} else {
		o := newNestOpenTable[K, N, packedRef](info, openKeyKind[K]())
		t.idx, t.cow = o, &o.t.cow
	}
	return t
}

// bytes returns the encoding r refers to.
func (a *arena) bytes(r packedRef) []byte {
	return a.chunks[r.chunk][r.off : r.off+r.n : r.off+r.n]
}

// add appends b to the arena and returns where it lies. Appending to the
// chunk list, or to the last chunk, writes past everything a view of the
// arena reads, so it needs no copy.
func (a *arena) add(b []byte) packedRef {
	n := len(b)
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])-a.used < n {
		size := arenaMinChunk
		if last >= 0 {
			size = min(2*len(a.chunks[last]), arenaMaxChunk)
		}
		a.chunks = append(a.chunks, makeFaulted[byte](max(size, n)))
		a.used, last = 0, last+1
	}
	if last >= 1<<32-1 || n >= 1<<32 {
		panic(fmt.Sprintf("weir/statebackend: arena of %d chunks cannot take %d bytes more", last, n))
	}
	r := packedRef{chunk: uint32(last), off: uint32(a.used), n: uint32(n)}
	copy(a.chunks[last][a.used:], b)
	a.used += n
	a.live += n
	return r
}

// decodeInto decodes the value r refers to into *v.
func (t *packedTable[K, N, V]) decodeInto(a *arena, r packedRef, v *V) {
	if err := t.codec.decodeAll(a.bytes(r), unsafe.Pointer(v)); err != nil {
		// The table wrote these bytes itself: this is a bug, not input.
		panic(fmt.Sprintf("weir/statebackend: packed table of %s: decode %s: %v", t.cow.op, t.codec.t, err))
	}
}

// Get returns the value stored for (kg, key).
func (t *packedTable[K, N, V]) Get(kg int, key K, ns N) (V, bool) {
	r, ok := t.idx.Get(kg, key, ns)
	if !ok {
		var zero V
		return zero, false
	}
	t.tmp = *new(V) // decoding leaves nil slices as they are
	t.decodeInto(&t.arenas[kg-t.cow.kgs.Start], r, &t.tmp)
	return t.tmp, true
}

// Put stores v for (kg, key): it appends v's encoding to the key group's
// arena, and compacts the arena when it is mostly dead.
func (t *packedTable[K, N, V]) Put(kg int, key K, ns N, v V) {
	p, found := t.idx.Ptr(kg, key, ns, true)
	i := kg - t.cow.kgs.Start // checked by idx.Ptr
	a := &t.arenas[i]
	if found {
		a.live -= int(p.n)
		a.dead += int(p.n)
	}
	t.tmp = v
	*p = t.encode(a)
	t.tmp = *new(V) // hold nothing v points to
	if a.dead > a.live && a.dead > arenaCompactMin {
		t.compact(i)
	}
}

// encode appends the encoding of t.tmp to a and returns where it lies.
// It encodes straight into the free end of the last chunk, where the
// value's bytes (strings mostly) are copied once; an encoding that
// outgrows the chunk is copied to a new one.
func (t *packedTable[K, N, V]) encode(a *arena) packedRef {
	var dst []byte
	var err error
	if last := len(a.chunks) - 1; last >= 0 {
		free := a.chunks[last][a.used:a.used]
		dst, err = t.codec.enc(free, unsafe.Pointer(&t.tmp))
		if err == nil && len(dst) <= cap(free) && (len(dst) == 0 || &dst[0] == &a.chunks[last][a.used]) {
			r := packedRef{chunk: uint32(last), off: uint32(a.used), n: uint32(len(dst))}
			a.used += len(dst)
			a.live += len(dst)
			return r
		}
	} else {
		t.buf, err = t.codec.enc(t.buf[:0], unsafe.Pointer(&t.tmp))
		dst = t.buf
	}
	if err != nil {
		panic(fmt.Sprintf("weir/statebackend: packed table of %s: encode %s: %v", t.cow.op, t.codec.t, err))
	}
	return a.add(dst) // a new chunk
}

// Delete removes (kg, key, ns).
func (t *packedTable[K, N, V]) Delete(kg int, key K, ns N) {
	r, ok := t.idx.take(kg, key, ns)
	if !ok {
		return
	}
	i := kg - t.cow.kgs.Start
	a := &t.arenas[i]
	a.live -= int(r.n)
	a.dead += int(r.n)
	switch {
	case a.live == 0:
		t.arenas[i] = arena{} // views keep the chunks they saw
	case a.dead > a.live && a.dead > arenaCompactMin:
		t.compact(i)
	}
}

// compact copies the live values of key group index i to new chunks and
// points the index at them. The old chunks are left as they are, for the
// views that still read them (and the strings decoded from them).
func (t *packedTable[K, N, V]) compact(i int) {
	old := t.arenas[i]
	var a arena
	if old.live > arenaMaxChunk {
		// One chunk for all: compaction is when the size is known.
		a.chunks = [][]byte{make([]byte, old.live)}
	}
	t.idx.refs(i, func(r *packedRef) { *r = a.add(old.bytes(*r)) })
	t.arenas[i] = a
}

// Namespaces calls fn for each namespace of (kg, key) until fn returns
// false.
func (t *packedTable[K, N, V]) Namespaces(kg int, key K, fn func(ns N, v V) bool) {
	a := &t.arenas[t.cow.index(kg)]
	t.idx.Namespaces(kg, key, func(ns N, r packedRef) bool {
		var v V
		t.decodeInto(a, r, &v)
		return fn(ns, v)
	})
}

// Len is the number of entries in key group kg.
func (t *packedTable[K, N, V]) Len(kg int) int { return t.idx.Len(kg) }

// SnapshotRange returns a view of the key groups in r in O(r.Len()).
func (t *packedTable[K, N, V]) SnapshotRange(r KeyGroupRange) TableView {
	v := &packedView[K, N, V]{TableView: t.idx.SnapshotRange(r), t: t, arenas: make([]arena, r.Len())}
	copy(v.arenas, t.arenas[r.Start-t.cow.kgs.Start:])
	return v
}

// check panics unless key group index i is well formed: its index is
// (check), every reference lies within the written part of the arena and
// decodes, and live counts them. It costs O(entries): tests call it.
func (t *packedTable[K, N, V]) check(i int) {
	t.idx.check(i)
	a, kg := &t.arenas[i], i+t.cow.kgs.Start
	live := 0
	t.idx.eachRef(i, func(key any, r packedRef) {
		written := 0
		if int(r.chunk) < len(a.chunks) {
			written = len(a.chunks[r.chunk])
			if int(r.chunk) == len(a.chunks)-1 {
				written = a.used
			}
		}
		if uint64(r.off)+uint64(r.n) > uint64(written) {
			panic(fmt.Sprintf("weir/statebackend: key group %d: key %v refers to bytes [%d,%d) of chunk %d, of which %d are written", kg, key, r.off, r.off+r.n, r.chunk, written))
		}
		var v V
		if err := t.codec.decodeAll(a.bytes(r), unsafe.Pointer(&v)); err != nil {
			panic(fmt.Sprintf("weir/statebackend: key group %d: key %v: %v", kg, key, err))
		}
		live += int(r.n)
	})
	if live != a.live || a.dead < 0 {
		panic(fmt.Sprintf("weir/statebackend: key group %d: %d live bytes counted as %d (dead %d)", kg, live, a.live, a.dead))
	}
}

// packedView is a view of a packedTable: the view of its index and the
// arenas the key groups had, whose bytes the table never writes again.
type packedView[K comparable, N comparable, V any] struct {
	TableView
	t      *packedTable[K, N, V] // for decodeInto, which reads only the codec
	arenas []arena
}

// ForEach calls fn for each entry of key group kg in the view.
func (v *packedView[K, N, V]) ForEach(kg int, fn func(key, ns, value any) bool) {
	a := v.arena(kg)
	v.TableView.ForEach(kg, func(key, ns, r any) bool {
		val := new(V)
		v.t.decodeInto(a, r.(packedRef), val)
		return fn(key, ns, *val)
	})
}
