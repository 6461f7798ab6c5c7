package statebackend

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/testseed"
)

// packedVal is a value with the parts a packed table encodes: integers,
// strings of varying length, a time and an array.
type packedVal struct {
	N    int64
	Name string
	At   time.Time
	Tags [2]string
}

func newPacked(n int64) packedVal {
	return packedVal{
		N:    n,
		Name: strings.Repeat("x", int(n%37)) + strconv.FormatInt(n, 10),
		At:   time.UnixMilli(1_700_000_000_000 + n).UTC(),
		Tags: [2]string{"", strconv.FormatInt(-n, 16)},
	}
}

// newPackedTab returns a packed table over testInfo.
func newPackedTab[K comparable, V any](t testing.TB) *packedTable[K, Void, V] {
	t.Helper()
	c, err := packedCodec[K, Void, V]()
	if err != nil {
		t.Fatal(err)
	}
	return newPackedTable[K, Void, V](testInfo, c)
}

// checkPacked fails unless every key group of tab is well formed.
func checkPacked[K comparable, V any](t testing.TB, tab *packedTable[K, Void, V]) {
	t.Helper()
	wellFormed(t, len(tab.arenas), tab.check)
}

// TestPackedRandom runs the random table test on a packed table: values
// are replaced often enough that key groups compact, with views live.
func TestPackedRandom(t *testing.T) {
	tab := newPackedTab[int64, packedVal](t)
	testOpenRandom(t, tab, func(tb testing.TB) { checkPacked(tb, tab) }, rand.New(rand.NewPCG(testseed.Seed(t), 7)),
		func(i int) int64 { return int64(i) * 7919 }, newPacked)
}

// TestPackedNestRandom runs the random namespaced table test on a packed
// table with namespaces, compacting key groups at 256 dead bytes.
func TestPackedNestRandom(t *testing.T) {
	defer func(n int) { arenaCompactMin = n }(arenaCompactMin)
	arenaCompactMin = 256
	c, err := packedCodec[int64, int64, string]()
	if err != nil {
		t.Fatal(err)
	}
	tab := newPackedTable[int64, int64, string](testInfo, c)
	testNestRandom(t, tab, func(kg int) { tab.check(tab.cow.index(kg)) })
}

// TestPackedRandomCompacting is TestPackedRandom compacting at 256 dead
// bytes, so that compactions meet live views often.
func TestPackedRandomCompacting(t *testing.T) {
	defer func(n int) { arenaCompactMin = n }(arenaCompactMin)
	arenaCompactMin = 256
	TestPackedRandom(t)
}

// TestPackedCompaction checks that replacing values leaves dead bytes that
// a compaction reclaims, that strings decoded before it keep their bytes,
// and that a view taken before it still reads the old values.
func TestPackedCompaction(t *testing.T) {
	tab := newPackedTab[int64, packedVal](t)
	const kg, keys = 6, 100
	for k := range int64(keys) {
		tab.Put(kg, k, Void{}, newPacked(k))
	}
	held, _ := tab.Get(kg, 7, Void{})
	v := tab.SnapshotRange(testInfo.KeyGroups)
	defer v.Release()
	want := openModel[int64, packedVal]{kg: {}}
	for k := range int64(keys) {
		want[kg][k] = newPacked(k)
	}
	a := &tab.arenas[tab.cow.index(kg)]
	first := &a.chunks[0][0]
	compacted := false
	for round := int64(1); round <= 50; round++ {
		for k := range int64(keys) {
			tab.Put(kg, k, Void{}, newPacked(k+1000*round))
		}
		if len(a.chunks) > 0 && &a.chunks[0][0] != first {
			compacted = true
		}
		if a.dead > a.live && a.dead > arenaCompactMin {
			t.Fatalf("round %d: %d dead bytes against %d live, not compacted", round, a.dead, a.live)
		}
	}
	if !compacted {
		t.Fatalf("50 rounds of replacing %d values never compacted (live %d, dead %d)", keys, a.live, a.dead)
	}
	if held != newPacked(7) {
		t.Errorf("a value read before the compaction changed: %+v", held)
	}
	checkOpenView(t, v, want)
	for k := range int64(keys) {
		if got, ok := tab.Get(kg, k, Void{}); !ok || got != newPacked(k+50_000) {
			t.Fatalf("Get(%d) = %+v, %t after compactions", k, got, ok)
		}
	}
	checkPacked(t, tab)
	for k := range int64(keys) {
		tab.Delete(kg, k, Void{})
	}
	if a.live != 0 || a.dead != 0 || a.chunks != nil {
		t.Errorf("an emptied key group keeps %d chunks, live %d, dead %d", len(a.chunks), a.live, a.dead)
	}
	checkOpenView(t, v, want)
}

