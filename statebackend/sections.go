package statebackend

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// SectionEncoder is implemented by the heap backend's views: they encode a
// key group's entries in the plain encoding of the byte backends
// (kvCodec), with no boxing, reflection or allocation per entry, where
// ForEach hands out boxed values for encoding/gob. Persisting a 500 MB
// table through gob took seconds per checkpoint.
//
// A section is the entries one after another, each its key's plain
// encoding, its namespace's (omitted when N is Void), the uvarint length
// of its value's encoding and that encoding. Keys and namespaces are
// self-delimiting; values need the length (a string value is its bytes).
type SectionEncoder interface {
	// SectionSchema names the encoding of the view's keys, namespaces and
	// values, or is "" when they have none (a key, namespace or value type
	// with no plain encoding, such as a map or an interface): then the
	// view's entries must be written through ForEach.
	SectionSchema() string
	// AppendSection appends the section of key group kg to dst.
	AppendSection(dst []byte, kg int) ([]byte, error)
}

// entryCodecs are the codecs of a table's keys, namespaces and values for
// sections, built once per type triple.
type entryCodecs struct {
	k, n, v *kvCodec
	void    bool
	schema  string // "" if the types have no plain encoding
}

var sectionCodecs sync.Map // [3]reflect.Type → *entryCodecs

// codecsOf returns the section codecs of K, N and V.
func codecsOf[K comparable, N comparable, V any]() *entryCodecs {
	ts := [3]reflect.Type{reflect.TypeFor[K](), reflect.TypeFor[N](), reflect.TypeFor[V]()}
	if c, ok := sectionCodecs.Load(ts); ok {
		return c.(*entryCodecs)
	}
	c := &entryCodecs{}
	_, c.void = any(*new(N)).(Void)
	k, errK := keyCodec(ts[0])
	n, errN := keyCodec(ts[1])
	v := valueCodec(ts[2])
	// a gob value is a whole gob stream, type description included, per
	// entry: a table of them is written as one gob stream instead
	if errK == nil && errN == nil && v.schema != "gob" {
		c.k, c.n, c.v = k, n, v
		c.schema = "plain1 k=" + k.schema + " v=" + v.schema
		if !c.void {
			c.schema = "plain1 k=" + k.schema + " n=" + n.schema + " v=" + v.schema
		}
	}
	got, _ := sectionCodecs.LoadOrStore(ts, c)
	return got.(*entryCodecs)
}

// errNoPlain is the error of appending a section for types with no plain
// encoding (a caller bug: SectionSchema said "").
var errNoPlain = errors.New("weir/statebackend: the table's types have no plain encoding")

// appendEntry appends one entry of a section to dst; n is ignored for
// Void tables.
func (c *entryCodecs) appendEntry(dst []byte, k, n, v unsafe.Pointer) ([]byte, error) {
	dst, err := c.appendKey(dst, k, n)
	if err != nil {
		return dst, err
	}
	// the value goes after room for its length, which is then moved up
	// against it if it took fewer bytes than reserved
	const room = binary.MaxVarintLen32
	at := len(dst)
	dst = append(dst, make([]byte, room)...)
	if dst, err = c.v.enc(dst, v); err != nil {
		return dst, err
	}
	size := len(dst) - at - room
	if size > 1<<31 {
		return dst, fmt.Errorf("weir/statebackend: a value of %d bytes", size)
	}
	var l [room]byte
	w := binary.PutUvarint(l[:], uint64(size))
	copy(dst[at+w:], dst[at+room:])
	copy(dst[at:], l[:w])
	return dst[:at+w+size], nil
}

// appendKey appends the key and, unless the table is Void, the namespace
// of an entry to dst.
func (c *entryCodecs) appendKey(dst []byte, k, n unsafe.Pointer) ([]byte, error) {
	if c.schema == "" {
		return dst, errNoPlain
	}
	dst, err := c.k.enc(dst, k)
	if err == nil && !c.void {
		dst, err = c.n.enc(dst, n)
	}
	return dst, err
}

// appendEntries appends the section of key group kg of a view whose
// entries yields them.
func appendEntries[K comparable, N comparable, V any](dst []byte, kg int, entries func(kg int, fn func(k *K, n *N, v *V) bool)) ([]byte, error) {
	c := codecsOf[K, N, V]()
	var err error
	entries(kg, func(k *K, n *N, v *V) bool {
		dst, err = c.appendEntry(dst, unsafe.Pointer(k), unsafe.Pointer(n), unsafe.Pointer(v))
		return err == nil
	})
	return dst, err
}

// The views' sections. Each view yields its entries typed (entries), by
// pointers into memory the table no longer writes, or into variables
// reused from one entry to the next. Views that embed another view
// (slab, nested open) define both methods, so that the embedded view's,
// which would encode its own entry type, are not promoted.

var (
	_ SectionEncoder = (*openView[int, Void, int])(nil)
	_ SectionEncoder = (*slabView[int, Void, int])(nil)
	_ SectionEncoder = (*nestOpenView[int, int, int])(nil)
	_ SectionEncoder = (*flatView[int, Void, int])(nil)
	_ SectionEncoder = (*nestView[int, int, int])(nil)
	_ SectionEncoder = (*packedView[int, Void, int])(nil)
)

func (v *openView[K, N, V]) SectionSchema() string { return codecsOf[K, N, V]().schema }
func (v *openView[K, N, V]) AppendSection(dst []byte, kg int) ([]byte, error) {
	return appendEntries(dst, kg, v.entries)
}
func (v *openView[K, N, V]) entries(kg int, fn func(*K, *N, *V) bool) {
	var ns N
	v.groups[v.index(kg)].each(func(s *openEntry[K, V]) bool { return fn(&s.key, &ns, &s.val) })
}

