package stream_test

import (
	"fmt"
	"slices"

	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

func Example() {
	job := stream.NewJob("totals")
	type sale struct {
		Shop   string
		Amount int
	}
	sales := stream.FromSlice(job, "sales", []sale{{"a", 5}, {"b", 1}, {"a", 7}, {"b", 2}})
	totals := testkit.Collect(sales.
		Filter(func(s sale) bool { return s.Amount > 1 }).
		KeyBy(func(s sale) string { return s.Shop }).
		Reduce(func(acc, s sale) sale { acc.Amount += s.Amount; return acc }))
	if err := testkit.RunErr(job); err != nil {
		fmt.Println(err)
		return
	}
	got := totals.Values()
	slices.SortFunc(got, func(x, y sale) int { return x.Amount - y.Amount })
	fmt.Println(got)
	// Output: [{b 2} {a 5} {a 12}]
}
