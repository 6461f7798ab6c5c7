package wal_test

import (
	"fmt"
	"os"

	"github.com/weirstream/weir/connectors/wal"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

func Example() {
	dir, _ := os.MkdirTemp("", "wal-example")
	defer os.RemoveAll(dir)
	l, err := wal.Open(dir, wal.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	src := wal.NewSource(l, wal.JSONCodec[string]())

	job := stream.NewJob("greetings")
	out := testkit.Collect(stream.FromSource(job, "greetings", src).
		Map(func(s string) string { return "hello, " + s }))

	// Values pushed from Go code are durable in the log once Push returns.
	src.Push("ada", "grace")
	src.Push("barbara")
	src.EndInput()

	if err := testkit.RunErr(job); err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range out.Values() {
		fmt.Println(v)
	}
	// Output:
	// hello, ada
	// hello, grace
	// hello, barbara
}

func ExampleLog_NewReader() {
	dir, _ := os.MkdirTemp("", "wal-example")
	defer os.RemoveAll(dir)
	l, _ := wal.Open(dir, wal.Options{Sync: wal.SyncNever})
	defer l.Close()
	l.Append([]byte("a"), []byte("b"))
	l.Append([]byte("c"))

	r, _ := l.NewReader(2) // from the second record
	defer r.Close()
	for {
		rec, ok, err := r.TryNext()
		if err != nil || !ok {
			break
		}
		fmt.Println(rec.Seq, string(rec.Payload))
	}
	// Output:
	// 2 b
	// 3 c
}
