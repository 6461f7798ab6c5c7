package spsc_test

import (
	"fmt"

	"github.com/weirstream/weir/internal/spsc"
)

func ExampleRing() {
	r := spsc.New[string](3) // rounded up to 4
	fmt.Println(r.Cap())

	// Producer side.
	r.TryPush("a")
	n := r.PushN([]string{"b", "c", "d", "e"}) // only 3 fit
	fmt.Println(n, r.Full())

	// Consumer side.
	next, _ := r.Peek()
	fmt.Println(*next)
	dst := make([]string, 8)
	n = r.PopN(dst)
	fmt.Println(dst[:n], r.Empty())
	// Output:
	// 4
	// 3 true
	// a
	// [a b c d] true
}
