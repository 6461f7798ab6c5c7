package statebackend_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/statetest"
)

// kvFactory makes mapKV backends: a plain map as a byte store, so that the
// byte tables and codecs of Open are tested without Pebble.
type kvFactory struct{}

func (kvFactory) NewBackend(info statebackend.TaskInfo) (statebackend.Backend, error) {
	if info.MaxParallelism == 0 {
		info.MaxParallelism = statebackend.DefaultMaxParallelism
	}
	return &mapKV{info: info, kv: sortedKV{data: map[string][]byte{}}, tables: map[string]statebackend.KVTable{}}, nil
}

// sortedKV is a map with its keys in order.
type sortedKV struct {
	data map[string][]byte
	keys []string // sorted
}

func (s *sortedKV) clone() *sortedKV {
	return &sortedKV{data: maps.Clone(s.data), keys: slices.Clone(s.keys)}
}

func (s *sortedKV) Scan(prefix []byte, fn func(key, value []byte) bool) error {
	i, _ := slices.BinarySearch(s.keys, string(prefix))
	for ; i < len(s.keys) && strings.HasPrefix(s.keys[i], string(prefix)); i++ {
		if !fn([]byte(s.keys[i]), s.data[s.keys[i]]) {
			break
		}
	}
	return nil
}

// mapKV is a KVBackend over a sortedKV; snapshots copy it.
type mapKV struct {
	info   statebackend.TaskInfo
	mu     sync.Mutex // guards tables and closed
	kv     sortedKV
	tables map[string]statebackend.KVTable
	closed bool
}

func (m *mapKV) Info() statebackend.TaskInfo { return m.info }

func (m *mapKV) OpenKV(name, _ string, newTable func(uint32) statebackend.KVTable) (statebackend.KVTable, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, statebackend.ErrClosed
	}
	if t, ok := m.tables[name]; ok {
		return t, nil
	}
	t := newTable(uint32(len(m.tables)) + 1000)
	m.tables[name] = t
	return t, nil
}

func (m *mapKV) Get(key, buf []byte) ([]byte, bool, error) {
	v, ok := m.kv.data[string(key)]
	return append(buf, v...), ok, nil
}

func (m *mapKV) Set(key, value []byte) error {
	if i, found := slices.BinarySearch(m.kv.keys, string(key)); !found {
		m.kv.keys = slices.Insert(m.kv.keys, i, string(key))
	}
	m.kv.data[string(key)] = bytes.Clone(value)
	return nil
}

func (m *mapKV) Delete(key []byte) error {
	if i, found := slices.BinarySearch(m.kv.keys, string(key)); found {
		m.kv.keys = slices.Delete(m.kv.keys, i, i+1)
	}
	delete(m.kv.data, string(key))
	return nil
}

func (m *mapKV) Scan(prefix []byte, fn func(key, value []byte) bool) error {
	return m.kv.Scan(prefix, fn)
}

func (m *mapKV) Snapshot(r statebackend.KeyGroupRange) (statebackend.Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, statebackend.ErrClosed
	}
	if r.End < r.Start || r.Start < m.info.KeyGroups.Start || r.End > m.info.KeyGroups.End {
		return nil, fmt.Errorf("range %v outside %v", r, m.info.KeyGroups)
	}
	s := &mapSnap{kv: m.kv.clone(), views: map[string]statebackend.TableSnapshot{}}
	for name, t := range m.tables {
		s.views[name] = statebackend.NewKVTableSnapshot(s, t, r, func(err error) { panic(err) })
	}
	return s, nil
}

func (m *mapKV) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

type mapSnap struct {
	kv    *sortedKV
	views map[string]statebackend.TableSnapshot
}

func (s *mapSnap) Tables() []string { return slices.Sorted(maps.Keys(s.views)) }
func (s *mapSnap) Table(name string) statebackend.TableSnapshot {
	if v, ok := s.views[name]; ok {
		return v
	}
	return nil
}
func (s *mapSnap) Release() {}
func (s *mapSnap) Scan(prefix []byte, fn func(key, value []byte) bool) error {
	return s.kv.Scan(prefix, fn)
}

func TestKVConformance(t *testing.T) { statetest.Run(t, kvFactory{}) }

var kvInfo = statebackend.TaskInfo{Operator: "kv", KeyGroups: statebackend.KeyGroupRange{Start: 0, End: 8}, MaxParallelism: 8}

