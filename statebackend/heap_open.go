package statebackend

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"unsafe"
)

// openTable is the heap table of Void-namespaced state whose keys are
// integers, strings or plain structs of integers (see openKeyKind): per
// key group, an open-addressing
// hash table with linear probing whose entries hold key and value inline,
// so that Ptr costs a hash and, mostly, one cache line of entries, where
// the map of flatTable costs a map lookup and a pointer chase to the slot.
// N is always Void; the namespace arguments are ignored.
//
// Besides the entries, a key group keeps one control byte per entry: 0 for
// an unused entry, else 0x80 and 7 bits of the key's hash. Find compares
// the control bytes of the 8 entries from a key's home at once (a uint64
// holds them), so that a key found anywhere among them costs no
// mispredicted branch. Keys sit at varying distances from their homes (at
// 5/8 load, 3 keys in 10 are not at home, 1 in 16 is 4 entries away or
// more): a probe loop that tests one entry at a time mispredicts on such
// keys, and a mispredicted branch also keeps the processor from
// overlapping the cache misses of consecutive records, which made it no
// faster than a Go map on keys routed by hash. The control bytes of the
// first openWindow-1 entries are repeated after the last, so that the 8
// bytes from any home are contiguous.
//
// The arrays of a key group are the unit of copy-on-write, like the map of
// flatTable: they are stamped with the epoch they were created in, the
// first write after a snapshot of their key group clones them whole, and
// growth replaces them by new private ones. Arrays a live view can read
// are never written again. Deletion shifts the rest of the probe chain back
// (no tombstones), and the arrays never shrink, like a Go map's.
type openTable[K comparable, N comparable, V any] struct {
	cow
	groups []openGroup[K, V]
	kind   keyKind      // keyInt, keyString or keyWords
	iseed  uint64       // seed of integer keys
	sseed  maphash.Seed // seed of string keys
	// sweepScratch holds the entries a Sweep keeps while it rebuilds a
	// key group.
	sweepScratch []openEntry[K, V]
}

// openGroup is the storage of one key group: its arrays (openArr) and,
// while a large key group grows, the arrays it grew from (old), whose
// entries move to the new ones a few at a time (see grow). A key is in
// one place: the new arrays, or old at an entry at or past mig.
type openGroup[K comparable, V any] struct {
	openArr[K, V]
	n      int           // number of keys, in both arrays
	epoch  uint64        // epoch e and ctrl were created in
	old    openArr[K, V] // while growing: the arrays grown from; else nil
	mig    int           // entries of old before mig have moved
	oepoch uint64        // epoch old was created in, or cloned in
}

// openArr is an entry array and its control bytes.
type openArr[K comparable, V any] struct {
	e    []openEntry[K, V] // nil or at least openMinCap entries (see grown), at most 3/4 used
	ctrl []uint8           // control bytes: len(e) + openWindow - 1 of them
}

// openEntry is one entry. An unused entry is the zero value, so that a new
// entry starts with the zero V and a removed one holds no pointers.
type openEntry[K comparable, V any] struct {
	key K
	val V
}

const (
	// openWindow is the number of control bytes find compares at once.
	openWindow = 8
	// Entry arrays start with openMinCap entries and double when an
	// insertion would make more than openLoadNum/openLoadDen of them used:
	// linear probing needs some room to keep most keys within a window of
	// their home.
	openMinCap  = 8
	openLoadNum = 3
	openLoadDen = 4
	// openPhaseAt is the size from which the sizes of key groups are out
	// of phase (see grown).
	openPhaseAt = 512

	ctrlEmpty = 0x00               // control byte of an unused entry
	ctrlUsed  = 0x80               // bit set in the control byte of a used entry
	ctrlMoved = 0x7f               // control byte of an entry of old whose key moved out of order (see locate)
	swarLSB   = 0x0101010101010101 // the low bit of every byte of a uint64
	swarMSB   = 0x8080808080808080 // the high bit of every byte
)

// Growth of a large key group is incremental: from openIncrementalFrom
// bytes of entries, grow only allocates the larger arrays and keeps the
// old ones beside them, and every insertion, and every read while both
// exist (settle), moves the keys of the next openMigrateBytes of the old
// entries (at least one entry). Rehashing a
// key group at once stalls the task for as long as the group is large: in
// q18 at 1M events/s, key groups of 50–70K entries took 0.5–1.75 ms each
// to grow, the most frequent cause of results slower than 1 ms. The moves
// take a few hundred insertions, while the arrays at least double, so
// they end long before the next growth (which would finish them first).
// A key still in the old arrays costs a second probe, and moves on its
// first write. Variables for tests.
var (
	openIncrementalFrom = 128 << 10
	openMigrateBytes    = 8 << 10
)

