package statetest

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/statebackend"
)

// info is the task every backend of the suite is created for.
var info = statebackend.TaskInfo{
	Operator:       "statetest",
	Subtask:        1,
	KeyGroups:      statebackend.KeyGroupRange{Start: 4, End: 12},
	MaxParallelism: 16,
}

// Run runs the conformance suite against backends created by f. Every
// subtest creates its own backends and closes them.
func Run(t *testing.T, f statebackend.Factory) {
	for _, c := range cases {
		t.Run(c.caseName(), func(t *testing.T) { c.run(t, f) })
	}
	t.Run("Open", func(t *testing.T) { testOpen(t, f) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, f) })
	t.Run("SnapshotTables", func(t *testing.T) { testSnapshotTables(t, f) })
	t.Run("SnapshotRangeErrors", func(t *testing.T) { testSnapshotRangeErrors(t, f) })
}

// point is a struct key.
type point struct{ X, Y int32 }

// window is a struct namespace.
type window struct{ Start, End int64 }

// record is a struct value.
type record struct {
	Name  string
	Count int64
}

// bigRecord is a struct value of more than 64 bytes, which heap tables
// keep out of line.
type bigRecord struct {
	Name   string
	Counts [8]int64
}

// stampedRecord is a struct value with a time, for packed tables.
type stampedRecord struct {
	Name string
	At   time.Time
	Tags []string
}

func stamped(i int) stampedRecord {
	return stampedRecord{Name: strconv.Itoa(i), At: time.UnixMilli(int64(i) * 997).UTC(), Tags: []string{"t", strconv.Itoa(-i)}}
}

// typedCase is a tcase with its types erased, so that cases of different
// types fit in one list.
type typedCase interface {
	caseName() string
	run(t *testing.T, f statebackend.Factory)
}

// tcase describes a table type to test: how to make its i-th key,
// namespace and value. nns is the number of distinct namespaces (1 for
// Void).
type tcase[K, N comparable, V any] struct {
	name string
	key  func(i int) K
	ns   func(i int) N
	val  func(i int) V
	nns  int
}

func void(int) statebackend.Void { return statebackend.Void{} }
func i64(i int) int64            { return int64(i)*7919 - 3 }
func str(i int) string           { return "k" + strconv.Itoa(i) }
func pt(i int) point             { return point{X: int32(i), Y: int32(-i)} }
func win(i int) window           { return window{Start: int64(i) * 1000, End: int64(i+1) * 1000} }
func rec(i int) record           { return record{Name: strconv.Itoa(i), Count: int64(i)} }
func big(i int) bigRecord {
	return bigRecord{Name: strconv.Itoa(i), Counts: [8]int64{int64(i), 1, 2, 3, 4, 5, 6, int64(-i)}}
}

var cases = []typedCase{
	tcase[int64, statebackend.Void, int64]{"Void/int64/int64", i64, void, i64, 1},
	tcase[string, statebackend.Void, string]{"Void/string/string", str, void, str, 1},
	tcase[point, statebackend.Void, record]{"Void/struct/struct", pt, void, rec, 1},
	tcase[int64, statebackend.Void, bigRecord]{"Void/int64/large", i64, void, big, 1},
	// cases named Packed/ open their tables with OpenPacked
	tcase[int64, statebackend.Void, stampedRecord]{"Packed/int64/struct", i64, void, stamped, 1},
	tcase[point, statebackend.Void, string]{"Packed/struct/string", pt, void, str, 1},
	tcase[int64, int64, stampedRecord]{"Packed/NS/int64/int64/struct", i64, i64, stamped, 4},
	tcase[int64, int64, string]{"NS/int64/int64/string", i64, i64, str, 4},
	tcase[string, window, int64]{"NS/string/struct/int64", str, win, i64, 4},
	tcase[point, string, record]{"NS/struct/string/struct", pt, str, rec, 4},
}

func (c tcase[K, N, V]) caseName() string { return c.name }

