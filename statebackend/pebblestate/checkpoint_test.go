package pebblestate_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/pebblestate"
	"github.com/weirstream/weir/statebackend/vfs"
)

const maxPar = 16

type void = statebackend.Void

// window is a struct namespace; agg a struct value with a slice (both have
// a plain encoding); tags is a value only gob can encode.
type (
	window struct{ Start, End int64 }
	agg    struct {
		Sum   float64
		Count int64
		Tags  []string
	}
	tags map[string]int
)

func kgr(start, end int) statebackend.KeyGroupRange {
	return statebackend.KeyGroupRange{Start: start, End: end}
}

func taskInfo(op string, subtask int, r statebackend.KeyGroupRange) statebackend.TaskInfo {
	return statebackend.TaskInfo{Operator: op, Subtask: subtask, KeyGroups: r, MaxParallelism: maxPar}
}

// newBackend creates a Pebble backend closed at the end of the test.
func newBackend(t testing.TB, f *pebblestate.Factory, info statebackend.TaskInfo) *pebblestate.Backend {
	t.Helper()
	return create(t, f, info).(*pebblestate.Backend)
}

// create creates a backend closed at the end of the test.
func create(t testing.TB, f statebackend.Factory, info statebackend.TaskInfo) statebackend.Backend {
	t.Helper()
	b, err := f.NewBackend(info)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func open[K, N comparable, V any](t testing.TB, b statebackend.Backend, name string) statebackend.Table[K, N, V] {
	t.Helper()
	tab, err := statebackend.Open[K, N, V](b, name)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// kgOf spreads int keys over the key groups of r.
func kgOf(k int64, r statebackend.KeyGroupRange) int { return r.Start + int(k%int64(r.Len())) }

// state is the reference contents of a backend: key group -> "table/key/ns" -> value.
type state map[int]map[string]string

func (s state) put(kg int, table string, k, n, v any) {
	if s[kg] == nil {
		s[kg] = map[string]string{}
	}
	s[kg][fmt.Sprintf("%s/%v/%v", table, k, n)] = fmt.Sprintf("%v", v)
}

func (s state) del(kg int, table string, k, n any) {
	delete(s[kg], fmt.Sprintf("%s/%v/%v", table, k, n))
}

// within returns the part of s in r.
func (s state) within(r statebackend.KeyGroupRange) state {
	out := state{}
	for kg, m := range s {
		if r.Contains(kg) && len(m) > 0 {
			out[kg] = maps.Clone(m)
		}
	}
	return out
}

// writer fills three tables of a backend and records what it wrote.
type writer struct {
	counts  statebackend.Table[int64, void, int64]
	windows statebackend.Table[string, window, agg]
	labels  statebackend.Table[int64, void, tags]
	r       statebackend.KeyGroupRange
	want    state
}

func newWriter(t testing.TB, b statebackend.Backend) *writer {
	return &writer{
		counts:  open[int64, void, int64](t, b, "counts"),
		windows: open[string, window, agg](t, b, "windows"),
		labels:  open[int64, void, tags](t, b, "labels"),
		r:       b.Info().KeyGroups,
		want:    state{},
	}
}

// write writes keys [from, to) of every table; round changes the values.
func (w *writer) write(from, to int64, round int) {
	for k := from; k < to; k++ {
		kg := kgOf(k, w.r)
		w.counts.Put(kg, k, void{}, k*10+int64(round))
		w.want.put(kg, "counts", k, void{}, k*10+int64(round))
		if k%3 == 0 {
			key, ns := fmt.Sprintf("user-%d", k), window{Start: k % 5 * 60, End: k%5*60 + 60}
			v := agg{Sum: float64(k) / 2, Count: int64(round), Tags: []string{"a", fmt.Sprint(k)}}
			w.windows.Put(kg, key, ns, v)
			w.want.put(kg, "windows", key, ns, v)
		}
		if k%7 == 0 {
			v := tags{"k": int(k), "round": round}
			w.labels.Put(kg, k, void{}, v)
			w.want.put(kg, "labels", k, void{}, v)
		}
	}
}

// remove deletes keys [from, to) of counts.
func (w *writer) remove(from, to int64) {
	for k := from; k < to; k++ {
		w.counts.Delete(kgOf(k, w.r), k, void{})
		w.want.del(kgOf(k, w.r), "counts", k, void{})
	}
}

// contents reads all tables of b through a snapshot.
func contents(t testing.TB, b statebackend.Backend) state {
	t.Helper()
	r := b.Info().KeyGroups
	s, err := b.Snapshot(r)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	got := state{}
	for _, name := range s.Tables() {
		ts := s.Table(name)
		for kg := r.Start; kg < r.End; kg++ {
			n := 0
			ts.ForEach(kg, func(k, ns, v any) bool {
				got.put(kg, name, k, ns, v)
				n++
				return true
			})
			if l := ts.Len(kg); l != n {
				t.Errorf("table %s: Len(%d) = %d, ForEach saw %d", name, kg, l, n)
			}
		}
	}
	if err := s.(interface{ Err() error }).Err(); err != nil {
		t.Fatal(err)
	}
	return got.within(r)
}

func diff(t testing.TB, what string, got, want state) {
	t.Helper()
	for kg := range maxPar {
		for k, w := range want[kg] {
			if g, ok := got[kg][k]; !ok || g != w {
				t.Fatalf("%s: key group %d: %s = %q (present %t), want %q", what, kg, k, g, ok, w)
			}
		}
		for k, g := range got[kg] {
			if _, ok := want[kg][k]; !ok {
				t.Fatalf("%s: key group %d: unexpected %s = %q", what, kg, k, g)
			}
		}
	}
}

// persist snapshots b's key groups and persists them under dir.
func persist(t testing.TB, b statebackend.Backend, fs vfs.FS, dir string) statebackend.Handle {
	t.Helper()
	s, err := b.Snapshot(b.Info().KeyGroups)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	if err := fs.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	h, err := s.(statebackend.Persister).Persist(fs, dir)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// restore creates a backend for info and restores handles into it.
func restore(t testing.TB, f *pebblestate.Factory, info statebackend.TaskInfo, fs vfs.FS, handles ...statebackend.Handle) *pebblestate.Backend {
	t.Helper()
	b := newBackend(t, f, info)
	if err := b.Restore(fs, handles); err != nil {
		t.Fatal(err)
	}
	return b
}

// reopen opens the tables of a restored backend, so that they are listed
// in snapshots, and checks a few entries through Get.
func reopen(t testing.TB, b statebackend.Backend, want state) {
	t.Helper()
	w := newWriter(t, b)
	n := 0
	for kg, m := range want {
		for k, v := range m {
			var key int64
			if _, err := fmt.Sscanf(k, "counts/%d/", &key); err != nil || n > 50 {
				continue
			}
			if got, ok := w.counts.Get(kg, key, void{}); !ok || fmt.Sprint(got) != v {
				t.Fatalf("Get(%d, %d) = %d, %t; want %s", kg, key, got, ok, v)
			}
			n++
		}
	}
}

// TestPersistRestoreRescale persists two subtasks [0,8) and [8,16) and
// restores them at parallelism 1 (merging), 3 (clipping and merging) and 2
// (the same key groups).
func TestPersistRestoreRescale(t *testing.T) {
	f := pebblestate.New(t.TempDir(), small)
	fs := vfs.NewMem()
	srcA := newBackend(t, f, taskInfo("op", 0, kgr(0, 8)))
	srcB := newBackend(t, f, taskInfo("op", 1, kgr(8, 16)))
	// Open the tables in another order in B, so that their ids differ.
	_ = open[int64, void, tags](t, srcB, "labels")
	wa, wb := newWriter(t, srcA), newWriter(t, srcB)
	wa.write(0, 3000, 0)
	wb.write(0, 3000, 0)
	wa.remove(0, 300)
	wb.write(100, 200, 1)
	want := state{}
	maps.Copy(want, wa.want.within(wa.r)) // deep copies: the writers go on
	maps.Copy(want, wb.want.within(wb.r))

	ha := persist(t, srcA, fs, "chk-1/op-0")
	hb := persist(t, srcB, fs, "chk-1/op-1")
	wa.write(0, 3000, 9) // after the checkpoint: not in it
	wb.remove(0, 3000)

	for _, c := range []struct {
		name   string
		ranges []statebackend.KeyGroupRange
	}{
		{"p1", []statebackend.KeyGroupRange{kgr(0, 16)}},
		{"p3", []statebackend.KeyGroupRange{kgr(0, 3), kgr(3, 11), kgr(11, 16)}},
		{"p2", []statebackend.KeyGroupRange{kgr(0, 8), kgr(8, 16)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for i, r := range c.ranges {
				b := restore(t, f, taskInfo("op", i, r), fs, ha, hb)
				reopen(t, b, want.within(r))
				diff(t, fmt.Sprintf("restored %v", r), contents(t, b), want.within(r))
			}
		})
	}
}

// TestIncremental checks that a checkpoint after a small change writes
// little, that restoring it sees the change, and that checkpoints after a
// restore at the same parallelism stay incremental.
func TestIncremental(t *testing.T) {
	keys := int64(200_000)
	if testing.Short() || raceEnabled {
		keys = 50_000
	}
	f := pebblestate.New(t.TempDir(), pebblestate.Options{CacheSize: 1 << 20, MemTableSize: 4 << 20})
	fs, err := vfs.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	info := taskInfo("inc", 0, kgr(0, maxPar))
	b := newBackend(t, f, info)
	counts := open[int64, void, int64](t, b, "counts")
	for k := range keys {
		counts.Put(kgOf(k, info.KeyGroups), k, void{}, k)
	}
	// A bulk load leaves files that background compactions rewrite soon:
	// compact it into the bottom level, like a state that has lived a while.
	if err := b.Compact(); err != nil {
		t.Fatal(err)
	}
	full := persist(t, b, fs, "chk-1/inc-0")
	for k := int64(0); k < keys; k += 100 { // 1%
		counts.Put(kgOf(k, info.KeyGroups), k, void{}, -k)
	}
	incr := persist(t, b, fs, "chk-2/inc-0")
	t.Logf("%d keys: full checkpoint %d bytes in %d files, after changing 1%%: %d bytes (%.2f%%), %d files",
		keys, full.Bytes, len(full.Files), incr.Bytes, 100*float64(incr.Bytes)/float64(full.Bytes), len(incr.Files))
	if incr.Bytes*10 >= full.Bytes {
		t.Errorf("incremental checkpoint wrote %d bytes, full one %d: want < 10%%", incr.Bytes, full.Bytes)
	}
	if reused := shared(full.Files, incr.Files); reused == 0 {
		t.Errorf("incremental checkpoint reuses no file of the full one")
	}

	r := restore(t, f, info, fs, incr)
	rc := open[int64, void, int64](t, r, "counts")
	for _, k := range []int64{0, 1, 100, 101, keys - 1, keys - 100} {
		want := k
		if k%100 == 0 {
			want = -k
		}
		if got, ok := rc.Get(kgOf(k, info.KeyGroups), k, void{}); !ok || got != want {
			t.Fatalf("restored Get(%d) = %d, %t; want %d", k, got, ok, want)
		}
	}
	rc.Put(kgOf(7, info.KeyGroups), 7, void{}, 7000)
	again := persist(t, r, fs, "chk-3/inc-0")
	t.Logf("first checkpoint after restore: %d bytes, %d files", again.Bytes, len(again.Files))
	if again.Bytes*10 >= full.Bytes {
		t.Errorf("checkpoint after restore wrote %d bytes, full one %d: want < 10%%", again.Bytes, full.Bytes)
	}
}

// shared counts the files two checkpoints share.
func shared(a, b []string) int {
	n := 0
	for _, f := range b {
		if slices.Contains(a, f) {
			n++
		}
	}
	return n
}

// TestRestoreDamaged removes or corrupts one file of a checkpoint at a time
// and expects Restore to fail naming it.
func TestRestoreDamaged(t *testing.T) {
	f := pebblestate.New(t.TempDir(), small)
	fs := vfs.NewMem()
	info := taskInfo("dmg", 0, kgr(0, maxPar))
	src := newBackend(t, f, info)
	newWriter(t, src).write(0, 2000, 0)
	h := persist(t, src, fs, "chk-1/dmg-0")
	var sst, manifest string
	for _, p := range h.Files {
		switch {
		case strings.HasSuffix(p, ".sst"):
			sst = p
		case strings.HasPrefix(path.Base(p), "MANIFEST"):
			manifest = p
		}
	}
	if sst == "" || manifest == "" {
		t.Fatalf("no SST or MANIFEST in %q", h.Files)
	}
	damage := func(t *testing.T, name string, change func([]byte) []byte) {
		orig, err := fs.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { write(t, fs, name, orig) })
		if change == nil {
			if err := fs.Remove(name); err != nil {
				t.Fatal(err)
			}
			return
		}
		write(t, fs, name, change(slices.Clone(orig)))
	}
	for _, c := range []struct {
		name, file string
		change     func([]byte) []byte
		want       string
		is         error
	}{
		{"missing SST", sst, nil, "file " + sst, iofs.ErrNotExist},
		{"flipped byte", sst, func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, "file " + sst + " is corrupt", nil},
		{"truncated MANIFEST", manifest, func(b []byte) []byte { return b[:len(b)-1] }, "file " + manifest + " is corrupt", nil},
		{"missing MANIFEST", manifest, nil, "file " + manifest, iofs.ErrNotExist},
	} {
		t.Run(c.name, func(t *testing.T) {
			damage(t, c.file, c.change)
			for _, r := range []statebackend.KeyGroupRange{kgr(0, maxPar), kgr(0, 8)} { // base, clipped
				b := newBackend(t, f, taskInfo("dmg", 0, r))
				err := b.Restore(fs, []statebackend.Handle{h})
				if err == nil || !strings.Contains(err.Error(), c.want) || (c.is != nil && !errors.Is(err, c.is)) {
					t.Fatalf("Restore into %v: %v; want an error containing %q", r, err, c.want)
				}
				t.Logf("%v", err)
			}
			lo, hi := h, h // the same files, seen as two handles: Restore merges them
			lo.KeyGroups, hi.KeyGroups = kgr(0, 2), kgr(2, maxPar)
			b := newBackend(t, f, taskInfo("dmg", 0, kgr(0, 4)))
			err := b.Restore(fs, []statebackend.Handle{lo, hi})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Restore with merging: %v; want an error containing %q", err, c.want)
			}
		})
	}
	// Undamaged again: the restore works.
	b := restore(t, f, info, fs, h)
	reopen(t, b, nil)
}

func write(t testing.TB, fs vfs.FS, name string, data []byte) {
	t.Helper()
	f, err := fs.Create(name)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestPersistFaults fails every write operation of Persist in turn, into
// empty storage: each failure is reported. Then it fails the first, second,
// ... write operation of Persist calls into one storage until one succeeds
// (reusing the shared files the failed ones stored), and restores that.
func TestPersistFaults(t *testing.T) {
	f := pebblestate.New(t.TempDir(), small)
	info := taskInfo("faults", 0, kgr(0, maxPar))
	src := newBackend(t, f, info)
	w := newWriter(t, src)
	w.write(0, 1000, 0)
	ref := newWriter(t, newBackend(t, f, info)) // the state at the snapshot
	ref.write(0, 1000, 0)

	s, err := src.Snapshot(info.KeyGroups)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	p := s.(statebackend.Persister)
	counter := vfs.NewErrorFS(vfs.NewMem(), 0)
	if _, err := p.Persist(counter, "."); err != nil {
		t.Fatal(err)
	}
	ops := counter.Ops()
	t.Logf("Persist makes %d write operations", ops)
	for n := int64(1); n <= ops; n++ {
		if _, err := p.Persist(vfs.NewErrorFS(vfs.NewMem(), n), "."); !errors.Is(err, vfs.ErrInjected) {
			t.Fatalf("Persist failing at write operation %d: %v, want ErrInjected", n, err)
		}
		w.write(0, 10, int(n)) // the task goes on
	}

	mem := vfs.NewMem()
	var h statebackend.Handle
	for n := int64(1); ; n++ {
		dir := fmt.Sprintf("try-%d", n)
		if err := mem.MkdirAll(dir); err != nil {
			t.Fatal(err)
		}
		if h, err = p.Persist(vfs.NewErrorFS(mem, n), dir); err == nil {
			t.Logf("Persist succeeded failing at write operation %d", n)
			break
		}
		if !errors.Is(err, vfs.ErrInjected) || n > ops {
			t.Fatalf("Persist failing at write operation %d: %v, want ErrInjected", n, err)
		}
	}
	for _, p := range h.Files {
		if strings.Contains(p, ".tmp-") {
			t.Errorf("handle lists temporary file %s", p)
		}
	}
	b := restore(t, f, info, mem, h)
	reopen(t, b, ref.want)
	diff(t, "restored", contents(t, b), ref.want)
}

// TestSchemaChecked restores a table and opens it with other types.
func TestSchemaChecked(t *testing.T) {
	f := pebblestate.New(t.TempDir(), small)
	fs := vfs.NewMem()
	info := taskInfo("schema", 0, kgr(0, maxPar))
	src := newBackend(t, f, info)
	open[int64, void, int64](t, src, "t").Put(3, 3, void{}, 33)
	h := persist(t, src, fs, "chk")

	b := restore(t, f, info, fs, h)
	if _, err := statebackend.Open[int64, void, string](b, "t"); err == nil || !strings.Contains(err.Error(), "checkpointed as") {
		t.Fatalf("Open with another value type: %v", err)
	}
	if _, err := statebackend.Open[int64, int64, int64](b, "t"); err == nil {
		t.Fatal("Open with another namespace type: no error")
	}
	if got, ok := open[int64, void, int64](t, b, "t").Get(3, 3, void{}); !ok || got != 33 {
		t.Fatalf("Get = %d, %t", got, ok)
	}
	if err := b.Restore(fs, []statebackend.Handle{h}); err == nil {
		t.Fatal("second Restore: no error")
	}
}

// TestRestoreErrors feeds Restore handles it must refuse.
func TestRestoreErrors(t *testing.T) {
	f := pebblestate.New(t.TempDir(), small)
	fs := vfs.NewMem()
	info := taskInfo("errs", 0, kgr(0, maxPar))
	src := newBackend(t, f, info)
	open[int64, void, int64](t, src, "t").Put(3, 3, void{}, 33)
	h := persist(t, src, fs, "chk")
	with := func(change func(*statebackend.Handle)) statebackend.Handle {
		c := h
		change(&c)
		return c
	}
	for _, c := range []struct {
		name    string
		handles []statebackend.Handle
		want    string
	}{
		{"other backend", []statebackend.Handle{with(func(h *statebackend.Handle) { h.Backend = "memstate" })}, `backend "memstate"`},
		{"bad meta", []statebackend.Handle{with(func(h *statebackend.Handle) { h.Meta = []byte("{") })}, "meta"},
		{"version", []statebackend.Handle{with(func(h *statebackend.Handle) {
			h.Meta = []byte(strings.Replace(string(h.Meta), `"version":1`, `"version":99`, 1))
		})}, "meta version 99"},
		{"max parallelism", []statebackend.Handle{with(func(h *statebackend.Handle) {
			h.Meta = []byte(strings.Replace(string(h.Meta), `"max_parallelism":16`, `"max_parallelism":32`, 1))
		})}, "32 key groups"},
		{"file name", []statebackend.Handle{with(func(h *statebackend.Handle) {
			h.Meta = []byte(strings.Replace(string(h.Meta), `"files":[{"name":"`, `"files":[{"name":"../`, 1))
		})}, "invalid file name"},
		{"overlap", []statebackend.Handle{
			with(func(h *statebackend.Handle) { h.KeyGroups = kgr(0, 8) }),
			with(func(h *statebackend.Handle) { h.KeyGroups = kgr(4, 16) }),
		}, "overlap"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBackend(t, f, info)
			if err := b.Restore(fs, c.handles); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Restore: %v; want an error containing %q", err, c.want)
			}
		})
	}
	t.Run("after open", func(t *testing.T) {
		b := newBackend(t, f, info)
		open[int64, void, int64](t, b, "x")
		if err := b.Restore(fs, []statebackend.Handle{h}); err == nil {
			t.Fatal("Restore after Open: no error")
		}
	})
	t.Run("after close", func(t *testing.T) {
		b := newBackend(t, f, info)
		b.Close()
		if err := b.Restore(fs, []statebackend.Handle{h}); !errors.Is(err, statebackend.ErrClosed) {
			t.Fatalf("Restore after Close: %v, want ErrClosed", err)
		}
	})
	t.Run("not overlapping", func(t *testing.T) {
		b := restore(t, f, taskInfo("errs", 1, kgr(8, 16)), fs, with(func(h *statebackend.Handle) { h.KeyGroups = kgr(0, 8) }))
		if got := open[int64, void, int64](t, b, "t").Len(11); got != 0 {
			t.Fatalf("Len = %d after restoring nothing", got)
		}
	})
}