// migrateStep is the number of old entries an insertion or a read moves.
func (t *openTable[K, N, V]) migrateStep() int {
	return max(1, openMigrateBytes/int(unsafe.Sizeof(openEntry[K, V]{})))
}

// keyKind says how the open table hashes a key type.
type keyKind uint8

const (
	keyOther  keyKind = iota // not supported: flatTable
	keyInt                   // integer kinds, and keyWords types, of at most 8 bytes
	keyString                // string kinds
	keyWords                 // structs and arrays of integers: see wordKey
)

// maxWordKey is the size limit of keyWords keys, in bytes.
const maxWordKey = 64

// openKeyKind returns the keyKind of K by its reflect.Kind, so that named
// types qualify too.
func openKeyKind[K comparable]() keyKind {
	t := reflect.TypeFor[K]()
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if t.Size() <= 8 {
			return keyInt
		}
	case reflect.String:
		return keyString
	case reflect.Struct, reflect.Array:
		switch {
		case t.Size() == 0 || t.Size() > maxWordKey || wordKey(t) != t.Size():
		case t.Size() <= 8:
			return keyInt // hashInt reads any key of at most 8 bytes
		default:
			return keyWords
		}
	}
	return keyOther
}

// wordKey returns the bytes of the integer and bool fields of t, recursively,
// or 0 if t has a field of another kind (a float, whose equal values may
// differ in bits, a string or a pointer). A struct whose result is its
// size has no padding: its memory holds only the fields, so two keys are
// equal (==) exactly when their bytes are, and the open table hashes the
// bytes (such as the window operator's (key, pane) pairs).
func wordKey(t reflect.Type) uintptr {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Bool,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return t.Size()
	case reflect.Array:
		if t.Len() == 0 {
			return 0
		}
		if n := wordKey(t.Elem()); n == t.Elem().Size() {
			return n * uintptr(t.Len())
		}
	case reflect.Struct:
		var n uintptr
		for i := range t.NumField() {
			f := wordKey(t.Field(i).Type)
			if f == 0 {
				return 0
			}
			n += f
		}
		return n
	}
	return 0
}

// newOpenTable returns an empty open table; kind must be openKeyKind[K]()
// and not keyOther.
func newOpenTable[K comparable, N comparable, V any](info TaskInfo, kind keyKind) *openTable[K, N, V] {
	t := &openTable[K, N, V]{
		groups: make([]openGroup[K, V], info.KeyGroups.Len()),
		kind:   kind,
		iseed:  rand.Uint64(),
		sseed:  maphash.MakeSeed(),
	}
	t.init(info)
	return t
}

var (
	_ Pointers[int, Void, int] = (*openTable[int, Void, int])(nil)
	_ SnapshotTable            = (*openTable[int, Void, int])(nil)
)

// hash returns the hash of key. The hashes are never persisted, so the
// seeds may differ between tables and runs.
func (t *openTable[K, N, V]) hash(key K) uint64 {
	switch t.kind {
	case keyString:
		return t.hashString(key)
	case keyWords:
		return t.hashWords(key)
	}
	return t.hashInt(key)
}

// hashInt returns the hash of an integer key. It reads the key's bits,
// widened to 64 (in the low bytes on a little-endian machine, the high ones
// otherwise: hashing only needs a one-to-one map), and mixes them: the key
// group was chosen from the low bits of another hash of the key, which are
// therefore alike within a key group. It inlines, where hash does not.
func (t *openTable[K, N, V]) hashInt(key K) uint64 {
	var x uint64
	if unsafe.Sizeof(key) > unsafe.Sizeof(x) { // a constant, false for integer kinds
		panic("weir/statebackend: hashInt of a wide key")
	}
	*(*K)(unsafe.Pointer(&x)) = key
	return mix64(x ^ t.iseed)
}

// hashString returns the hash of a string key.
func (t *openTable[K, N, V]) hashString(key K) uint64 {
	return maphash.String(t.sseed, *(*string)(unsafe.Pointer(&key)))
}

