package memstate_test

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/statebackend/vfs"
)

// wide is a value too large for the open table's entries (a slab table).
type wide struct {
	A    [24]int64
	Name string
}

// entryAt is where a model entry lives.
type entryAt[K, N comparable] struct {
	kg int
	k  K
	n  N
}

type opener[K, N comparable, V any] func(statebackend.Backend, string) (statebackend.Table[K, N, V], error)

// roundTrip fills table name, opened with open, with entries of gen
// (replacing and deleting some), snapshots it, changes it after the
// snapshot, persists the snapshot and restores it into two backends of
// half the key groups each: every entry of the snapshot, and nothing else,
// comes back. It also checks that the table was written as plain
// sections exactly when wantPlain.
func roundTrip[K, N comparable, V any](t *testing.T, name string, open opener[K, N, V], gen func(i int) (K, N, V), wantPlain bool) {
	t.Helper()
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("%s: seed %d", name, seed)
	be := benchBackend(t)
	tab, err := open(be, name)
	if err != nil {
		t.Fatal(err)
	}
	want := map[entryAt[K, N]]V{}
	const n = 3000
	for i := range 3 * n {
		k, ns, v := gen(rng.IntN(n))
		at := entryAt[K, N]{kg: int(rng.Uint64() % statebackend.DefaultMaxParallelism), k: k, n: ns}
		if i%5 == 4 {
			tab.Delete(at.kg, k, ns)
			delete(want, at)
			continue
		}
		tab.Put(at.kg, k, ns, v)
		want[at] = v
	}
	fs, h := persistMem(t, be, func() {
		for at := range want { // after the snapshot: not in the checkpoint
			tab.Delete(at.kg, at.k, at.n)
		}
	})
	var meta struct {
		Version int               `json:"version"`
		Schemas map[string]string `json:"schemas"`
	}
	if err := json.Unmarshal(h.Meta, &meta); err != nil {
		t.Fatal(err)
	}
	if _, plain := meta.Schemas[name]; plain != wantPlain || meta.Version != 2 {
		t.Errorf("%s: version %d, schemas %v; want version 2 and plain sections: %t", name, meta.Version, meta.Schemas, wantPlain)
	}
	found := 0
	for i, r := range halves() {
		rb := restoredBackend(t, fs, "restore", i, r, h)
		rt, err := open(rb, name)
		if err != nil {
			t.Fatal(err)
		}
		for at, v := range want {
			if !r.Contains(at.kg) {
				continue
			}
			if got, ok := rt.Get(at.kg, at.k, at.n); !ok || !reflect.DeepEqual(got, v) {
				t.Fatalf("%s (seed %d): key group %d key %v namespace %v restored as %#v, %t; want %#v", name, seed, at.kg, at.k, at.n, got, ok, v)
			}
			found++
		}
		total := 0
		for kg := r.Start; kg < r.End; kg++ {
			total += rt.Len(kg)
		}
		for at := range want {
			if r.Contains(at.kg) {
				total--
			}
		}
		if total != 0 {
			t.Errorf("%s (seed %d): subtask %d restored %d entries more than the snapshot held", name, seed, i, total)
		}
		rb.Close()
	}
	if found != len(want) {
		t.Errorf("%s (seed %d): %d entries restored, want %d", name, seed, found, len(want))
	}
}

func halves() []statebackend.KeyGroupRange {
	half := statebackend.DefaultMaxParallelism / 2
	return []statebackend.KeyGroupRange{{Start: 0, End: half}, {Start: half, End: 2 * half}}
}

