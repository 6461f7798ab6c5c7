package memstate_test

import (
	"testing"
	"time"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/statebackend/vfs"
)

// benchKeys is the state size of the checkpoint and restore benchmarks,
// the same as pebblestate's BenchmarkCheckpoint1M and BenchmarkRestore1M.
const benchKeys = 1_000_000

var benchInfo = statebackend.TaskInfo{
	Operator:       "bench",
	KeyGroups:      statebackend.KeyGroupRange{Start: 0, End: statebackend.DefaultMaxParallelism},
	MaxParallelism: statebackend.DefaultMaxParallelism,
}

// benchScatter is the splitmix64 finalizer: a key's key group as a hash
// exchange would pick it.
func benchScatter(k int64) int {
	x := uint64(k)
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return int((x ^ x>>31) % statebackend.DefaultMaxParallelism)
}

// benchBackend returns a memstate backend of every key group (benchInfo),
// closed when the test ends.
func benchBackend(t testing.TB) statebackend.Backend {
	t.Helper()
	be, err := memstate.New().NewBackend(benchInfo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	return be
}

// restoredBackend returns a memstate backend of subtask i, owning the key
// groups r, that restored handles from fs; the caller closes it.
func restoredBackend(t testing.TB, fs vfs.FS, op string, i int, r statebackend.KeyGroupRange, handles ...statebackend.Handle) statebackend.Backend {
	t.Helper()
	info := statebackend.TaskInfo{Operator: op, Subtask: i, KeyGroups: r, MaxParallelism: benchInfo.MaxParallelism}
	be, err := memstate.New().NewBackend(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := be.(statebackend.Restorer).Restore(fs, handles); err != nil {
		t.Fatal(err)
	}
	return be
}

func benchOpen(b *testing.B, be statebackend.Backend) statebackend.Table[int64, statebackend.Void, int64] {
	b.Helper()
	tab, err := statebackend.Open[int64, statebackend.Void, int64](be, "counts")
	if err != nil {
		b.Fatal(err)
	}
	return tab
}

// benchLoaded returns a backend whose table "counts" holds keys [0, benchKeys).
func benchLoaded(b *testing.B) statebackend.Backend {
	be := benchBackend(b)
	tab := benchOpen(b, be)
	for k := range int64(benchKeys) {
		tab.Put(benchScatter(k), k, statebackend.Void{}, k)
	}
	return be
}

func benchLocal(b *testing.B) *vfs.Local {
	b.Helper()
	fs, err := vfs.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return fs
}

// benchPersist snapshots be and persists it under dir of fs.
func benchPersist(b *testing.B, be statebackend.Backend, fs vfs.FS, dir string) statebackend.Handle {
	b.Helper()
	s, err := be.Snapshot(be.Info().KeyGroups)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Release()
	if err := fs.MkdirAll(dir); err != nil {
		b.Fatal(err)
	}
	h, err := s.(statebackend.Persister).Persist(fs, dir)
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkCheckpoint1M measures the synchronous Snapshot alone, and full
// checkpoints (Snapshot, Persist to a fresh local directory, Release) of
// 1M int64 -> int64 entries without namespaces.
func BenchmarkCheckpoint1M(b *testing.B) {
	be := benchLoaded(b)
	b.Run("snapshot", func(b *testing.B) {
		for b.Loop() {
			s, err := be.Snapshot(benchInfo.KeyGroups)
			if err != nil {
				b.Fatal(err)
			}
			s.Release()
		}
	})
	b.Run("full", func(b *testing.B) {
		var h statebackend.Handle
		var total time.Duration
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			fs := benchLocal(b)
			b.StartTimer()
			start := time.Now()
			h = benchPersist(b, be, fs, "chk")
			total += time.Since(start)
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/checkpoint")
		b.ReportMetric(float64(h.Bytes), "bytes/checkpoint")
	})
}

// BenchmarkRestore1M restores a checkpoint of 1M entries into a new
// backend at the same parallelism and opens the table (memstate decodes
// the entries on open), and the same merging two subtasks' checkpoints.
func BenchmarkRestore1M(b *testing.B) {
	be := benchLoaded(b)
	fs := benchLocal(b)
	h := benchPersist(b, be, fs, "chk")
	restoreInto := func(b *testing.B, handles ...statebackend.Handle) {
		var total time.Duration
		var n int64
		b.ReportAllocs()
		for b.Loop() {
			start := time.Now()
			r, err := memstate.New().NewBackend(benchInfo)
			if err != nil {
				b.Fatal(err)
			}
			if err := r.(statebackend.Restorer).Restore(fs, handles); err != nil {
				b.Fatal(err)
			}
			tab := benchOpen(b, r)
			total += time.Since(start)
			b.StopTimer()
			if n = int64(tab.Len(benchScatter(7))); n == 0 {
				b.Fatal("restored table is empty")
			}
			r.Close()
			b.StartTimer()
		}
		var bytes int64
		for _, h := range handles {
			bytes += h.Bytes
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/restore")
		b.ReportMetric(float64(bytes), "bytes/checkpoint")
	}
	b.Run("same", func(b *testing.B) { restoreInto(b, h) })

	half := statebackend.DefaultMaxParallelism / 2
	var halves []statebackend.Handle
	for i, r := range []statebackend.KeyGroupRange{{Start: 0, End: half}, {Start: half, End: 2 * half}} {
		src := restoredBackend(b, fs, "bench", i, r, h)
		benchOpen(b, src)
		halves = append(halves, benchPersist(b, src, fs, "half-"+string(rune('0'+i))))
		src.Close()
	}
	b.Run("merge2to1", func(b *testing.B) { restoreInto(b, halves...) })
}