func newKV(t testing.TB) *mapKV {
	b, err := kvFactory{}.NewBackend(kvInfo)
	if err != nil {
		t.Fatal(err)
	}
	return b.(*mapKV)
}

// roundTrip stores each value under key i and reads it back.
func roundTrip[V any](t *testing.T, vals ...V) {
	t.Helper()
	b := newKV(t)
	tab, err := statebackend.Open[int, statebackend.Void, V](b, "t")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		tab.Put(1, i, statebackend.Void{}, v)
	}
	for i, v := range vals {
		if got, ok := tab.Get(1, i, statebackend.Void{}); !ok || !reflect.DeepEqual(got, v) {
			t.Errorf("%T: Get = %#v, %t; want %#v", v, got, ok, v)
		}
	}
	if err := tab.(interface{ Err() error }).Err(); err != nil {
		t.Fatal(err)
	}
}

type inner struct {
	A int8
	b string // unexported: kept by the plain encoding
	_ int64
	C [2]float32
}

type outer struct {
	In    inner
	List  []inner
	Bytes []byte
	Flag  bool
	Z     complex128
}

type named int16

type withMap struct {
	M map[string][]int
	P *int
}

func TestKVValueRoundTrip(t *testing.T) {
	roundTrip(t, true, false)
	roundTrip(t, int8(math.MinInt8), int8(-1), int8(0), int8(math.MaxInt8))
	roundTrip(t, int16(math.MinInt16), int16(7))
	roundTrip(t, named(-3))
	roundTrip(t, int32(math.MinInt32), int32(math.MaxInt32))
	roundTrip(t, int64(math.MinInt64), int64(-1), int64(math.MaxInt64))
	roundTrip(t, uint8(255), uint8(0))
	roundTrip(t, uint16(65535))
	roundTrip(t, uint32(1<<31))
	roundTrip(t, uint64(math.MaxUint64))
	roundTrip(t, math.MinInt, 42)
	roundTrip(t, uint(math.MaxUint))
	roundTrip(t, uintptr(12))
	roundTrip(t, float32(-1.5), float32(math.Inf(-1)), float32(math.SmallestNonzeroFloat32))
	roundTrip(t, 0.0, -2.25, math.Inf(1), math.MaxFloat64)
	roundTrip(t, complex64(1-2i), complex64(0))
	roundTrip(t, "", "x", "héllo\x00world", strings.Repeat("z", 300))
	roundTrip(t, [3]int16{-1, 0, 1})
	roundTrip(t, statebackend.Void{})
	roundTrip(t, []byte(nil), []byte{}, []byte{0, 1, 255})
	roundTrip(t, []string(nil), []string{}, []string{"a", ""})
	roundTrip(t, inner{A: -5, b: "hidden", C: [2]float32{1, -1}})
	roundTrip(t, outer{In: inner{A: 1}, List: []inner{{A: 2, b: "x"}, {}}, Bytes: []byte("b"), Flag: true, Z: 3 + 4i}, outer{})
	one := 1
	roundTrip(t, withMap{M: map[string][]int{"a": {1, 2}}, P: &one}, withMap{}) // gob: an empty map field comes back nil
	roundTrip(t, map[string]int{"a": 1}, map[string]int{})
}

// TestKVKeys checks key encodings through Get: equal keys meet, different
// keys stay apart (prefix-free encodings), -0 and +0 are one key.
func TestKVKeys(t *testing.T) {
	b := newKV(t)
	type key struct {
		S string
		N int32
	}
	tab, err := statebackend.Open[key, string, int](b, "k")
	if err != nil {
		t.Fatal(err)
	}
	keys := []key{{"k1", 0}, {"k10", 0}, {"k", 1}, {"", 0}, {"k1\x00", 0}, {"k1", -1}}
	for i, k := range keys {
		tab.Put(2, k, "ns", i)
		tab.Put(2, k, "ns2", i+100)
	}
	for i, k := range keys {
		if got, ok := tab.Get(2, k, "ns"); !ok || got != i {
			t.Errorf("Get(%+v) = %d, %t; want %d", k, got, ok, i)
		}
		n := 0
		tab.Namespaces(2, k, func(ns string, v int) bool {
			if ns == "ns" && v != i || ns == "ns2" && v != i+100 {
				t.Errorf("Namespaces(%+v) reported %s = %d", k, ns, v)
			}
			n++
			return true
		})
		if n != 2 {
			t.Errorf("Namespaces(%+v) reported %d namespaces, want 2", k, n)
		}
	}
	if got := tab.Len(2); got != 2*len(keys) {
		t.Errorf("Len = %d, want %d", got, 2*len(keys))
	}

	ft, err := statebackend.Open[float64, statebackend.Void, string](b, "f")
	if err != nil {
		t.Fatal(err)
	}
	ft.Put(0, math.Copysign(0, -1), statebackend.Void{}, "zero")
	if got, ok := ft.Get(0, 0, statebackend.Void{}); !ok || got != "zero" {
		t.Errorf("Get(+0) after Put(-0) = %q, %t", got, ok)
	}
}