func (c tcase[K, N, V]) run(t *testing.T, f statebackend.Factory) {
	t.Run("Basic", func(t *testing.T) { c.testBasic(t, f) })
	t.Run("Namespaces", func(t *testing.T) { c.testNamespaces(t, f) })
	if c.hasPointers(t, f) { // optional: byte backends encode values
		t.Run("Ptr", func(t *testing.T) { c.testPtr(t, f) })
	}
	t.Run("KeyGroups", func(t *testing.T) { c.testKeyGroups(t, f) })
	t.Run("Random", func(t *testing.T) { c.testRandom(t, f) })
	t.Run("Snapshot/Consistency", func(t *testing.T) { c.testSnapshotConsistency(t, f) })
	t.Run("Snapshot/Concurrent", func(t *testing.T) { c.testSnapshotConcurrent(t, f) })
	t.Run("Snapshot/Multiple", func(t *testing.T) { c.testSnapshotMultiple(t, f) })
	t.Run("Snapshot/ReleaseThenWrite", func(t *testing.T) { c.testSnapshotRelease(t, f) })
	t.Run("Snapshot/PartialRange", func(t *testing.T) { c.testSnapshotPartial(t, f) })
}

// hasPointers reports whether the backends of f give tables of the case's
// types that implement statebackend.Pointers.
func (c tcase[K, N, V]) hasPointers(t *testing.T, f statebackend.Factory) bool {
	_, ok := c.open(t, newBackend(t, f), "probe").(statebackend.Pointers[K, N, V])
	return ok
}