// TestPersistLayouts round-trips a table of every heap layout through a
// persisted snapshot: the open table (small values), the slab (wide
// values), the nested open table (namespaces), the map-based tables (keys
// the open table does not take: floats), a packed table, all as plain
// sections, and a table of map values, which has no plain encoding, as
// gob.
func TestPersistLayouts(t *testing.T) {
	void := statebackend.Void{}
	roundTrip(t, "open", statebackend.Open[int64, statebackend.Void, int64], func(i int) (int64, statebackend.Void, int64) {
		return int64(i), void, int64(i) * 3
	}, true)
	roundTrip(t, "slab", statebackend.Open[int64, statebackend.Void, wide], func(i int) (int64, statebackend.Void, wide) {
		w := wide{Name: fmt.Sprint("w", i)}
		w.A[i%24] = int64(i)
		return int64(i), void, w
	}, true)
	roundTrip(t, "nestopen", statebackend.Open[string, int64, stamped], func(i int) (string, int64, stamped) {
		return fmt.Sprint("k", i/4), int64(i % 4), stampedOf(i)
	}, true)
	roundTrip(t, "flat", statebackend.Open[float64, statebackend.Void, stamped], func(i int) (float64, statebackend.Void, stamped) {
		return float64(i) / 4, void, stampedOf(i)
	}, true)
	roundTrip(t, "nest", statebackend.Open[float64, string, string], func(i int) (float64, string, string) {
		return float64(i / 3), fmt.Sprint("ns", i%3), strings.Repeat("v", i%7)
	}, true)
	roundTrip(t, "packed", statebackend.OpenPacked[int64, statebackend.Void, stamped], func(i int) (int64, statebackend.Void, stamped) {
		return int64(i), void, stampedOf(i)
	}, true)
	roundTrip(t, "packedstring", statebackend.OpenPacked[int64, statebackend.Void, string], func(i int) (int64, statebackend.Void, string) {
		return int64(i), void, strings.Repeat("s", i%9)
	}, true)
	roundTrip(t, "packednest", statebackend.OpenPacked[int64, int64, stamped], func(i int) (int64, int64, stamped) {
		return int64(i / 2), int64(i % 2), stampedOf(i)
	}, true)
	roundTrip(t, "gob", statebackend.Open[int64, statebackend.Void, map[string]int64], func(i int) (int64, statebackend.Void, map[string]int64) {
		return int64(i), void, map[string]int64{fmt.Sprint(i): int64(i)}
	}, false)
}

// persisted writes a snapshot of a backend with one table, "t", of keys
// 0..n-1 (key group k%16, value stampedOf(k)), and returns its storage and
// handle.
func persisted(t *testing.T, n int) (*vfs.Mem, statebackend.Handle) {
	t.Helper()
	be := benchBackend(t)
	tab, err := statebackend.Open[int64, statebackend.Void, stamped](be, "t")
	if err != nil {
		t.Fatal(err)
	}
	for k := range int64(n) {
		tab.Put(int(k%16), k, statebackend.Void{}, stampedOf(int(k)))
	}
	return persistMem(t, be, func() {})
}

// persistMem snapshots every key group of be, calls after (to write what
// the snapshot must not hold), and persists the snapshot to chk/ of a new
// in-memory file system.
func persistMem(t *testing.T, be statebackend.Backend, after func()) (*vfs.Mem, statebackend.Handle) {
	t.Helper()
	s, err := be.Snapshot(benchInfo.KeyGroups)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	after()
	fs := vfs.NewMem()
	if err := fs.MkdirAll("chk"); err != nil {
		t.Fatal(err)
	}
	h, err := s.(statebackend.Persister).Persist(fs, "chk")
	if err != nil {
		t.Fatal(err)
	}
	return fs, h
}

// restoreErr restores h and opens "t" with value type V, and returns the
// first error.
func restoreErr[V any](fs vfs.FS, h statebackend.Handle) error {
	rb, err := memstate.New().NewBackend(benchInfo)
	if err != nil {
		return err
	}
	defer rb.Close()
	if err := rb.(statebackend.Restorer).Restore(fs, []statebackend.Handle{h}); err != nil {
		return err
	}
	_, err = statebackend.Open[int64, statebackend.Void, V](rb, "t")
	return err
}