// hashWords returns the hash of a keyWords key: its bytes, mixed 8 at a
// time.
func (t *openTable[K, N, V]) hashWords(key K) uint64 {
	b := unsafe.Slice((*byte)(unsafe.Pointer(&key)), unsafe.Sizeof(key))
	h := t.iseed
	for ; len(b) >= 8; b = b[8:] {
		h = mix64(h ^ binary.LittleEndian.Uint64(b))
	}
	if len(b) > 0 {
		var w uint64
		for i, c := range b {
			w |= uint64(c) << (8 * i)
		}
		h = mix64(h ^ w)
	}
	return h
}

// mix64 is a multiply-fold mixer (as in wyhash): every output bit depends
// on every input bit, the low ones included.
func mix64(x uint64) uint64 {
	hi, lo := bits.Mul64(x, 0x9e3779b97f4a7c15)
	return hi ^ lo
}

// home returns the home entry of hash h in an array of n entries: the
// high half of the product of h's low 32 bits and n, uniform for any n
// below 2^32, which power-of-two sizes would not need but the phases of
// grown do.
func home(h, n uint64) uint64 { return (h & (1<<32 - 1)) * n >> 32 }

// wrap returns i modulo n, for i < 2n.
func wrap(i, n uint64) uint64 {
	if i >= n {
		i -= n
	}
	return i
}

// grown returns the size key group index i grows to from n entries:
// openMinCap, then twice n, except that at openPhaseAt entries it grows to
// twice n plus a share of that, in [0, 1), that differs by key group (the
// fractional part of its number times the golden ratio, so that any run of
// key groups spreads evenly). Key groups fill at the same pace, so arrays
// of the same size would all grow within a few records of each other and
// stall the task for as long as rehashing its whole state takes; with
// sizes out of phase, each growth moves a few key groups' share of it.
func (t *openTable[K, N, V]) grown(i, n int) int {
	switch n {
	case 0:
		return openMinCap
	case openPhaseAt:
		kg := uint64(i + t.kgs.Start)
		return 2*n + int(uint64(2*n)*(kg*0x9e3779b97f4a7c15>>32)>>32)
	}
	return 2 * n
}

// ctrlOf returns the control byte of a key of hash h. Homes use the low
// 32 bits of h, control bytes the top 7.
func ctrlOf(h uint64) uint8 { return ctrlUsed | uint8(h>>57) }

// matchByte returns the high bit of each byte of w equal to b. The lowest
// one is exact; a byte above a match may be reported falsely.
func matchByte(w uint64, b uint8) uint64 {
	x := w ^ swarLSB*uint64(b)
	return (x - swarLSB) &^ x & swarMSB
}

// matchEmpty returns the high bit of each byte of w that is ctrlEmpty. It
// is exact, as used control bytes have their high bit set.
func matchEmpty(w uint64) uint64 { return (w - swarLSB) &^ w & swarMSB }

// window returns the control bytes of the openWindow entries from pos.
func (g *openArr[K, V]) window(pos uint64) uint64 {
	return binary.LittleEndian.Uint64(g.ctrl[pos : pos+openWindow])
}

// find returns the index of the entry of key, whose hash is h, or -1.
func (g *openArr[K, V]) find(key K, h uint64) int {
	if len(g.e) == 0 {
		return -1
	}
	n, b := uint64(len(g.e)), ctrlOf(h)
	for pos := home(h, n); ; pos = wrap(pos+openWindow, n) {
		w := g.window(pos)
		for m := matchByte(w, b); m != 0; m &= m - 1 {
			if j := wrap(pos+uint64(bits.TrailingZeros64(m)/8), n); g.e[j].key == key {
				return int(j)
			}
		}
		if matchEmpty(w) != 0 {
			return -1
		}
	}
}

// setCtrl sets the control byte of entry j, and its copy past the end.
func (g *openArr[K, V]) setCtrl(j int, c uint8) {
	g.ctrl[j] = c
	if j < openWindow-1 {
		g.ctrl[len(g.e)+j] = c
	}
}

// place returns the first unused entry from the home of hash h on.
func (g *openArr[K, V]) place(h uint64) int {
	n := uint64(len(g.e))
	for pos := home(h, n); ; pos = wrap(pos+openWindow, n) {
		if m := matchEmpty(g.window(pos)); m != 0 {
			return int(wrap(pos+uint64(bits.TrailingZeros64(m)/8), n))
		}
	}
}

