package statebackend

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"unsafe"
)

// KVHeaderLen is the length of the key group and table id that start every
// key of a byte backend.
const KVHeaderLen = 6

// MaxKVKeyGroups is the largest MaxParallelism a byte backend supports: a
// key group takes 2 bytes, and so does the exclusive end of a range.
const MaxKVKeyGroups = 1<<16 - 1

// AppendKVKeyGroup appends the 2-byte prefix of the keys of key group kg,
// which is also the exclusive upper bound of the keys of kg-1.
func AppendKVKeyGroup(dst []byte, kg int) []byte {
	return binary.BigEndian.AppendUint16(dst, uint16(kg))
}

// AppendKVHeader appends the prefix of the keys of table id in key group kg.
func AppendKVHeader(dst []byte, kg int, id uint32) []byte {
	return binary.BigEndian.AppendUint32(AppendKVKeyGroup(dst, kg), id)
}

// ParseKVHeader returns the key group and table id a key starts with; ok is
// false if the key is shorter than KVHeaderLen.
func ParseKVHeader(key []byte) (kg int, id uint32, ok bool) {
	if len(key) < KVHeaderLen {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint16(key)), binary.BigEndian.Uint32(key[2:]), true
}

// KVReader reads entries of a byte store or of a snapshot of one.
type KVReader interface {
	// Scan calls fn, in key order, for each entry whose key starts with
	// prefix, until fn returns false. key and value are valid during the
	// call only. fn may read the store but not write it.
	Scan(prefix []byte, fn func(key, value []byte) bool) error
}

// KVStore is the byte interface of a KVBackend. Like a table, it is used
// by the task's goroutine.
type KVStore interface {
	KVReader
	// Get appends the value of key to buf and returns it; found is false if
	// there is none.
	Get(key, buf []byte) (value []byte, found bool, err error)
	// Set stores value under key; the store copies both.
	Set(key, value []byte) error
	// Delete removes key; deleting a missing key is no error.
	Delete(key []byte) error
}

// KVTable is the untyped side of a table that Open made for a KVBackend:
// what the backend needs to list, snapshot and check it.
type KVTable interface {
	// Name is the name the table was opened with.
	Name() string
	// ID is the table id in the keys, the one the backend assigned.
	ID() uint32
	// Schema describes the encodings of the table's key, namespace and
	// value types; state written with one schema cannot be read with
	// another.
	Schema() string
	// Decode decodes an entry of the table (a whole key, header included)
	// into boxed K, N and V values. It may be called from any goroutine.
	Decode(key, value []byte) (k, ns, v any, err error)
	// Err returns the first error the table met (see KVBackend).
	Err() error
}

// KVBackend is implemented by byte backends (pebblestate): they store
// entries as byte keys and values, and Open (which checks for KVBackend
// before TableOpener) gives them a table that encodes the Go values with
// codecs chosen once per table type. A key is
//
//	key group (2 bytes, big-endian) | table id (4 bytes, big-endian) | key | namespace
//
// so that the entries of a key group, and of a table within it, are one
// contiguous key range, and the entries of one key are one range within
// that: a backend copies key groups by range, and Namespaces is a prefix
// scan.
//
// Codecs. Keys and namespaces have a plain encoding: integers, floats,
// bools, strings, and arrays and structs of them (unexported fields
// included); a key or namespace type containing a map, pointer, interface,
// slice, channel or function cannot be opened. The plain encoding is
// deterministic across processes, which keys need and encoding/gob is not
// (gob numbers types in the order a process first meets them). Values use
// the plain encoding too when their type has one (slices allowed, a string
// value is its bytes), and encoding/gob otherwise: gob needs exported
// fields (others are lost), gob.Register for the concrete types of
// interface values, and turns empty maps and slices in structs into nil
// ones. The plain encoding is positional: the schema of a table (a
// description of its key, namespace and value encodings, field names
// included) changes with its types, and the backend refuses to open a
// restored table with another schema; gob values are described as "gob",
// since gob matches fields by name and tolerates added or removed ones.
//
// Errors. Table methods return no errors, so a table of a KVBackend
// records the first error of its store or codecs (an I/O error, corrupt
// data, a value gob cannot encode) and goes on: a failed Get reports a
// miss, a failed Put or Delete is lost. The error is sticky and is returned
// by the table's Err method (the table implements interface{ Err() error })
// and by the backend's next Snapshot, so the checkpoint fails and the job
// restarts from the last completed one.
type KVBackend interface {
	Backend
	KVStore
	// OpenKV returns the table registered under name, creating it with
	// newTable, passing the table id the backend assigns, if it does not
	// exist yet. schema is the table's KVTable.Schema; if the backend holds
	// restored state of the table written with another schema, OpenKV
	// fails. After Close it returns an error wrapping ErrClosed.
	OpenKV(name, schema string, newTable func(id uint32) KVTable) (KVTable, error)
}