// newBackend creates a backend for info and closes it when the test ends.
func newBackend(t testing.TB, f statebackend.Factory) statebackend.Backend {
	t.Helper()
	b, err := f.NewBackend(info)
	if err != nil {
		t.Fatalf("NewBackend(%+v): %v", info, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// open opens table name of b with the case's types.
func (c tcase[K, N, V]) open(t testing.TB, b statebackend.Backend, name string) statebackend.Table[K, N, V] {
	t.Helper()
	open := statebackend.Open[K, N, V]
	if strings.HasPrefix(c.name, "Packed/") {
		open = statebackend.OpenPacked[K, N, V]
	}
	tab, err := open(b, name)
	if err != nil {
		t.Fatalf("Open[%s](%q): %v", c.name, name, err)
	}
	return tab
}

// entry is the address of a value within a key group.
type entry[K, N comparable] struct {
	key K
	ns  N
}

// model is the reference: key group -> entry -> value.
type model[K, N comparable, V any] map[int]map[entry[K, N]]V

func (m model[K, N, V]) put(kg int, k K, n N, v V) {
	if m[kg] == nil {
		m[kg] = make(map[entry[K, N]]V)
	}
	m[kg][entry[K, N]{k, n}] = v
}

func (m model[K, N, V]) get(kg int, k K, n N) (V, bool) {
	v, ok := m[kg][entry[K, N]{k, n}]
	return v, ok
}

func (m model[K, N, V]) del(kg int, k K, n N) { delete(m[kg], entry[K, N]{k, n}) }

// clone copies the model (values are copied shallowly, like the backends).
func (m model[K, N, V]) clone() model[K, N, V] {
	c := make(model[K, N, V], len(m))
	for kg, es := range m {
		c[kg] = maps.Clone(es)
	}
	return c
}

// collectNamespaces reads Namespaces(kg, k) into a map, failing on a
// namespace reported twice.
func collectNamespaces[K, N comparable, V any](tab statebackend.Table[K, N, V], kg int, k K) (map[N]V, error) {
	out := make(map[N]V)
	var err error
	tab.Namespaces(kg, k, func(n N, v V) bool {
		if _, dup := out[n]; dup {
			err = fmt.Errorf("Namespaces(%d, %v) reported %v twice", kg, k, n)
		}
		out[n] = v
		return true
	})
	return out, err
}

// readView reads key group kg of a table view, checking the dynamic types
// of what ForEach reports and that Len agrees with it.
func readView[K, N comparable, V any](ts statebackend.TableSnapshot, kg int) (map[entry[K, N]]V, error) {
	out := make(map[entry[K, N]]V)
	var err error
	ts.ForEach(kg, func(key, ns, value any) bool {
		k, ok1 := key.(K)
		n, ok2 := ns.(N)
		v, ok3 := value.(V)
		if !ok1 || !ok2 || !ok3 {
			err = fmt.Errorf("ForEach(%d) reported (%T, %T, %T), want (%T, %T, %T)", kg, key, ns, value, *new(K), *new(N), *new(V))
			return false
		}
		e := entry[K, N]{k, n}
		if _, dup := out[e]; dup {
			err = fmt.Errorf("ForEach(%d) reported %v twice", kg, e)
			return false
		}
		out[e] = v
		return true
	})
	if err != nil {
		return nil, err
	}
	if n := ts.Len(kg); n != len(out) {
		return nil, fmt.Errorf("view Len(%d) = %d, ForEach reported %d entries", kg, n, len(out))
	}
	return out, nil
}

// checkView compares the key groups in r of a table view with want.
func checkView[K, N comparable, V any](ts statebackend.TableSnapshot, r statebackend.KeyGroupRange, want model[K, N, V]) error {
	if ts == nil {
		return errors.New("table missing from snapshot")
	}
	for kg := r.Start; kg < r.End; kg++ {
		got, err := readView[K, N, V](ts, kg)
		if err != nil {
			return err
		}
		if err := diffGroup(kg, got, want[kg]); err != nil {
			return fmt.Errorf("view: %w", err)
		}
	}
	return nil
}

// diffGroup describes the first difference between two key groups.
func diffGroup[K, N comparable, V any](kg int, got, want map[entry[K, N]]V) error {
	for e, w := range want {
		g, ok := got[e]
		if !ok {
			return fmt.Errorf("key group %d: missing %+v (want %+v)", kg, e, w)
		}
		if !reflect.DeepEqual(g, w) {
			return fmt.Errorf("key group %d: %+v = %+v, want %+v", kg, e, g, w)
		}
	}
	for e, g := range got {
		if _, ok := want[e]; !ok {
			return fmt.Errorf("key group %d: unexpected %+v = %+v", kg, e, g)
		}
	}
	return nil
}

// checkTable compares every key group of a table with want, through Len,
// Get and Namespaces; Namespaces is also checked for the first nkeys keys of
// the case, which may be absent.
func (c tcase[K, N, V]) checkTable(tab statebackend.Table[K, N, V], want model[K, N, V], nkeys int) error {
	r := info.KeyGroups
	for kg := r.Start; kg < r.End; kg++ {
		if got, w := tab.Len(kg), len(want[kg]); got != w {
			return fmt.Errorf("Len(%d) = %d, want %d", kg, got, w)
		}
		byKey := make(map[K]map[N]V)
		for i := range nkeys {
			byKey[c.key(i)] = map[N]V{}
		}
		for e, w := range want[kg] {
			if g, ok := tab.Get(kg, e.key, e.ns); !ok || !reflect.DeepEqual(g, w) {
				return fmt.Errorf("Get(%d, %+v, %+v) = %+v, %t; want %+v, true", kg, e.key, e.ns, g, ok, w)
			}
			if byKey[e.key] == nil {
				byKey[e.key] = map[N]V{}
			}
			byKey[e.key][e.ns] = w
		}
		for k, w := range byKey {
			got, err := collectNamespaces(tab, kg, k)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, w) {
				return fmt.Errorf("Namespaces(%d, %+v) = %+v, want %+v", kg, k, got, w)
			}
		}
	}
	return nil
}

// seed returns the random seed of a test: WEIR_SEED if set, else the clock.
// It logs the seed so that a failure can be replayed.
func seed(t testing.TB) uint64 {
	t.Helper()
	s := uint64(time.Now().UnixNano())
	if env := os.Getenv("WEIR_SEED"); env != "" {
		v, err := strconv.ParseUint(env, 10, 64)
		if err != nil {
			t.Fatalf("WEIR_SEED=%q: %v", env, err)
		}
		s = v
	}
	t.Logf("seed %d (replay with WEIR_SEED=%d)", s, s)
	return s
}