// lookup returns the entry of key, whose hash is h, or nil, for reading:
// it may lie in arrays a view shares.
func (g *openGroup[K, V]) lookup(key K, h uint64) *openEntry[K, V] {
	if j := g.find(key, h); j >= 0 {
		return &g.e[j]
	}
	if g.old.e != nil {
		if j := g.old.find(key, h); j >= g.mig {
			return &g.old.e[j]
		}
	}
	return nil
}

// each calls fn with every used entry of g, in both arrays, until fn
// returns false, and reports whether it did not. The entries are for
// reading.
func (g *openGroup[K, V]) each(fn func(s *openEntry[K, V]) bool) bool {
	for j, c := range g.ctrl[:len(g.e)] {
		if c != ctrlEmpty && !fn(&g.e[j]) {
			return false
		}
	}
	if o := &g.old; o.e != nil {
		for j := g.mig; j < len(o.e); j++ {
			if o.ctrl[j]&ctrlUsed != 0 && !fn(&o.e[j]) {
				return false
			}
		}
	}
	return true
}

// locate returns the index of key's entry in the new arrays of key group
// index i, or -1, for writing: a key still in the old arrays moves to the
// new ones first, out of order (both made private; the old entry is
// marked ctrlMoved, so that probes go on past it).
func (t *openTable[K, N, V]) locate(i int, key K, h uint64) int {
	g := &t.groups[i]
	if j := g.find(key, h); j >= 0 || g.old.e == nil {
		return j
	}
	s := g.old.find(key, h)
	if s < g.mig {
		return -1
	}
	t.own(i)
	o := t.ownOld(i)
	j := g.place(h)
	g.setCtrl(j, o.ctrl[s])
	g.e[j] = o.e[s]
	o.setCtrl(s, ctrlMoved)
	o.e[s] = openEntry[K, V]{}
	return j
}

// settle moves the keys of the next k entries of key group index i's
// old arrays, if it has any, making its arrays private first. Insertions
// and reads call it with migrateStep (reads too: while a group grows they
// may pay a second probe, and a group that stops taking new keys would
// otherwise keep both arrays for good); a growth, and a visit of every
// key, with all of them.
func (t *openTable[K, N, V]) settle(i, k int) {
	if t.groups[i].old.e != nil {
		t.own(i)
		t.migrate(i, k)
	}
}

// ownOld returns the old arrays of key group index i after making them
// private (a view may read them: they were the group's arrays).
func (t *openTable[K, N, V]) ownOld(i int) *openArr[K, V] {
	g := &t.groups[i]
	if !t.private(i, g.oepoch) {
		g.old.e, g.old.ctrl, g.oepoch = cloneFaulted(g.old.e), cloneFaulted(g.old.ctrl), t.epoch
	}
	return &g.old
}

// migrate moves the keys of the next k entries of key group index i's
// old arrays (all of them for k >= their length) to its arrays, which
// must be private. It only reads the old arrays, and drops them at the
// end.
func (t *openTable[K, N, V]) migrate(i, k int) {
	g := &t.groups[i]
	o := &g.old
	end := min(g.mig+k, len(o.e))
	for j := g.mig; j < end; j++ {
		if c := o.ctrl[j]; c&ctrlUsed != 0 {
			p := g.place(t.hash(o.e[j].key))
			g.setCtrl(p, c)
			g.e[p] = o.e[j]
		}
	}
	g.mig = end
	if end == len(o.e) {
		g.old, g.mig, g.oepoch = openArr[K, V]{}, 0, 0
	}
}

// read returns the entry of (kg, key), or nil, for reading (lookup),
// after moving a growing key group on (settle).
func (t *openTable[K, N, V]) read(kg int, key K) *openEntry[K, V] {
	i := t.index(kg)
	t.settle(i, t.migrateStep())
	return t.groups[i].lookup(key, t.hash(key))
}

// Get returns the value stored for (kg, key).
func (t *openTable[K, N, V]) Get(kg int, key K, _ N) (V, bool) {
	if s := t.read(kg, key); s != nil {
		return s.val, true
	}
	var zero V
	return zero, false
}

