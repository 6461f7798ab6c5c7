package operators_test

import (
	"fmt"

	"github.com/weirstream/weir/operators"
)

func ExampleKeyGroupRangeFor() {
	for s := range 3 {
		fmt.Println(s, operators.KeyGroupRangeFor(s, 128, 3))
	}
	// Output:
	// 0 [0,43)
	// 1 [43,86)
	// 2 [86,128)
}
