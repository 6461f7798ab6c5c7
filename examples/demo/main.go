// Command demo runs the weir demo job on embedded defaults: 20 million
// generated events through filter, map, keyBy and a rolling sum, then a
// summary with the throughput and a cross-check against a plain Go loop.
//
//	go run ./examples/demo [-events N] [-parallelism N]
//
// It exits 1 when the job fails or the check does not match, 2 on bad
// flags.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/weirstream/weir/examples/demo/demojob"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args (without the program name), runs the demo and returns
// the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return demojob.Command(ctx, "demo", args, stdout, stderr)
}
