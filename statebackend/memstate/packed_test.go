package memstate_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/statebackend"
)

// stamped is a packed value: strings and a time.
type stamped struct {
	Name string
	At   time.Time
	N    int64
}

func stampedOf(i int) stamped {
	return stamped{Name: strings.Repeat("n", i%50) + strconv.Itoa(i), At: time.UnixMilli(int64(i) * 1001).UTC(), N: int64(i)}
}

// TestPackedRestore checkpoints a packed table whose values were replaced
// many times (so that key groups compacted), writes to it after the
// snapshot, and restores the checkpoint into two backends of half the key
// groups each, packed and not: every key has its value of the snapshot.
func TestPackedRestore(t *testing.T) {
	be := benchBackend(t)
	tab, err := statebackend.OpenPacked[int64, statebackend.Void, stamped](be, "latest")
	if err != nil {
		t.Fatal(err)
	}
	const keys = 3000
	want := map[int64]stamped{}
	for i := range 40 * keys {
		k := int64(i % keys)
		if i%7 == 3 {
			tab.Delete(benchScatter(k), k, statebackend.Void{})
			delete(want, k)
			continue
		}
		tab.Put(benchScatter(k), k, statebackend.Void{}, stampedOf(i))
		want[k] = stampedOf(i)
	}
	fs, h := persistMem(t, be, func() {
		for k := range int64(keys) { // after the snapshot: not in the checkpoint
			tab.Put(benchScatter(k), k, statebackend.Void{}, stampedOf(1<<20))
		}
	})
	half := statebackend.DefaultMaxParallelism / 2
	for _, packed := range []bool{true, false} {
		found := 0
		for i, r := range []statebackend.KeyGroupRange{{Start: 0, End: half}, {Start: half, End: 2 * half}} {
			rb := restoredBackend(t, fs, "restore", i, r, h)
			open := statebackend.Open[int64, statebackend.Void, stamped]
			if packed {
				open = statebackend.OpenPacked[int64, statebackend.Void, stamped]
			}
			rt, err := open(rb, "latest")
			if err != nil {
				t.Fatal(err)
			}
			for k := range int64(keys) {
				kg := benchScatter(k)
				if !r.Contains(kg) {
					continue
				}
				got, ok := rt.Get(kg, k, statebackend.Void{})
				w, exists := want[k]
				if ok != exists || got != w {
					t.Fatalf("packed=%t: key %d restored as %+v, %t; want %+v, %t", packed, k, got, ok, w, exists)
				}
				if ok {
					found++
				}
			}
			rb.Close()
		}
		if found != len(want) {
			t.Errorf("packed=%t: %d keys restored, want %d", packed, found, len(want))
		}
	}
}

// TestPackedOpenErrors: a type a packed table cannot hold, and a name
// opened before as an ordinary table, are errors that say so.
func TestPackedOpenErrors(t *testing.T) {
	be := benchBackend(t)
	_, err := statebackend.OpenPacked[int64, statebackend.Void, map[string]int](be, "m")
	if err == nil || !strings.Contains(err.Error(), `packed table "m" of bench: value type map[string]int has no plain encoding`) {
		t.Errorf("map values: %v", err)
	}
	if _, err := statebackend.Open[int64, statebackend.Void, stamped](be, "plain"); err != nil {
		t.Fatal(err)
	}
	_, err = statebackend.OpenPacked[int64, statebackend.Void, stamped](be, "plain")
	if err == nil || !strings.Contains(err.Error(), `table "plain" of bench opened before as`) {
		t.Errorf("reopened packed: %v", err)
	}
}
