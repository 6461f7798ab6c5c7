package pebblestate_test

import (
	"fmt"
	"testing"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/statebackend/pebblestate"
	"github.com/weirstream/weir/statebackend/vfs"
)

const (
	benchKeys = 1_000_000 // checkpoint and restore benchmarks
	opKeys    = 100_000   // Get and Put benchmarks
)

var benchInfo = statebackend.TaskInfo{
	Operator:       "bench",
	KeyGroups:      kgr(0, statebackend.DefaultMaxParallelism),
	MaxParallelism: statebackend.DefaultMaxParallelism,
}

// benchOpts are the defaults but for a smaller cache, as a task on a busy
// machine would have.
var benchOpts = pebblestate.Options{CacheSize: 32 << 20}

// scatter is the splitmix64 finalizer: a key's key group as a hash
// exchange would pick it.
func scatter(k int64) int {
	x := uint64(k)
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return int((x ^ x>>31) % statebackend.DefaultMaxParallelism)
}

// load writes keys [0, n) into table "counts" of b.
func load(b testing.TB, be statebackend.Backend, n int64) statebackend.Table[int64, void, int64] {
	tab := open[int64, void, int64](b, be, "counts")
	for k := range n {
		tab.Put(scatter(k), k, void{}, k)
	}
	return tab
}

// backends are the Get and Put benchmarks' contenders: memstate as the
// reference, Pebble without Ptr.
func backends(b *testing.B) map[string]statebackend.Factory {
	return map[string]statebackend.Factory{"memstate": memstate.New(), "pebble": pebblestate.New(b.TempDir(), benchOpts)}
}

func BenchmarkGet(b *testing.B) {
	for _, name := range []string{"memstate", "pebble"} {
		b.Run(name, func(b *testing.B) {
			tab := load(b, create(b, backends(b)[name], benchInfo), opKeys)
			k := int64(0)
			b.ReportAllocs()
			for b.Loop() {
				k = (k + 7919) % opKeys
				if _, ok := tab.Get(scatter(k), k, void{}); !ok {
					b.Fatal("missing key")
				}
			}
		})
	}
}

func BenchmarkPut(b *testing.B) {
	for _, name := range []string{"memstate", "pebble"} {
		b.Run(name, func(b *testing.B) {
			tab := load(b, create(b, backends(b)[name], benchInfo), opKeys)
			k := int64(0)
			b.ReportAllocs()
			for b.Loop() {
				k = (k + 7919) % opKeys
				tab.Put(scatter(k), k, void{}, k+1)
			}
		})
	}
}

// BenchmarkGetPut is a rolling count without Ptr: Get, then Put the sum.
func BenchmarkGetPut(b *testing.B) {
	for _, name := range []string{"memstate", "pebble"} {
		b.Run(name, func(b *testing.B) {
			tab := load(b, create(b, backends(b)[name], benchInfo), opKeys)
			k := int64(0)
			b.ReportAllocs()
			for b.Loop() {
				k = (k + 7919) % opKeys
				v, _ := tab.Get(scatter(k), k, void{})
				tab.Put(scatter(k), k, void{}, v+1)
			}
		})
	}
}

// copyFS hides the vfs.Local under it, so that Persist and Restore copy
// files rather than hard-linking them.
type copyFS struct{ vfs.FS }

// loaded returns a backend holding benchKeys keys, compacted as a state
// that has lived a while.
func loaded(b *testing.B) *pebblestate.Backend {
	be := newBackend(b, pebblestate.New(b.TempDir(), benchOpts), benchInfo)
	load(b, be, benchKeys)
	if err := be.Compact(); err != nil {
		b.Fatal(err)
	}
	return be
}

func localFS(b *testing.B) *vfs.Local {
	fs, err := vfs.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return fs
}

// BenchmarkCheckpoint1M measures the synchronous Snapshot alone, and full
// checkpoints (Snapshot, Persist into empty storage, Release) of 1M keys,
// hard-linking into a local directory and copying.
func BenchmarkCheckpoint1M(b *testing.B) {
	be := loaded(b)
	b.Run("snapshot", func(b *testing.B) {
		for b.Loop() {
			s, err := be.Snapshot(benchInfo.KeyGroups)
			if err != nil {
				b.Fatal(err)
			}
			s.Release()
		}
	})
	for _, mode := range []string{"link", "copy"} {
		b.Run("full/"+mode, func(b *testing.B) {
			var h statebackend.Handle
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				var fs vfs.FS = localFS(b)
				if mode == "copy" {
					fs = copyFS{fs}
				}
				b.StartTimer()
				h = persist(b, be, fs, "chk")
			}
			b.ReportMetric(float64(h.Bytes), "bytes/checkpoint")
		})
	}
}

// BenchmarkRestore1M restores 1M keys: at the same parallelism (the
// checkpoint becomes the database; linked or copied), and merging two
// subtasks' checkpoints into one (every entry copied).
func BenchmarkRestore1M(b *testing.B) {
	be := loaded(b)
	fs := localFS(b)
	h := persist(b, be, fs, "chk")
	f := pebblestate.New(b.TempDir(), benchOpts)
	restoreInto := func(b *testing.B, info statebackend.TaskInfo, fs vfs.FS, handles ...statebackend.Handle) {
		for b.Loop() {
			r := restore(b, f, info, fs, handles...)
			b.StopTimer()
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.Run("same/link", func(b *testing.B) { restoreInto(b, benchInfo, fs, h) })
	b.Run("same/copy", func(b *testing.B) { restoreInto(b, benchInfo, copyFS{fs}, h) })

	half := statebackend.DefaultMaxParallelism / 2
	var halves []statebackend.Handle
	for i, r := range []statebackend.KeyGroupRange{kgr(0, half), kgr(half, 2*half)} {
		src := restore(b, f, statebackend.TaskInfo{Operator: "bench", Subtask: i, KeyGroups: r, MaxParallelism: benchInfo.MaxParallelism}, fs, h)
		open[int64, void, int64](b, src, "counts")
		if err := src.Compact(); err != nil {
			b.Fatal(err)
		}
		halves = append(halves, persist(b, src, fs, fmt.Sprintf("half-%d", i)))
	}
	b.Run("merge2to1/link", func(b *testing.B) { restoreInto(b, benchInfo, fs, halves...) })
}

// BenchmarkIncremental1M persists 1M keys, then, in each iteration,
// changes 1% of them and persists again, reporting the bytes written.
func BenchmarkIncremental1M(b *testing.B) {
	be := newBackend(b, pebblestate.New(b.TempDir(), benchOpts), benchInfo)
	tab := load(b, be, benchKeys)
	if err := be.Compact(); err != nil {
		b.Fatal(err)
	}
	fs := localFS(b)
	full := persist(b, be, copyFS{fs}, "chk-0")
	var incr, most int64
	round := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		round++
		for k := round % 100; k < benchKeys; k += 100 { // 1%, other keys each round
			tab.Put(scatter(k), k, void{}, -k)
		}
		h := persist(b, be, copyFS{fs}, fmt.Sprintf("chk-%d", round))
		incr += h.Bytes
		most = max(most, h.Bytes)
	}
	b.ReportMetric(float64(full.Bytes), "full-bytes")
	b.ReportMetric(float64(incr)/float64(round), "incr-bytes")
	b.ReportMetric(100*float64(incr)/float64(round)/float64(full.Bytes), "incr-%")
	b.ReportMetric(100*float64(most)/float64(full.Bytes), "max-incr-%")
}
