package statebackend_test

import (
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/weirstream/weir/statebackend"
)

const benchKeys = 10_000

var benchInfo = statebackend.TaskInfo{
	Operator:       "bench",
	KeyGroups:      statebackend.KeyGroupRange{Start: 0, End: statebackend.DefaultMaxParallelism},
	MaxParallelism: statebackend.DefaultMaxParallelism,
}

// benchTable returns a Void table holding benchKeys int64 keys, key k in
// key group k % 128, as a hash exchange would spread them.
func benchTable(b *testing.B) (statebackend.Table[int64, statebackend.Void, int64], statebackend.Pointers[int64, statebackend.Void, int64]) {
	b.Helper()
	tab := statebackend.NewHeapTable[int64, statebackend.Void, int64](benchInfo)
	for k := range int64(benchKeys) {
		tab.Put(kgOf(k), k, statebackend.Void{}, 0)
	}
	return tab, tab.(statebackend.Pointers[int64, statebackend.Void, int64])
}

func kgOf(k int64) int { return int(k % statebackend.DefaultMaxParallelism) }

// scatteredKG returns the key group of k for BenchmarkPtrUpdateScattered: a
// hash of k (the splitmix64 finalizer) modulo 128, standing for the
// exchange's xxhash.
func scatteredKG(k int64) int {
	x := uint64(k)
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return int((x ^ x>>31) % statebackend.DefaultMaxParallelism)
}

// BenchmarkPtrUpdate is a rolling sum over 10k keys through Ptr: one hash
// table probe and no allocation per record.
//
// Key group k % 128 makes the keys of a group an arithmetic progression,
// which the table's multiplicative hash spreads almost without collisions:
// BenchmarkPtrUpdateScattered is the same with the key groups a hash
// exchange would choose.
func BenchmarkPtrUpdate(b *testing.B) {
	_, pt := benchTable(b)
	b.ReportAllocs()
	k := int64(0)
	for b.Loop() {
		p, _ := pt.Ptr(kgOf(k), k, statebackend.Void{}, true)
		*p += k
		if k++; k == benchKeys {
			k = 0
		}
	}
}

// BenchmarkPtrUpdateScattered is BenchmarkPtrUpdate with the keys spread
// over the key groups by a hash, as the engine's exchange spreads them, so
// that the keys of a group are scattered over 0..9999.
func BenchmarkPtrUpdateScattered(b *testing.B) {
	tab := statebackend.NewHeapTable[int64, statebackend.Void, int64](benchInfo)
	kgs := make([]int, benchKeys) // the exchange ships key groups with the records
	for k := range int64(benchKeys) {
		kgs[k] = scatteredKG(k)
		tab.Put(kgs[k], k, statebackend.Void{}, 0)
	}
	pt := tab.(statebackend.Pointers[int64, statebackend.Void, int64])
	b.ReportAllocs()
	k := int64(0)
	for b.Loop() {
		p, _ := pt.Ptr(kgs[k], k, statebackend.Void{}, true)
		*p += k
		if k++; k == benchKeys {
			k = 0
		}
	}
}

// BenchmarkPtrUpdateString is BenchmarkPtrUpdate with string keys of 2 to
// 5 bytes ("k0" to "k9999").
func BenchmarkPtrUpdateString(b *testing.B) {
	keys := make([]string, benchKeys)
	tab := statebackend.NewHeapTable[string, statebackend.Void, int64](benchInfo)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
		tab.Put(kgOf(int64(i)), keys[i], statebackend.Void{}, 0)
	}
	pt := tab.(statebackend.Pointers[string, statebackend.Void, int64])
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p, _ := pt.Ptr(kgOf(int64(i)), keys[i], statebackend.Void{}, true)
		*p += int64(i)
		if i++; i == benchKeys {
			i = 0
		}
	}
}

// BenchmarkGoMap is the yardstick of BenchmarkPtrUpdate: the same rolling
// sum as a hand-written m[k] += v over one Go map.
func BenchmarkGoMap(b *testing.B) {
	m := make(map[int64]int64)
	for k := range int64(benchKeys) {
		m[k] = 0
	}
	b.ReportAllocs()
	k := int64(0)
	for b.Loop() {
		m[k] += k
		if k++; k == benchKeys {
			k = 0
		}
	}
}

// BenchmarkGetPut is the same rolling sum through Get and Put.
func BenchmarkGetPut(b *testing.B) {
	tab, _ := benchTable(b)
	b.ReportAllocs()
	k := int64(0)
	for b.Loop() {
		kg := kgOf(k)
		v, _ := tab.Get(kg, k, statebackend.Void{})
		tab.Put(kg, k, statebackend.Void{}, v+k)
		if k++; k == benchKeys {
			k = 0
		}
	}
}