// Put stores v for (kg, key), in place when the key group's arrays are
// private.
func (t *openTable[K, N, V]) Put(kg int, key K, _ N, v V) {
	i := t.index(kg)
	h := t.hash(key)
	if j := t.locate(i, key, h); j >= 0 {
		t.own(i)[j].val = v
		return
	}
	t.insert(i, key, h).val = v
}

// Ptr returns a pointer to the value of (kg, key) in a private array. Its
// fast path, taken when the entry is within a window of its home and no
// live view shares its key group, has no call, no loop and no branch that
// depends on where the entry is. The pointer is good until the next Ptr,
// Put, Delete or SnapshotRange: an insertion may grow the arrays.
func (t *openTable[K, N, V]) Ptr(kg int, key K, _ N, create bool) (*V, bool) {
	i := t.index(kg)
	var h uint64 // t.hash(key), inlined
	switch t.kind {
	case keyString:
		h = t.hashString(key)
	case keyWords:
		h = t.hashWords(key)
	default:
		h = t.hashInt(key)
	}
	g := &t.groups[i]
	if e := g.e; len(e) > 0 {
		pos := home(h, uint64(len(e)))
		if m := matchByte(g.window(pos), ctrlOf(h)); m != 0 {
			j := wrap(pos+uint64(bits.TrailingZeros64(m)/8), uint64(len(e)))
			if s := &e[j]; s.key == key && g.epoch > t.req[i] {
				return &s.val, true
			}
		}
	}
	return t.ptrSlow(i, key, h, create)
}

// ptrSlow is Ptr after its fast path failed.
func (t *openTable[K, N, V]) ptrSlow(i int, key K, h uint64, create bool) (*V, bool) {
	if !create {
		t.settle(i, t.migrateStep()) // a read: an insertion moves some itself
	}
	if j := t.locate(i, key, h); j >= 0 {
		return &t.own(i)[j].val, true
	}
	if !create {
		return nil, false
	}
	return &t.insert(i, key, h).val, false
}

// insert adds key, which is missing, to key group index i and returns its
// entry, holding the zero value. The arrays are made private, by growing
// them when they are full and by cloning them when they are shared.
func (t *openTable[K, N, V]) insert(i int, key K, h uint64) *openEntry[K, V] {
	g := &t.groups[i]
	if (g.n+1)*openLoadDen > len(g.e)*openLoadNum {
		t.grow(i)
	} else {
		t.own(i)
		t.settle(i, t.migrateStep())
	}
	j := g.place(h)
	g.setCtrl(j, ctrlOf(h))
	g.n++
	s := &g.e[j]
	s.key = key
	if invariants && len(g.e) <= openCheckMax {
		t.check(i)
	}
	return s
}

// grow replaces the arrays of key group index i by larger private ones
// (see grown). It only reads the old arrays, which may be shared with a
// view. From openIncrementalFrom bytes, it keeps them as the group's old
// arrays and moves the keys of the first migrateStep entries; insertions
// and reads move the rest (see migrate, settle).
func (t *openTable[K, N, V]) grow(i int) {
	g := &t.groups[i]
	t.settle(i, len(g.old.e)) // the last growth's moves, if not done
	n := t.grown(i, len(g.e))
	ng := openGroup[K, V]{
		openArr: openArr[K, V]{e: makeFaulted[openEntry[K, V]](n), ctrl: makeFaulted[uint8](n + openWindow - 1)},
		n:       g.n,
		epoch:   t.epoch,
	}
	if len(g.e)*int(unsafe.Sizeof(openEntry[K, V]{})) >= openIncrementalFrom {
		ng.old, ng.oepoch = g.openArr, g.epoch
		*g = ng
		t.migrate(i, t.migrateStep())
		return
	}
	for j, c := range g.ctrl[:len(g.e)] {
		if c != ctrlEmpty {
			k := ng.place(t.hash(g.e[j].key))
			ng.setCtrl(k, c)
			ng.e[k] = g.e[j]
		}
	}
	*g = ng
}

// own returns the entries of key group index i after making its arrays
// private: the first write after a snapshot clones them, with the same
// layout, so that indexes found before stay valid.
func (t *openTable[K, N, V]) own(i int) []openEntry[K, V] {
	g := &t.groups[i]
	if !t.private(i, g.epoch) {
		g.e, g.ctrl, g.epoch = cloneFaulted(g.e), cloneFaulted(g.ctrl), t.epoch
	}
	return g.e
}