// TestStickyError stores a value gob cannot encode: the table reports it,
// and so does the next Snapshot.
func TestStickyError(t *testing.T) {
	f := pebblestate.New(t.TempDir(), small)
	b := newBackend(t, f, taskInfo("sticky", 0, kgr(0, maxPar)))
	tab := open[int64, void, map[string]any](t, b, "t")
	tab.Put(1, 1, void{}, map[string]any{"ok": 1})
	if err := tab.(interface{ Err() error }).Err(); err != nil {
		t.Fatal(err)
	}
	tab.Put(1, 2, void{}, map[string]any{"bad": make(chan int)})
	err := tab.(interface{ Err() error }).Err()
	if err == nil || !strings.Contains(err.Error(), "gob") {
		t.Fatalf("Err() = %v, want a gob error", err)
	}
	if _, serr := b.Snapshot(b.Info().KeyGroups); serr == nil || serr.Error() != err.Error() {
		t.Fatalf("Snapshot: %v, want %v", serr, err)
	}
	if v, ok := tab.Get(1, 1, void{}); !ok || v["ok"] != 1 {
		t.Fatalf("Get = %v, %t", v, ok)
	}
}

func TestNewBackend(t *testing.T) {
	dir := t.TempDir()
	f := pebblestate.New(dir, small)
	for _, info := range []statebackend.TaskInfo{
		{Operator: "neg", KeyGroups: kgr(-1, 3), MaxParallelism: 8},
		{Operator: "beyond", KeyGroups: kgr(4, 9), MaxParallelism: 8},
		{Operator: "reversed", KeyGroups: kgr(5, 4), MaxParallelism: 8},
		{Operator: "defaultmax", KeyGroups: kgr(0, 129)},
		{Operator: "toomany", KeyGroups: kgr(0, 4), MaxParallelism: 1 << 16},
	} {
		if b, err := f.NewBackend(info); err == nil {
			b.Close()
			t.Errorf("NewBackend(%+v): no error", info)
		}
	}
	if _, err := pebblestate.New(dir, pebblestate.Options{CacheSize: -1}).NewBackend(taskInfo("x", 0, kgr(0, 4))); err == nil {
		t.Error("negative CacheSize: no error")
	}
	b, err := f.NewBackend(statebackend.TaskInfo{Operator: "a/b c", Subtask: 3, KeyGroups: kgr(0, 128)})
	if err != nil {
		t.Fatal(err)
	}
	pb := b.(*pebblestate.Backend)
	if got := b.Info().MaxParallelism; got != statebackend.DefaultMaxParallelism {
		t.Errorf("MaxParallelism = %d", got)
	}
	if name := path.Base(pb.Dir()); !strings.HasPrefix(name, "a_b_c-3-") {
		t.Errorf("directory %s, want a_b_c-3-<random>", pb.Dir())
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pb.Dir()); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("directory after Close: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("factory directory not empty: %v", ents)
	}
}

