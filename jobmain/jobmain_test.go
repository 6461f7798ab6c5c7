package jobmain

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

// doubler builds FromSlice(1..n) -> Map(x*2) -> a sink summing into *sum.
func doubler(n int64, sum *int64, name *string) func(*stream.Job) error {
	return func(job *stream.Job) error {
		*name = job.Name()
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = int64(i + 1)
		}
		var mu sync.Mutex
		stream.FromSlice(job, "numbers", vals).
			Map(func(v int64) int64 { return 2 * v }).
			SinkTo(operators.SinkFunc[int64](func(_ *operators.Context, b *operators.Batch[int64]) error {
				mu.Lock()
				defer mu.Unlock()
				for _, v := range b.Values {
					*sum += v
				}
				return nil
			}))
		return nil
	}
}

func TestRunGoodJob(t *testing.T) {
	for _, args := range [][]string{
		{"/usr/local/bin/doubler"},
		{"doubler", "--parallelism", "2", "--log-level", "error"},
		{"./doubler.exe", "-parallelism=1", "-log-level=DEBUG"},
		{"doubler", "--parallelism", "0", "--log-level", "info"},
	} {
		var sum int64
		var name string
		var stderr strings.Builder
		err := Run(context.Background(), args, doubler(1000, &sum, &name), &stderr)
		if err != nil {
			t.Fatalf("%q: %v\n%s", args, err, &stderr)
		}
		if want := int64(1000 * 1001); sum != want {
			t.Errorf("%q: sum %d, want %d", args, sum, want)
		}
		if name != "doubler" {
			t.Errorf("%q: job named %q, want doubler", args, name)
		}
		if ExitCode(err) != 0 {
			t.Errorf("%q: ExitCode = %d", args, ExitCode(err))
		}
		if strings.Contains(stderr.String(), "weir: ") {
			t.Errorf("%q: failure reported on success:\n%s", args, &stderr)
		}
	}
}

func TestRunBuildError(t *testing.T) {
	cause := errors.New("no input file")
	var stderr strings.Builder
	err := Run(context.Background(), []string{"wc"}, func(*stream.Job) error { return cause }, &stderr)
	if !errors.Is(err, ErrBuild) || !errors.Is(err, cause) {
		t.Fatalf("err = %v, want ErrBuild wrapping the cause", err)
	}
	if got, want := stderr.String(), "weir: wc: build: no input file\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	if ExitCode(err) != 1 {
		t.Errorf("ExitCode = %d, want 1", ExitCode(err))
	}

	stderr.Reset()
	err = Run(context.Background(), []string{"wc"}, nil, &stderr)
	if !errors.Is(err, ErrBuild) || !strings.HasPrefix(stderr.String(), "weir: wc: build: nil build function") {
		t.Errorf("nil build: %v, %q", err, stderr.String())
	}
}

// Mistakes that surface only when the job is validated or run are
// reported the same way.
func TestRunJobFailure(t *testing.T) {
	var stderr strings.Builder
	err := Run(context.Background(), []string{"empty"}, func(*stream.Job) error { return nil }, &stderr)
	if !errors.Is(err, stream.ErrNoSink) || ExitCode(err) != 1 {
		t.Errorf("no sink: err %v, exit %d", err, ExitCode(err))
	}
	if !strings.HasPrefix(stderr.String(), "weir: empty: ") || !strings.Contains(stderr.String(), "no sink") {
		t.Errorf("no sink: stderr %q", stderr.String())
	}

	boom := errors.New("disk full")
	stderr.Reset()
	err = Run(context.Background(), []string{"failing", "--parallelism", "2"}, func(job *stream.Job) error {
		stream.FromSlice(job, "in", []int{1, 2, 3}).SinkTo(operators.SinkFunc[int](func(*operators.Context, *operators.Batch[int]) error {
			return boom
		}))
		return nil
	}, &stderr)
	if !errors.Is(err, boom) || ExitCode(err) != 1 {
		t.Errorf("failing sink: err %v, exit %d", err, ExitCode(err))
	}
	if !strings.HasPrefix(stderr.String(), "weir: failing: ") || !strings.Contains(stderr.String(), "disk full") {
		t.Errorf("failing sink: stderr %q", stderr.String())
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"j", "--parallelism", "many"}, `invalid value "many" for flag -parallelism: not an integer`},
		{[]string{"j", "--parallelism", "-1"}, `invalid value "-1" for flag -parallelism: -1 is negative`},
		{[]string{"j", "--log-level", "loud"}, `log level "loud" is not one of debug, info, warn, error`},
		{[]string{"j", "--checkpoint-interval", "soon"}, `invalid value "soon" for flag -checkpoint-interval`},
		{[]string{"j", "--checkpoint-interval", "5s"}, "--checkpoint-interval needs --checkpoint-dir"},
		{[]string{"j", "--checkpoint-dir", "d", "--checkpoint-interval", "0s"}, "--checkpoint-interval 0s is not positive"},
		{[]string{"j", "--checkpoint-dir", "d", "--checkpoint-interval", "-1s"}, "--checkpoint-interval -1s is not positive"},
		{[]string{"j", "--checkpoint-dir", ""}, "--checkpoint-dir: empty directory name"},
		{[]string{"j", "--restore="}, "--restore: empty path"},
		{[]string{"j", "--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"j", "--parallelism"}, "flag needs an argument: -parallelism"},
		{[]string{"j", "input.txt"}, `unexpected argument "input.txt"`},
	} {
		built := false
		var stderr strings.Builder
		err := Run(context.Background(), c.args, func(*stream.Job) error { built = true; return nil }, &stderr)
		if !errors.Is(err, ErrUsage) || ExitCode(err) != 2 {
			t.Errorf("%q: err %v, exit %d; want ErrUsage, 2", c.args, err, ExitCode(err))
		}
		if built {
			t.Errorf("%q: the job was built", c.args)
		}
		out := stderr.String()
		if !strings.HasPrefix(out, "weir: j: ") || !strings.Contains(out, c.msg) || !strings.Contains(out, "Usage of j:") {
			t.Errorf("%q: stderr lacks %q or the usage:\n%s", c.args, c.msg, out)
		}
	}
}