// Delete removes (kg, key): it empties the entry and shifts later entries
// of the probe chain back into the hole while their home allows it, so
// that every chain stays unbroken without tombstones.
func (t *openTable[K, N, V]) Delete(kg int, key K, _ N) { t.remove(kg, key) }

// remove is Delete that returns the value it removed, if any.
func (t *openTable[K, N, V]) remove(kg int, key K) (v V, ok bool) {
	i := t.index(kg)
	j := t.locate(i, key, t.hash(key))
	if j < 0 {
		return v, false
	}
	return t.removeAt(i, j), true
}

// removeAt removes entry j of key group index i, which is used, and
// returns its value.
func (t *openTable[K, N, V]) removeAt(i, j int) (v V) {
	e, g := t.own(i), &t.groups[i]
	v = e[j].val
	n := len(e)
	for k := j; ; {
		if k++; k == n {
			k = 0
		}
		if g.ctrl[k] == ctrlEmpty {
			break
		}
		// e[k] may fill the hole at j iff j lies on its way from its home
		// to k, that is if its home is at least as far from k as j.
		if h := home(t.hash(e[k].key), uint64(n)); wrap(uint64(k+n)-h, uint64(n)) >= wrap(uint64(k-j+n), uint64(n)) {
			g.setCtrl(j, g.ctrl[k])
			e[j], j = e[k], k
		}
	}
	g.setCtrl(j, ctrlEmpty)
	e[j] = openEntry[K, V]{}
	g.n--
	if invariants && len(g.e) <= openCheckMax {
		t.check(i)
	}
	return v
}

// Sweep implements Sweeper: one pass over the entries of key group kg
// (finishing a growth first, and cloning the arrays if a view shares
// them). When fn removed some, the key group's arrays are rebuilt from the
// entries kept, in a scratch copy, instead of shifting probe chains back
// once per removal.
func (t *openTable[K, N, V]) Sweep(kg int, fn func(key K, ns N, v *V) bool) {
	i := t.index(kg)
	t.settle(i, len(t.groups[i].old.e))
	g := &t.groups[i]
	if g.n == 0 {
		return
	}
	e := t.own(i)
	removed := 0
	var ns N
	for j, c := range g.ctrl[:len(e)] {
		if c != ctrlEmpty && fn(e[j].key, ns, &e[j].val) {
			g.setCtrl(j, ctrlMoved) // removed: dropped by the rebuild below
			removed++
		}
	}
	if removed == 0 {
		return
	}
	kept := t.sweepScratch[:0]
	for j, c := range g.ctrl[:len(e)] {
		if c&ctrlUsed != 0 {
			kept = append(kept, e[j])
		}
	}
	clear(e)
	clear(g.ctrl)
	for _, s := range kept {
		h := t.hash(s.key)
		j := g.place(h)
		g.setCtrl(j, ctrlOf(h))
		e[j] = s
	}
	g.n = len(kept)
	clear(kept)
	t.sweepScratch = kept[:0]
	if invariants && len(g.e) <= openCheckMax {
		t.check(i)
	}
}

// Namespaces calls fn with Void and the value of (kg, key) if it exists.
func (t *openTable[K, N, V]) Namespaces(kg int, key K, fn func(ns N, v V) bool) {
	if s := t.read(kg, key); s != nil {
		fn(*new(N), s.val)
	}
}

// Len is the number of entries in key group kg.
func (t *openTable[K, N, V]) Len(kg int) int { return t.groups[t.index(kg)].n }

// SnapshotRange returns a view of the key groups in r in O(r.Len()).
func (t *openTable[K, N, V]) SnapshotRange(r KeyGroupRange) TableView {
	h := t.share(r)
	start := r.Start - t.kgs.Start
	return &openView[K, N, V]{viewHdr: h, groups: slices.Clone(t.groups[start : start+r.Len()])}
}

// openCheckMax bounds the key groups the invariants build checks after
// every insertion and deletion, so that it stays O(1) per operation.
const openCheckMax = 256