func TestKVOpenErrors(t *testing.T) {
	b := newKV(t)
	if _, err := statebackend.Open[*int, statebackend.Void, int](b, "p"); err == nil || !strings.Contains(err.Error(), "key type") {
		t.Errorf("pointer key: %v", err)
	}
	if _, err := statebackend.Open[int, any, int](b, "i"); err == nil || !strings.Contains(err.Error(), "namespace type") {
		t.Errorf("interface namespace: %v", err)
	}
	type withPtr struct{ P *int }
	if _, err := statebackend.Open[withPtr, statebackend.Void, int](b, "s"); err == nil || !strings.Contains(err.Error(), "field P") {
		t.Errorf("struct key with a pointer: %v", err)
	}
	if _, err := statebackend.Open[int, statebackend.Void, int](b, ""); err == nil {
		t.Error("empty name: no error")
	}
	if _, err := statebackend.Open[int, statebackend.Void, int](b, "ok"); err != nil {
		t.Fatal(err)
	}
	if _, err := statebackend.Open[int, statebackend.Void, string](b, "ok"); err == nil {
		t.Error("reopen with another type: no error")
	}
}

func TestKVHeader(t *testing.T) {
	k := statebackend.AppendKVHeader([]byte("x"), 0x1234, 0xdeadbeef)[1:]
	if len(k) != statebackend.KVHeaderLen {
		t.Fatalf("header of %d bytes", len(k))
	}
	if kg, id, ok := statebackend.ParseKVHeader(k); !ok || kg != 0x1234 || id != 0xdeadbeef {
		t.Fatalf("ParseKVHeader = %x, %x, %t", kg, id, ok)
	}
	if _, _, ok := statebackend.ParseKVHeader(k[:5]); ok {
		t.Fatal("ParseKVHeader of 5 bytes: ok")
	}
	// Key groups sort in order, so that a key-group range is a key range.
	if a, b := statebackend.AppendKVHeader(nil, 255, ^uint32(0)), statebackend.AppendKVKeyGroup(nil, 256); bytes.Compare(a, b) >= 0 {
		t.Fatal("key group 255 does not sort before 256")
	}
}

// FuzzKVDecode stores arbitrary bytes as a value and as a key and reads
// them: decoding fails cleanly (a sticky error), never panics.
func FuzzKVDecode(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte{0, 0, 0, 3, 1, 2}, []byte{2, 'a', 3})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, []byte{0x80})
	f.Fuzz(func(t *testing.T, value, key []byte) {
		b := newKV(t)
		tab, err := statebackend.Open[string, int16, outer](b, "t")
		if err != nil {
			t.Fatal(err)
		}
		kt := tab.(statebackend.KVTable)
		hdr := statebackend.AppendKVHeader(nil, 3, kt.ID())
		b.Set(append(slices.Clone(hdr), key...), value)
		b.Set(append(slices.Clone(hdr), 1, 'k', 0x80, 1), value) // key "k", namespace 1
		tab.Get(3, "k", 1)
		tab.Namespaces(3, "k", func(int16, outer) bool { return true })
		_, _, _, _ = kt.Decode(append(slices.Clone(hdr), key...), value)
		err = tab.(interface{ Err() error }).Err()
		if err != nil && !strings.HasPrefix(err.Error(), "weir/statebackend: ") {
			t.Fatalf("error without the package prefix: %v", err)
		}
		_ = errors.Unwrap(err)
	})
}