// TestPersistReleased persists a released view and closes a backend with
// a live one.
func TestPersistReleased(t *testing.T) {
	f := pebblestate.New(t.TempDir(), small)
	b := newBackend(t, f, taskInfo("rel", 0, kgr(0, maxPar)))
	open[int64, void, int64](t, b, "t").Put(2, 2, void{}, 2)
	s, err := b.Snapshot(b.Info().KeyGroups)
	if err != nil {
		t.Fatal(err)
	}
	s.Release()
	if _, err := s.(statebackend.Persister).Persist(vfs.NewMem(), "."); err == nil {
		t.Fatal("Persist after Release: no error")
	}
	live, err := b.Snapshot(kgr(0, 4))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := live.(statebackend.Persister).Persist(vfs.NewMem(), "."); err == nil {
		t.Fatal("Persist after Close: no error")
	}
	live.Release()
}

// TestSync runs a round trip with a write-ahead log and real syncs.
func TestSync(t *testing.T) {
	f := pebblestate.New(t.TempDir(), pebblestate.Options{CacheSize: 1 << 20, MemTableSize: 256 << 10, Sync: true})
	fs := vfs.NewMem()
	src := newBackend(t, f, taskInfo("sync", 0, kgr(0, maxPar)))
	w := newWriter(t, src)
	w.write(0, 300, 0)
	h := persist(t, src, fs, "chk")
	w.write(0, 300, 1)
	ref := newWriter(t, newBackend(t, f, taskInfo("sync", 0, kgr(0, maxPar))))
	ref.write(0, 300, 0)
	for _, r := range []statebackend.KeyGroupRange{kgr(0, maxPar), kgr(0, 5)} {
		lo, hi := h, h
		lo.KeyGroups, hi.KeyGroups = kgr(0, 3), kgr(3, maxPar)
		for _, hs := range [][]statebackend.Handle{{h}, {lo, hi}} {
			b := restore(t, f, taskInfo("sync", 0, r), fs, hs...)
			reopen(t, b, ref.want.within(r))
			diff(t, fmt.Sprintf("restored %v from %d handles", r, len(hs)), contents(t, b), ref.want.within(r))
		}
	}
}
