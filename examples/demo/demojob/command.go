package demojob

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Command runs the demo as a command named name (for messages and the
// usage) with args (without the program name), and returns the exit
// status: 0 on success or -h, 1 when the job fails or the check does not
// match, 2 on bad flags. examples/demo and `weir demo` both use it.
func Command(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		fs.Usage()
		return 2
	}
	if err := Run(ctx, stdout, o.Events, o.Parallelism); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		if errors.Is(err, ErrBadSetting) {
			return 2
		}
		return 1
	}
	return 0
}