// TestPackedNoPointers checks what makes the table invisible to the
// collector: its index entries and references hold no pointers.
func TestPackedNoPointers(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[openEntry[int64, packedRef]](),
		reflect.TypeFor[openEntry[[2]int64, packedRef]](),
	} {
		if hasPointers(typ) {
			t.Errorf("%s holds pointers", typ)
		}
	}
	if !hasPointers(reflect.TypeFor[packedVal]()) {
		t.Error("hasPointers misses the pointers of packedVal")
	}
}

// hasPointers reports whether values of typ hold pointers.
func hasPointers(typ reflect.Type) bool {
	switch typ.Kind() {
	case reflect.Array:
		return typ.Len() > 0 && hasPointers(typ.Elem())
	case reflect.Struct:
		for i := range typ.NumField() {
			if hasPointers(typ.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	}
	return true
}

// TestPackedAllocs checks that Get decodes strings without copying them
// and that Put allocates only for new chunks.
func TestPackedAllocs(t *testing.T) {
	tab := newPackedTab[int64, packedVal](t)
	for k := range int64(64) {
		tab.Put(5, k, Void{}, newPacked(k))
	}
	var sink packedVal
	if n := testing.AllocsPerRun(1000, func() { sink, _ = tab.Get(5, 9, Void{}) }); n != 0 {
		t.Errorf("Get allocates %.1f times", n)
	}
	if sink != newPacked(9) {
		t.Errorf("Get = %+v", sink)
	}
	val := newPacked(12345)
	if n := testing.AllocsPerRun(1000, func() { tab.Put(5, 3, Void{}, val) }); n > 0.1 {
		t.Errorf("Put allocates %.2f times per call", n)
	}
}

// TestPackedTypes checks which types a packed table refuses, and why.
func TestPackedTypes(t *testing.T) {
	for name, err := range map[string]func() error{
		"key":     func() error { _, err := packedCodec[struct{ S string }, Void, int64](); return err },
		"value":   func() error { _, err := packedCodec[int64, Void, map[string]int](); return err },
		"pointer": func() error { _, err := packedCodec[int64, Void, struct{ P *int }](); return err },
	} {
		e := err()
		want := map[string]string{
			"key":     "key type struct { S string }",
			"value":   "value type map[string]int has no plain encoding",
			"pointer": "field P of struct { P *int }: *int (a ptr) has no plain encoding",
		}[name]
		if e == nil || !strings.Contains(e.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", name, e, want)
		}
	}
	if _, err := packedCodec[[2]int64, Void, []time.Time](); err != nil {
		t.Errorf("a slice of times: %v", err)
	}
}

// BenchmarkPackedPutGet puts and gets values with strings and a time in
// a packed table and, for comparison, in the heap table of the same types
// (the slab layout: values over 64 bytes out of line).
func BenchmarkPackedPutGet(b *testing.B) {
	vals := make([]packedVal, 1024)
	for i := range vals {
		vals[i] = newPacked(int64(i))
	}
	run := func(b *testing.B, tab Table[int64, Void, packedVal]) {
		b.ReportAllocs()
		for i := range b.N {
			k := int64(i & (1<<16 - 1))
			tab.Put(4+i&7, k, Void{}, vals[i&1023])
			if v, ok := tab.Get(4+i&7, k, Void{}); !ok || v.N != vals[i&1023].N {
				b.Fatal("lost a value")
			}
		}
	}
	b.Run("packed", func(b *testing.B) { run(b, newPackedTab[int64, packedVal](b)) })
	b.Run("heap", func(b *testing.B) { run(b, NewHeapTable[int64, Void, packedVal](testInfo)) })
}