// BenchmarkPtrUpdateNamespaced updates 10k keys with 4 namespaces each
// (windows of a window operator) through Ptr.
func BenchmarkPtrUpdateNamespaced(b *testing.B) {
	tab := statebackend.NewHeapTable[int64, int64, int64](benchInfo)
	for k := range int64(benchKeys) {
		for ns := range int64(4) {
			tab.Put(kgOf(k), k, ns, 0)
		}
	}
	pt := tab.(statebackend.Pointers[int64, int64, int64])
	b.ReportAllocs()
	k := int64(0)
	for b.Loop() {
		p, _ := pt.Ptr(kgOf(k), k, k&3, true)
		*p += k
		if k++; k == benchKeys {
			k = 0
		}
	}
}

// BenchmarkNamespacedChurn is session windows' pattern: each key comes
// with one namespace, is updated a few times and goes, with 10k keys live
// at a time.
func BenchmarkNamespacedChurn(b *testing.B) {
	tab := statebackend.NewHeapTable[int64, int64, int64](benchInfo)
	pt := tab.(statebackend.Pointers[int64, int64, int64])
	b.ReportAllocs()
	k := int64(0)
	for b.Loop() {
		for u := range int64(4) {
			p, _ := pt.Ptr(kgOf(k), k, k*7, true)
			*p += u
		}
		if old := k - benchKeys; old >= 0 {
			tab.Delete(kgOf(old), old, old*7)
		}
		k++
	}
}

// BenchmarkSnapshot takes and releases a view of 128 key groups holding
// 10k keys: O(key groups), independent of the state size.
func BenchmarkSnapshot(b *testing.B) {
	tab, _ := benchTable(b)
	st := tab.(statebackend.SnapshotTable)
	b.ReportAllocs()
	for b.Loop() {
		st.SnapshotRange(benchInfo.KeyGroups).Release()
	}
}

// BenchmarkWriteAfterSnapshot measures one checkpoint interval: take a
// view of all key groups, update each of the 10k keys once through Ptr,
// release the view. "held" keeps the view live during the writes, so the
// storage of every key group is copied once; "released" releases it before
// writing (no copy); "none" takes no snapshot. ns/key is the cost per
// update.
func BenchmarkWriteAfterSnapshot(b *testing.B) {
	for _, mode := range []string{"none", "released", "held"} {
		b.Run(mode, func(b *testing.B) {
			tab, pt := benchTable(b)
			st := tab.(statebackend.SnapshotTable)
			b.ReportAllocs()
			for b.Loop() {
				var v statebackend.TableView
				if mode != "none" {
					v = st.SnapshotRange(benchInfo.KeyGroups)
				}
				if mode == "released" {
					v.Release()
				}
				for k := range int64(benchKeys) {
					p, _ := pt.Ptr(kgOf(k), k, statebackend.Void{}, true)
					*p += k
				}
				if mode == "held" {
					v.Release()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchKeys, "ns/key")
		})
	}
}

// BenchmarkGrowFresh fills a new table with 2M int64 keys in fresh memory
// (the heap handed back to the OS before each fill), as a job whose state
// grows does: the cost per key includes the page faults of the growing
// arrays, which prefault (MADV_POPULATE_WRITE) makes cheaper where they
// are slow.
func BenchmarkGrowFresh(b *testing.B) {
	const keys = 2_000_000
	for b.Loop() {
		b.StopTimer()
		debug.FreeOSMemory()
		tab := statebackend.NewHeapTable[int64, statebackend.Void, int64](benchInfo)
		pt := tab.(statebackend.Pointers[int64, statebackend.Void, int64])
		b.StartTimer()
		for k := range int64(keys) {
			p, _ := pt.Ptr(scatteredKG(k), k, statebackend.Void{}, true)
			*p = k
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*keys), "ns/key")
}

// BenchmarkCloneFresh measures the copies a checkpoint makes: a view of a
// table of 2M int64 keys is taken, and one write to each key group then
// clones that group's arrays into fresh memory (the heap handed back to
// the OS before each round), as the first writes after a checkpoint
// barrier of a job with large state do. ns/key is the time of the writes
// over the keys copied.
func BenchmarkCloneFresh(b *testing.B) {
	const keys = 2_000_000
	tab := statebackend.NewHeapTable[int64, statebackend.Void, int64](benchInfo)
	pt := tab.(statebackend.Pointers[int64, statebackend.Void, int64])
	st := tab.(statebackend.SnapshotTable)
	var keyOf [statebackend.DefaultMaxParallelism]int64
	for k := range int64(keys) {
		p, _ := pt.Ptr(scatteredKG(k), k, statebackend.Void{}, true)
		*p = k
		keyOf[scatteredKG(k)] = k
	}
	for b.Loop() {
		b.StopTimer()
		v := st.SnapshotRange(benchInfo.KeyGroups)
		debug.FreeOSMemory()
		b.StartTimer()
		for kg, k := range keyOf {
			p, ok := pt.Ptr(kg, k, statebackend.Void{}, false)
			if !ok {
				b.Fatalf("key %d missing from key group %d", k, kg)
			}
			*p++
		}
		b.StopTimer()
		v.Release()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*keys), "ns/key")
}