// openKV opens table name of a byte backend.
func openKV[K comparable, N comparable, V any](b KVBackend, name string) (Table[K, N, V], error) {
	info := b.Info()
	if name == "" {
		return nil, errors.New("weir/statebackend: empty table name")
	}
	kc, err := keyCodec(reflect.TypeFor[K]())
	if err != nil {
		return nil, fmt.Errorf("weir/statebackend: table %q of %s: key type: %w", name, info.Operator, err)
	}
	nc, err := keyCodec(reflect.TypeFor[N]())
	if err != nil {
		return nil, fmt.Errorf("weir/statebackend: table %q of %s: namespace type: %w", name, info.Operator, err)
	}
	vc := valueCodec(reflect.TypeFor[V]())
	schema := fmt.Sprintf("key=%s ns=%s value=%s", kc.schema, nc.schema, vc.schema)
	t, err := b.OpenKV(name, schema, func(id uint32) KVTable {
		return &kvTable[K, N, V]{store: b, info: info, name: name, id: id, schema: schema, kc: kc, nc: nc, vc: vc}
	})
	if err != nil {
		return nil, err
	}
	tt, ok := t.(Table[K, N, V])
	if !ok {
		return nil, fmt.Errorf("weir/statebackend: table %q of %s opened with another type (%T)", name, info.Operator, t)
	}
	return tt, nil
}

// kvTable is the Table of a byte backend. The scratch fields make the
// encoders' unsafe pointers point into the table, which is on the heap
// already, rather than at arguments that would escape.
type kvTable[K comparable, N comparable, V any] struct {
	store      KVStore
	info       TaskInfo
	name       string
	id         uint32
	schema     string
	kc, nc, vc *kvCodec
	err        error

	key, val, get []byte // encoded key and value of the current call; Get's result
	k             K
	n             N
	v             V
}

var _ Table[int, Void, int] = (*kvTable[int, Void, int])(nil)

// Name implements KVTable.
func (t *kvTable[K, N, V]) Name() string { return t.name }

// ID implements KVTable.
func (t *kvTable[K, N, V]) ID() uint32 { return t.id }

// Schema implements KVTable.
func (t *kvTable[K, N, V]) Schema() string { return t.schema }

// Err returns the first error the table met, or nil.
func (t *kvTable[K, N, V]) Err() error { return t.err }

func (t *kvTable[K, N, V]) fail(op string, err error) {
	if t.err == nil {
		t.err = fmt.Errorf("weir/statebackend: %s in table %q of %s: %w", op, t.name, t.info.Operator, err)
	}
}

// prefix appends the prefix of the entries of key in key group kg, panicking
// on a key group outside the table's (a caller bug, as in the heap table).
func (t *kvTable[K, N, V]) prefix(dst []byte, kg int, key K) []byte {
	if !t.info.KeyGroups.Contains(kg) {
		panic(fmt.Sprintf("weir/statebackend: key group %d outside %v of operator %s", kg, t.info.KeyGroups, t.info.Operator))
	}
	t.k = key
	dst, _ = t.kc.enc(AppendKVHeader(dst, kg, t.id), unsafe.Pointer(&t.k)) // plain codecs never fail
	t.k = *new(K)
	return dst
}

// encodeKey sets t.key to the key of (kg, key, ns).
func (t *kvTable[K, N, V]) encodeKey(kg int, key K, ns N) {
	t.n = ns
	t.key, _ = t.nc.enc(t.prefix(t.key[:0], kg, key), unsafe.Pointer(&t.n))
	t.n = *new(N)
}

// Get returns the value stored for (kg, key, ns).
func (t *kvTable[K, N, V]) Get(kg int, key K, ns N) (V, bool) {
	var zero V
	t.encodeKey(kg, key, ns)
	val, found, err := t.store.Get(t.key, t.get[:0])
	if err != nil {
		t.fail("get", err)
		return zero, false
	}
	t.get = val
	if !found {
		return zero, false
	}
	err = t.vc.decodeAll(val, unsafe.Pointer(&t.v))
	v := t.v
	t.v = zero
	if err != nil {
		t.fail("decode value", err)
		return zero, false
	}
	return v, true
}