func TestRunUnsupportedFlags(t *testing.T) {
	for _, c := range [][]string{
		{"--admin-addr", "127.0.0.1:8081"},
		{"--admin-addr", ""}, // set, even if empty
		{"--checkpoint-dir", "d", "--admin-addr", "127.0.0.1:8081"},
	} {
		built := false
		var stderr strings.Builder
		args := append([]string{"j"}, c...)
		err := Run(context.Background(), args, func(*stream.Job) error { built = true; return nil }, &stderr)
		if !errors.Is(err, ErrNotSupported) || ExitCode(err) != 2 {
			t.Errorf("%q: err %v, exit %d; want ErrNotSupported, 2", c, err, ExitCode(err))
		}
		if built {
			t.Errorf("%q: the job was built", c)
		}
		want := "weir: j: --admin-addr is not supported yet (the admin server comes later)\n"
		if stderr.String() != want {
			t.Errorf("%q: stderr %q, want %q", c, stderr.String(), want)
		}
	}
}

func TestRunHelp(t *testing.T) {
	var stderr strings.Builder
	err := Run(context.Background(), []string{"j", "-h"}, nil, &stderr)
	if !errors.Is(err, flag.ErrHelp) || ExitCode(err) != 0 {
		t.Errorf("-h: err %v, exit %d", err, ExitCode(err))
	}
	for _, f := range []string{FlagParallelism, FlagLogLevel, FlagCheckpointDir, FlagCheckpointInterval, FlagRestore, FlagAdminAddr} {
		if !strings.Contains(stderr.String(), "-"+f) {
			t.Errorf("usage lacks -%s:\n%s", f, &stderr)
		}
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c := make(chan int) // never closed: the job runs until canceled
	var stderr strings.Builder
	err := Run(ctx, []string{"forever"}, func(job *stream.Job) error {
		stream.FromChannel(job, "chan", c).SinkTo(operators.Discard[int]())
		return nil
	}, &stderr)
	if !errors.Is(err, runtime.ErrCanceled) || ExitCode(err) != 1 {
		t.Errorf("err %v, exit %d; want runtime.ErrCanceled, 1", err, ExitCode(err))
	}
	if !strings.HasPrefix(stderr.String(), "weir: forever: ") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// RunFlags parses a job's own flags together with the standard ones.
func TestRunFlags(t *testing.T) {
	var rows int
	define := func(fs *flag.FlagSet) { fs.IntVar(&rows, "rows", 1, "rows") }
	var sum int64
	var name string
	build := func(job *stream.Job) error { return doubler(int64(rows), &sum, &name)(job) }
	var stderr strings.Builder
	if err := RunFlags(context.Background(), []string{"d", "--rows", "10", "--parallelism", "2"}, define, build, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, &stderr)
	}
	if sum != 110 {
		t.Errorf("sum %d, want 110", sum)
	}
	err := RunFlags(context.Background(), []string{"d", "--rows", "x"}, define, build, &stderr)
	if !errors.Is(err, ErrUsage) || !strings.Contains(stderr.String(), "-rows") {
		t.Errorf("bad job flag: %v\n%s", err, &stderr)
	}
}

func TestJobName(t *testing.T) {
	for args, want := range map[string]string{
		"":                        "job",
		"hot-items":               "hot-items",
		"/opt/jobs/hot-items":     "hot-items",
		"./bin/wordcount.exe":     "wordcount",
		"/tmp/go-build1/exe/demo": "demo",
	} {
		var a []string
		if args != "" {
			a = []string{args}
		}
		if got := JobName(a); got != want {
			t.Errorf("JobName(%q) = %q, want %q", args, got, want)
		}
	}
}

// A job that defined a standard flag itself keeps its definition, and the
// flag still configures the run.
func TestDefineFlagsKeepsJobDefinitions(t *testing.T) {
	fs := flag.NewFlagSet("j", flag.ContinueOnError)
	fs.String(FlagParallelism, "3", "the job's own parallelism flag")
	defineFlags(fs)
	defineFlags(fs) // twice is harmless
	if err := fs.Parse([]string{"--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := readConfig(fs)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.parallelism != 3 || cfg.level.String() != "error" {
		t.Errorf("config = %+v", cfg)
	}
	if err := fs.Parse([]string{"--parallelism", "lots"}); err != nil {
		t.Fatal(err)
	}
	if _, err := readConfig(fs); !errors.Is(err, ErrUsage) {
		t.Errorf("a bad value of the job's own flag: %v, want ErrUsage", err)
	}
}

func TestExitCode(t *testing.T) {
	for err, want := range map[error]int{
		nil:                                  0,
		flag.ErrHelp:                         0,
		ErrUsage:                             2,
		fmt.Errorf("x: %w", ErrNotSupported): 2,
		ErrBuild:                             1,
		errors.New("anything"):               1,
	} {
		if got := ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}