// check panics unless key group index i is well formed: the sizes fit, n
// counts the used entries, unused entries are zero, control bytes and
// their copies agree with the keys, and every key is unique and found
// where it is. It costs O(entries): tests and the invariants build call it.
func (t *openTable[K, N, V]) check(i int) {
	g := &t.groups[i]
	kg, used := i+t.kgs.Start, 0
	if len(g.e) > 0 && (len(g.e) < openMinCap || len(g.ctrl) != len(g.e)+openWindow-1) {
		panic(fmt.Sprintf("weir/statebackend: key group %d: %d entries, %d control bytes", kg, len(g.e), len(g.ctrl)))
	}
	for j := range g.e {
		c, k := g.ctrl[j], g.e[j].key
		switch {
		case j < openWindow-1 && g.ctrl[len(g.e)+j] != c:
			panic(fmt.Sprintf("weir/statebackend: key group %d: control byte %d not repeated", kg, j))
		case c == ctrlEmpty && k != *new(K):
			panic(fmt.Sprintf("weir/statebackend: key group %d: unused entry %d holds key %v", kg, j, k))
		case c == ctrlEmpty:
		case c != ctrlOf(t.hash(k)):
			panic(fmt.Sprintf("weir/statebackend: key group %d: entry %d: control byte %#x for key %v", kg, j, c, k))
		case g.find(k, t.hash(k)) != j:
			panic(fmt.Sprintf("weir/statebackend: key group %d: key %v of entry %d found at %d", kg, k, j, g.find(k, t.hash(k))))
		case g.old.e != nil && g.old.find(k, t.hash(k)) >= g.mig:
			panic(fmt.Sprintf("weir/statebackend: key group %d: key %v of entry %d is in the old arrays too", kg, k, j))
		default:
			used++
		}
	}
	used += t.checkOld(i)
	if used != g.n || used*openLoadDen > len(g.e)*openLoadNum {
		panic(fmt.Sprintf("weir/statebackend: key group %d: %d used of %d entries, counted %d", kg, used, len(g.e), g.n))
	}
}

// checkOld panics unless the old arrays of key group index i, if any, are
// well formed, and returns the number of keys still in them.
func (t *openTable[K, N, V]) checkOld(i int) (used int) {
	g := &t.groups[i]
	o, kg := &g.old, i+t.kgs.Start
	if o.e == nil {
		if g.mig != 0 || o.ctrl != nil {
			panic(fmt.Sprintf("weir/statebackend: key group %d: no old arrays, moved up to %d", kg, g.mig))
		}
		return 0
	}
	if len(o.ctrl) != len(o.e)+openWindow-1 || g.mig < 0 || g.mig >= len(o.e) || len(g.e) < 2*len(o.e) {
		panic(fmt.Sprintf("weir/statebackend: key group %d: old arrays of %d entries, %d control bytes, moved up to %d, new %d", kg, len(o.e), len(o.ctrl), g.mig, len(g.e)))
	}
	for j := g.mig; j < len(o.e); j++ {
		c, k := o.ctrl[j], o.e[j].key
		switch {
		case j < openWindow-1 && o.ctrl[len(o.e)+j] != c:
			panic(fmt.Sprintf("weir/statebackend: key group %d: old control byte %d not repeated", kg, j))
		case (c == ctrlEmpty || c == ctrlMoved) && k != *new(K):
			panic(fmt.Sprintf("weir/statebackend: key group %d: unused or moved old entry %d holds key %v", kg, j, k))
		case c == ctrlEmpty || c == ctrlMoved:
		case c != ctrlOf(t.hash(k)):
			panic(fmt.Sprintf("weir/statebackend: key group %d: old entry %d: control byte %#x for key %v", kg, j, c, k))
		case o.find(k, t.hash(k)) != j:
			panic(fmt.Sprintf("weir/statebackend: key group %d: key %v of old entry %d found at %d", kg, k, j, o.find(k, t.hash(k))))
		default:
			used++
		}
	}
	return used
}

// openView is a view of an openTable: the arrays and entry counts the key
// groups had when it was taken, which the table never writes again while
// the view is live.
type openView[K comparable, N comparable, V any] struct {
	*viewHdr
	groups []openGroup[K, V]
}

// Len is the number of entries of key group kg in the view.
func (v *openView[K, N, V]) Len(kg int) int { return v.groups[v.index(kg)].n }

// ForEach calls fn for each entry of key group kg in the view.
func (v *openView[K, N, V]) ForEach(kg int, fn func(key, ns, value any) bool) {
	var ns any = *new(N)
	v.groups[v.index(kg)].each(func(s *openEntry[K, V]) bool { return fn(s.key, ns, s.val) })
}
