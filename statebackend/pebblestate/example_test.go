package pebblestate_test

import (
	"fmt"
	"os"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/pebblestate"
	"github.com/weirstream/weir/statebackend/vfs"
)

// Two subtasks count words in Pebble, checkpoint, and the job restarts
// with one subtask, which gets the key groups of both.
func Example() {
	dir, err := os.MkdirTemp("", "weir-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	f := pebblestate.New(dir, pebblestate.Options{})
	storage := vfs.NewMem() // checkpoint storage; vfs.NewLocal for a directory

	var handles []statebackend.Handle
	for i, r := range []statebackend.KeyGroupRange{{Start: 0, End: 2}, {Start: 2, End: 4}} {
		b, err := f.NewBackend(statebackend.TaskInfo{Operator: "wordcount", Subtask: i, KeyGroups: r, MaxParallelism: 4})
		if err != nil {
			panic(err)
		}
		counts, err := statebackend.Open[string, statebackend.Void, int64](b, "counts")
		if err != nil {
			panic(err)
		}
		for _, w := range []string{"to", "be", "or", "not", "to", "be"} {
			kg := len(w) % 4 // a real job hashes the key
			if r.Contains(kg) {
				n, _ := counts.Get(kg, w, statebackend.Void{})
				counts.Put(kg, w, statebackend.Void{}, n+1)
			}
		}
		snap, err := b.Snapshot(r)
		if err != nil {
			panic(err)
		}
		chk := fmt.Sprintf("chk-1/wordcount-%d", i)
		if err := storage.MkdirAll(chk); err != nil {
			panic(err)
		}
		h, err := snap.(statebackend.Persister).Persist(storage, chk)
		if err != nil {
			panic(err)
		}
		snap.Release()
		b.Close()
		handles = append(handles, h)
	}

	b, err := f.NewBackend(statebackend.TaskInfo{Operator: "wordcount", KeyGroups: statebackend.KeyGroupRange{Start: 0, End: 4}, MaxParallelism: 4})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	if err := b.(statebackend.Restorer).Restore(storage, handles); err != nil {
		panic(err)
	}
	counts, err := statebackend.Open[string, statebackend.Void, int64](b, "counts")
	if err != nil {
		panic(err)
	}
	for _, w := range []string{"to", "be", "not"} {
		n, _ := counts.Get(len(w)%4, w, statebackend.Void{})
		fmt.Println(w, n)
	}
	// Output:
	// to 2
	// be 2
	// not 1
}
