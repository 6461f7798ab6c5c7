package statebackend_test

import (
	"fmt"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
)

// A word count keeps one counter per word and updates it in place; a
// snapshot taken in the middle keeps showing the counts of its moment.
func ExampleOpen() {
	b, err := memstate.New().NewBackend(statebackend.TaskInfo{
		Operator:  "wordcount",
		KeyGroups: statebackend.KeyGroupRange{Start: 0, End: 4},
	})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	counts, err := statebackend.Open[string, statebackend.Void, int64](b, "counts")
	if err != nil {
		panic(err)
	}
	ptrs := counts.(statebackend.Pointers[string, statebackend.Void, int64])
	count := func(words ...string) {
		for _, w := range words {
			kg := len(w) % 4 // a real job hashes the key
			p, _ := ptrs.Ptr(kg, w, statebackend.Void{}, true)
			*p++
		}
	}

	count("to", "be", "or", "not", "to", "be")
	snap, err := b.Snapshot(b.Info().KeyGroups)
	if err != nil {
		panic(err)
	}
	count("to", "go")

	now, _ := counts.Get(2, "to", statebackend.Void{})
	fmt.Println("now: to =", now)
	snap.Table("counts").ForEach(2, func(key, _, value any) bool {
		if key == "to" {
			fmt.Println("snapshot: to =", value)
		}
		return true
	})
	snap.Release()
	// Output:
	// now: to = 3
	// snapshot: to = 2
}