// TestRestoreVersion1 restores a file of the first format, gob streams
// for every table, as earlier builds wrote it.
func TestRestoreVersion1(t *testing.T) {
	var buf bytes.Buffer
	secs := map[int]map[string]int64{}
	for kg := range 3 {
		start := buf.Len()
		enc := gob.NewEncoder(&buf)
		for k := int64(kg); k < 30; k += 3 {
			if err := enc.Encode(k); err != nil {
				t.Fatal(err)
			}
			if err := enc.Encode(stampedOf(int(k))); err != nil {
				t.Fatal(err)
			}
		}
		secs[kg] = map[string]int64{"off": int64(start), "len": int64(buf.Len() - start)}
	}
	meta, err := json.Marshal(map[string]any{"version": 1, "tables": map[string]any{"t": secs}, "void": map[string]bool{"t": true}})
	if err != nil {
		t.Fatal(err)
	}
	fs := vfs.NewMem()
	if err := fs.MkdirAll("chk"); err != nil {
		t.Fatal(err)
	}
	if err := vfs.WriteFile(fs, "chk/old.mem", buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	h := statebackend.Handle{Backend: "memstate", Operator: "bench", KeyGroups: benchInfo.KeyGroups, Files: []string{"chk/old.mem"}, Meta: meta}
	rb := restoredBackend(t, fs, "bench", 0, benchInfo.KeyGroups, h)
	defer rb.Close()
	tab, err := statebackend.Open[int64, statebackend.Void, stamped](rb, "t")
	if err != nil {
		t.Fatal(err)
	}
	for k := range int64(30) {
		if got, ok := tab.Get(int(k%3), k, statebackend.Void{}); !ok || got != stampedOf(int(k)) {
			t.Errorf("key %d restored as %+v, %t", k, got, ok)
		}
	}
}

// TestRestoreSectionErrors: a table opened with another value type than
// it was written with, a section cut short, and a file of a later version
// are errors that name what is wrong and where.
func TestRestoreSectionErrors(t *testing.T) {
	fs, h := persisted(t, 200)
	if err := restoreErr[stamped](fs, h); err != nil {
		t.Fatalf("restore as written: %v", err)
	}
	err := restoreErr[int64](fs, h)
	if err == nil || !strings.Contains(err.Error(), `restore table "t" key group`) || !strings.Contains(err.Error(), "written as") {
		t.Errorf("another value type: %v", err)
	}

	cut := h
	cut.Meta = cutSection(t, h.Meta)
	err = restoreErr[stamped](fs, cut)
	if err == nil || !strings.Contains(err.Error(), `restore table "t" key group 5 of bench: entry at byte`) {
		t.Errorf("a section cut short: %v", err)
	}

	later := h
	later.Meta = bytes.Replace(h.Meta, []byte(`"version":2`), []byte(`"version":3`), 1)
	err = restoreErr[stamped](fs, later)
	if err == nil || !strings.Contains(err.Error(), "is of version 3; this build reads 1 to 2") {
		t.Errorf("version 3: %v", err)
	}
}

// cutSection returns meta with the section of key group 5 of table "t"
// three bytes shorter.
func cutSection(t *testing.T, meta []byte) []byte {
	t.Helper()
	var idx map[string]json.RawMessage
	if err := json.Unmarshal(meta, &idx); err != nil {
		t.Fatal(err)
	}
	var tables map[string]map[string]map[string]int64
	if err := json.Unmarshal(idx["tables"], &tables); err != nil {
		t.Fatal(err)
	}
	tables["t"]["5"]["len"] -= 3
	data, err := json.Marshal(tables)
	if err != nil {
		t.Fatal(err)
	}
	idx["tables"] = data
	out, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPersistSteps: StartPersist and Step write what Persist writes, one
// section (a table's non-empty key group) per step and a last step that
// finishes the file and gives the handle; a step after that fails.
func TestPersistSteps(t *testing.T) {
	be := benchBackend(t)
	a, err := statebackend.Open[int64, statebackend.Void, stamped](be, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := statebackend.Open[int64, string, int64](be, "b") // gob sections
	if err != nil {
		t.Fatal(err)
	}
	for k := range int64(100) {
		a.Put(int(k%16), k, statebackend.Void{}, stampedOf(int(k)))
		if k%3 == 0 {
			b.Put(int(k%5), k, "n", k) // key groups 0-4
		}
	}
	whole, want := persistMem(t, be, func() {})
	s, err := be.Snapshot(benchInfo.KeyGroups)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	fs := vfs.NewMem()
	if err := fs.MkdirAll("chk"); err != nil {
		t.Fatal(err)
	}
	job, err := s.(statebackend.StepPersister).StartPersist(fs, "chk")
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	var h statebackend.Handle
	for done := false; !done; {
		if h, done, err = job.Step(); err != nil {
			t.Fatalf("step %d: %v", steps+1, err)
		}
		steps++
	}
	if steps != 16+5+1 {
		t.Errorf("%d steps, want 22 (16 + 5 sections, then the end)", steps)
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("handle of the steps %+v, want Persist's %+v", h, want)
	}
	got, err := fs.ReadFile(h.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	data, err := whole.ReadFile(want.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("the steps wrote %d bytes, unlike Persist's %d", len(got), len(data))
	}
	if _, done, err := job.Step(); !done || err == nil {
		t.Errorf("a step after the end: done %v, error %v; want done and an error", done, err)
	}
}