// Put stores v for (kg, key, ns).
func (t *kvTable[K, N, V]) Put(kg int, key K, ns N, v V) {
	t.encodeKey(kg, key, ns)
	t.v = v
	val, err := t.vc.enc(t.val[:0], unsafe.Pointer(&t.v))
	t.v = *new(V)
	if err != nil {
		t.fail("encode value", err)
		return
	}
	t.val = val
	if err := t.store.Set(t.key, val); err != nil {
		t.fail("put", err)
	}
}

// Delete removes (kg, key, ns).
func (t *kvTable[K, N, V]) Delete(kg int, key K, ns N) {
	t.encodeKey(kg, key, ns)
	if err := t.store.Delete(t.key); err != nil {
		t.fail("delete", err)
	}
}

// Namespaces calls fn for each namespace of (kg, key) until fn returns
// false: a scan of the key's prefix, in the order of the encoded
// namespaces.
func (t *kvTable[K, N, V]) Namespaces(kg int, key K, fn func(ns N, v V) bool) {
	pfx := t.prefix(make([]byte, 0, 32), kg, key)
	var derr error
	err := t.store.Scan(pfx, func(k, val []byte) bool {
		var n N
		var v V
		if err := t.nc.decodeAll(k[len(pfx):], unsafe.Pointer(&n)); err != nil {
			derr = fmt.Errorf("decode namespace: %w", err)
			return false
		}
		if err := t.vc.decodeAll(val, unsafe.Pointer(&v)); err != nil {
			derr = fmt.Errorf("decode value: %w", err)
			return false
		}
		return fn(n, v)
	})
	if err = cmp.Or(err, derr); err != nil {
		t.fail("namespaces", err)
	}
}

// Len is the number of entries in key group kg: a scan of the key group,
// O(entries), unlike the heap table's.
func (t *kvTable[K, N, V]) Len(kg int) int {
	if !t.info.KeyGroups.Contains(kg) {
		panic(fmt.Sprintf("weir/statebackend: key group %d outside %v of operator %s", kg, t.info.KeyGroups, t.info.Operator))
	}
	n := 0
	err := t.store.Scan(AppendKVHeader(make([]byte, 0, KVHeaderLen), kg, t.id), func(_, _ []byte) bool { n++; return true })
	if err != nil {
		t.fail("len", err)
	}
	return n
}

// Decode implements KVTable.
func (t *kvTable[K, N, V]) Decode(key, value []byte) (any, any, any, error) {
	if _, id, ok := ParseKVHeader(key); !ok || id != t.id {
		return nil, nil, nil, fmt.Errorf("weir/statebackend: key %x is not one of table %q", key, t.name)
	}
	var k K
	var n N
	var v V
	rest, err := t.kc.dec(key[KVHeaderLen:], unsafe.Pointer(&k))
	if err == nil {
		err = t.nc.decodeAll(rest, unsafe.Pointer(&n))
	}
	if err == nil {
		err = t.vc.decodeAll(value, unsafe.Pointer(&v))
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("weir/statebackend: decode entry of table %q: %w", t.name, err)
	}
	return k, n, v, nil
}

// NewKVTableSnapshot returns the TableSnapshot of table t over the entries
// r reads (a snapshot of t's store), for the key groups in kgs. Reading a
// key group outside kgs is a caller bug and panics. An error of r or of
// decoding ends ForEach or Len early and is passed to onErr.
func NewKVTableSnapshot(r KVReader, t KVTable, kgs KeyGroupRange, onErr func(error)) TableSnapshot {
	return &kvView{r: r, t: t, kgs: kgs, onErr: onErr}
}

// kvView is the TableSnapshot of a byte table.
type kvView struct {
	r     KVReader
	t     KVTable
	kgs   KeyGroupRange
	onErr func(error)
}

func (v *kvView) prefix(kg int) []byte {
	if !v.kgs.Contains(kg) {
		panic(fmt.Sprintf("weir/statebackend: key group %d outside snapshot %v of table %q", kg, v.kgs, v.t.Name()))
	}
	return AppendKVHeader(make([]byte, 0, KVHeaderLen), kg, v.t.ID())
}

// ForEach implements TableSnapshot, in key order.
func (v *kvView) ForEach(kg int, fn func(key, ns, value any) bool) {
	var derr error
	err := v.r.Scan(v.prefix(kg), func(key, val []byte) bool {
		k, n, x, err := v.t.Decode(key, val)
		if err != nil {
			derr = err
			return false
		}
		return fn(k, n, x)
	})
	if err = cmp.Or(err, derr); err != nil {
		v.onErr(err)
	}
}

// Len implements TableSnapshot with a scan of the key group.
func (v *kvView) Len(kg int) int {
	n := 0
	if err := v.r.Scan(v.prefix(kg), func(_, _ []byte) bool { n++; return true }); err != nil {
		v.onErr(err)
	}
	return n
}
