// Command windowsum is a packaged weir job: per key, the sum of the values
// of each 10-second tumbling event-time window of a CSV file, written
// exactly once to a directory of CSV part files.
//
//	windowsum --input events.csv --output out/ [--checkpoint-dir ckpt/] [--parallelism N]
//
// The input has the header "key,ts,value" and one event per line: a key
// (no commas or quotes), a UTC timestamp "YYYY-MM-DD HH:MM:SS[.fff]" and an
// integer value. Events may be out of order by up to 2 seconds (the
// watermark trails the latest timestamp by 2 s; later events are dropped).
// A malformed line fails the job with an error naming the file and line.
//
// The output directory receives files written through the transactional
// file sink (connectors/file): the visible (committed) ones hold CSV rows
// "key,window_start,window_end,sum" (header included, timestamps in the
// input's format with milliseconds), one row per key and window that has
// events; names starting with "." or "_" are uncommitted and must be
// ignored (file.ReadCommitted does).
//
// Without --checkpoint-dir the job runs once and commits its output at the
// end of the input. With --checkpoint-dir it checkpoints every
// --checkpoint-interval (default 1s) and commits at each checkpoint; if the
// process dies (kill -9, a crash, a power loss), rerunning the same command
// resumes from the latest complete checkpoint, and once a run ends with
// status 0 the committed files hold every window's result exactly once.
// The standard flags of jobmain (--parallelism, --restore, --log-level)
// work too; the parallelism may change between restarts.
//
// --state pebble keeps the window state on disk in Pebble databases rather
// than in memory (--state memstate, the default), under --state-dir: by
// default <checkpoint-dir>.state, cleared at start, or a temporary
// directory without --checkpoint-dir. The databases are scratch space: the
// state that survives a crash is in the checkpoints.
package main

import (
	"flag"

	"github.com/weirstream/weir/jobmain"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

func main() {
	var c Config
	c.AddFlags(flag.CommandLine)
	// The state backend is a runtime option chosen from the flags: the
	// closures read c once the flags are parsed.
	jobmain.MainOptions(func(job *stream.Job) error { return Build(job, c) },
		func(fs *flag.FlagSet) ([]runtime.Option, func(), error) { return c.StateOptions(fs) })
}
