package file_test

import (
	"fmt"
	"os"
	"strconv"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/operators"
)

// The two phases by hand, as the runtime drives them: records are
// invisible after PreCommit and visible after Commit.
func ExampleNewSink() {
	dir, err := os.MkdirTemp("", "weir-file-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	type bid struct {
		Auction int
		Price   float64
	}
	sink := file.NewSink(dir, file.CSV([]string{"auction", "price"}, func(b bid) []string {
		return []string{strconv.Itoa(b.Auction), strconv.FormatFloat(b.Price, 'f', 2, 64)}
	}), file.Options{})

	w, err := sink.Open(&operators.Context{Operator: "bids", Subtask: 0, Parallelism: 1})
	if err != nil {
		panic(err)
	}
	defer w.Close()
	txn := w.(operators.TwoPhaseCommitWriter)

	b := operators.NewBatch[bid](2)
	b.Append(bid{1, 9.5}, 0)
	b.Append(bid{2, 120}, 0)
	if err := w.Write(b); err != nil {
		panic(err)
	}
	if err := w.(operators.EndOfInput).EndOfInput(); err != nil {
		panic(err)
	}
	handle, err := txn.PreCommit(1)
	if err != nil {
		panic(err)
	}
	lines, _ := file.ReadCommitted(dir)
	fmt.Println("after PreCommit:", lines)

	if err := txn.Commit(handle); err != nil {
		panic(err)
	}
	lines, _ = file.ReadCommitted(dir)
	fmt.Println("after Commit:", lines)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	// Output:
	// after PreCommit: []
	// after Commit: [1,9.50 2,120.00]
	// part-0-1-0.csv
}