func (v *slabView[K, N, V]) SectionSchema() string { return codecsOf[K, N, V]().schema }
func (v *slabView[K, N, V]) AppendSection(dst []byte, kg int) ([]byte, error) {
	return appendEntries(dst, kg, v.entries)
}
func (v *slabView[K, N, V]) entries(kg int, fn func(*K, *N, *V) bool) {
	chunks := v.chunks[v.index(kg)]
	v.openView.entries(kg, func(k *K, ns *N, slot *uint32) bool {
		return fn(k, ns, &chunks[*slot>>slabShift].v[*slot&(slabChunkLen-1)])
	})
}

func (v *nestOpenView[K, N, V]) SectionSchema() string { return codecsOf[K, N, V]().schema }
func (v *nestOpenView[K, N, V]) AppendSection(dst []byte, kg int) ([]byte, error) {
	return appendEntries(dst, kg, v.entries)
}
func (v *nestOpenView[K, N, V]) entries(kg int, fn func(*K, *N, *V) bool) {
	v.groups[v.index(kg)].each(func(s *openEntry[K, nsList[N, V]]) bool {
		l := &s.val
		if !fn(&s.key, &l.ns, &l.v) {
			return false
		}
		for j := range l.more {
			if !fn(&s.key, &l.more[j].ns, &l.more[j].v) {
				return false
			}
		}
		return true
	})
}

func (v *flatView[K, N, V]) SectionSchema() string { return codecsOf[K, N, V]().schema }
func (v *flatView[K, N, V]) AppendSection(dst []byte, kg int) ([]byte, error) {
	return appendEntries(dst, kg, v.entries)
}
func (v *flatView[K, N, V]) entries(kg int, fn func(*K, *N, *V) bool) {
	var key K
	var ns N
	for k, s := range v.maps[v.index(kg)] {
		if key = k; !fn(&key, &ns, &s.v) {
			return
		}
	}
}

func (v *nestView[K, N, V]) SectionSchema() string { return codecsOf[K, N, V]().schema }
func (v *nestView[K, N, V]) AppendSection(dst []byte, kg int) ([]byte, error) {
	return appendEntries(dst, kg, v.entries)
}
func (v *nestView[K, N, V]) entries(kg int, fn func(*K, *N, *V) bool) {
	var key K
	var ns N
	for k, nm := range v.maps[v.index(kg)] {
		key = k
		for n, s := range nm.m {
			if ns = n; !fn(&key, &ns, &s.v) {
				return
			}
		}
	}
}

// packedEntries is the view of a packed table's index.
type packedEntries[K comparable, N comparable] interface {
	entries(kg int, fn func(*K, *N, *packedRef) bool)
}

func (v *packedView[K, N, V]) SectionSchema() string { return codecsOf[K, N, V]().schema }
func (v *packedView[K, N, V]) AppendSection(dst []byte, kg int) ([]byte, error) {
	c := codecsOf[K, N, V]()
	if c.schema == "" || reflect.TypeFor[V]().Kind() == reflect.String {
		return appendEntries(dst, kg, v.entries)
	}
	// The arena holds the values in the plain encoding of values already
	// (a packed table's codec differs from the section's only in how it
	// decodes strings, and for a string value, which is the one kind
	// whose section encoding has no length): copy them.
	a := v.arena(kg)
	var err error
	v.TableView.(packedEntries[K, N]).entries(kg, func(k *K, ns *N, r *packedRef) bool {
		if dst, err = c.appendKey(dst, unsafe.Pointer(k), unsafe.Pointer(ns)); err == nil {
			b := a.bytes(*r)
			dst = append(binary.AppendUvarint(dst, uint64(len(b))), b...)
		}
		return err == nil
	})
	return dst, err
}

// arena returns the arena of key group kg, or nil if kg is outside the
// view (whose index view then panics, naming kg).
func (v *packedView[K, N, V]) arena(kg int) *arena {
	if r := v.Range(); r.Contains(kg) {
		return &v.arenas[kg-r.Start]
	}
	return nil
}
func (v *packedView[K, N, V]) entries(kg int, fn func(*K, *N, *V) bool) {
	a := v.arena(kg)
	var val V
	v.TableView.(packedEntries[K, N]).entries(kg, func(k *K, ns *N, r *packedRef) bool {
		val = *new(V)
		v.t.decodeInto(a, *r, &val)
		return fn(k, ns, &val)
	})
}

// decodeSection calls put with every entry of a section of K, N and V
// written with schema.
func decodeSection[K comparable, N comparable, V any](data []byte, schema string, put func(k K, n N, v V)) error {
	c := codecsOf[K, N, V]()
	if c.schema != schema {
		return fmt.Errorf("written as %q, opened as %q", schema, c.schema)
	}
	// one set of variables for all entries: each escapes (its address goes
	// to a codec), so a set per entry would be allocated per entry
	var k K
	var n N
	var v V
	for off := 0; off < len(data); {
		k, n, v = *new(K), *new(N), *new(V)
		rest, err := c.k.dec(data[off:], unsafe.Pointer(&k))
		if err == nil && !c.void {
			rest, err = c.n.dec(rest, unsafe.Pointer(&n))
		}
		if err != nil {
			return fmt.Errorf("entry at byte %d: %w", off, err)
		}
		size, w := binary.Uvarint(rest)
		if w <= 0 || size > uint64(len(rest)-w) {
			return fmt.Errorf("entry at byte %d: bad value length", off)
		}
		if err := c.v.decodeAll(rest[w:w+int(size)], unsafe.Pointer(&v)); err != nil {
			return fmt.Errorf("entry at byte %d: %w", off, err)
		}
		put(k, n, v)
		off = len(data) - len(rest) + w + int(size)
	}
	return nil
}
