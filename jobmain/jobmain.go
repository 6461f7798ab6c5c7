package jobmain

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

// Errors of Run. ExitCode maps them to exit statuses.
var (
	// ErrUsage marks a bad command line: an unknown flag, a bad value, a
	// stray argument.
	ErrUsage = errors.New("weir/jobmain: bad command line")
	// ErrNotSupported marks a standard flag that is accepted but whose
	// feature does not exist yet.
	ErrNotSupported = errors.New("weir/jobmain: not supported yet")
	// ErrBuild wraps an error returned by the build function.
	ErrBuild = errors.New("weir/jobmain: building the job failed")
)

// Names of the standard flags.
const (
	FlagParallelism        = "parallelism"
	FlagLogLevel           = "log-level"
	FlagCheckpointDir      = "checkpoint-dir"
	FlagCheckpointInterval = "checkpoint-interval"
	FlagRestore            = "restore"
	FlagAdminAddr          = "admin-addr"
)

// DefaultCheckpointInterval is the time between checkpoints when
// --checkpoint-dir is given without --checkpoint-interval.
const DefaultCheckpointInterval = time.Second

// levelValue is a flag.Value accepting debug, info, warn or error.
type levelValue struct{ l zapcore.Level }

func (v *levelValue) String() string { return v.l.String() }

func (v *levelValue) Set(s string) error {
	l, err := parseLevel(s)
	if err == nil {
		v.l = l
	}
	return err
}

func parseLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return zapcore.DebugLevel, nil
	case "info":
		return zapcore.InfoLevel, nil
	case "warn", "warning":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	return 0, fmt.Errorf("log level %q is not one of debug, info, warn, error", s)
}

// nonNegative is an int flag that rejects negative values while parsing.
type nonNegative struct{ n int }

func (v *nonNegative) String() string { return strconv.Itoa(v.n) }

func (v *nonNegative) Set(s string) error {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return errors.New("not an integer")
	case n < 0:
		return fmt.Errorf("%d is negative", n)
	}
	v.n = n
	return nil
}

// defineFlags defines on fs every standard flag it does not have yet, so a
// job that defined one of them itself keeps its own definition.
func defineFlags(fs *flag.FlagSet) {
	def := func(name string, define func()) {
		if fs.Lookup(name) == nil {
			define()
		}
	}
	def(FlagParallelism, func() {
		fs.Var(&nonNegative{}, FlagParallelism, "number of workers `N` (0: every core)")
	})
	def(FlagLogLevel, func() {
		fs.Var(&levelValue{l: zapcore.WarnLevel}, FlagLogLevel, "log `level`: debug, info, warn or error")
	})
	def(FlagCheckpointDir, func() {
		fs.String(FlagCheckpointDir, "", "take checkpoints in `dir`; a rerun resumes from the latest one there")
	})
	def(FlagCheckpointInterval, func() {
		fs.Duration(FlagCheckpointInterval, DefaultCheckpointInterval, "time between checkpoints (with --checkpoint-dir)")
	})
	def(FlagRestore, func() {
		fs.String(FlagRestore, "", "start from the checkpoint or savepoint directory `path` (default: the latest complete checkpoint in --checkpoint-dir)")
	})
	def(FlagAdminAddr, func() { fs.String(FlagAdminAddr, "", "admin server `host:port` (not supported yet)") })
}

// config is what the standard flags asked for.
type config struct {
	parallelism int
	level       zapcore.Level
	ckptDir     string        // "": no checkpoints
	interval    time.Duration // between checkpoints
	restore     string        // "": the latest checkpoint in ckptDir, if any
}

// readConfig reads the standard flags of a parsed fs by name, so it also
// works when the job defined a standard flag with a type of its own.
func readConfig(fs *flag.FlagSet) (config, error) {
	var c config
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set[FlagAdminAddr] {
		return c, newError(fmt.Sprintf("--%s is not supported yet (the admin server comes later)", FlagAdminAddr), ErrNotSupported)
	}
	p := fs.Lookup(FlagParallelism).Value.String()
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 {
		return c, newError(fmt.Sprintf("--%s %q is not a count >= 0", FlagParallelism, p), ErrUsage)
	}
	c.parallelism = n
	lv := fs.Lookup(FlagLogLevel).Value.String()
	if c.level, err = parseLevel(lv); err != nil {
		return c, newError(fmt.Sprintf("--%s: %v", FlagLogLevel, err), ErrUsage, err)
	}
	if err := readCheckpointConfig(fs, set, &c); err != nil {
		return c, err
	}
	return c, nil
}

// readCheckpointConfig reads --checkpoint-dir, --checkpoint-interval and
// --restore.
func readCheckpointConfig(fs *flag.FlagSet, set map[string]bool, c *config) error {
	c.ckptDir = fs.Lookup(FlagCheckpointDir).Value.String()
	c.restore = fs.Lookup(FlagRestore).Value.String()
	iv := fs.Lookup(FlagCheckpointInterval).Value.String()
	var err error
	c.interval, err = time.ParseDuration(iv)
	switch {
	case set[FlagCheckpointDir] && c.ckptDir == "":
		return newError(fmt.Sprintf("--%s: empty directory name", FlagCheckpointDir), ErrUsage)
	case set[FlagRestore] && c.restore == "":
		return newError(fmt.Sprintf("--%s: empty path", FlagRestore), ErrUsage)
	case err != nil:
		return newError(fmt.Sprintf("--%s %q is not a duration", FlagCheckpointInterval, iv), ErrUsage, err)
	case c.interval <= 0:
		return newError(fmt.Sprintf("--%s %v is not positive", FlagCheckpointInterval, c.interval), ErrUsage)
	case set[FlagCheckpointInterval] && c.ckptDir == "":
		return newError(fmt.Sprintf("--%s needs --%s", FlagCheckpointInterval, FlagCheckpointDir), ErrUsage)
	}
	return nil
}

// runOptions turns c into options of runtime.Run; the job logs to stderr.
func (c config) runOptions(stderr io.Writer) []runtime.Option {
	opts := []runtime.Option{runtime.Logger(newLogger(stderr, c.level))}
	if c.parallelism > 0 {
		opts = append(opts, runtime.Parallelism(c.parallelism))
	}
	if c.ckptDir != "" {
		opts = append(opts, runtime.Checkpointing(c.ckptDir, c.interval))
	}
	if c.restore != "" {
		opts = append(opts, runtime.RestoreFrom(c.restore))
	}
	return opts
}

// newLogger is runtime.NewLogger writing to w: a console logger at level l.
func newLogger(w io.Writer, l zapcore.Level) *zap.Logger {
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), l))
}

// tagged is an error with a message of its own that matches the errors
// it wraps (a sentinel, a cause) without repeating their text.
type tagged struct {
	msg  string
	errs []error
}

func newError(msg string, errs ...error) error { return &tagged{msg: msg, errs: errs} }

func (e *tagged) Error() string   { return e.msg }
func (e *tagged) Unwrap() []error { return e.errs }

// JobName is the name Main gives the job: the base name of the program
// (args[0]) without a ".exe" suffix, or "job" when there is none.
func JobName(args []string) string {
	if len(args) == 0 || args[0] == "" {
		return "job"
	}
	return strings.TrimSuffix(filepath.Base(args[0]), ".exe")
}

// OptionsFunc returns options of runtime.Run beyond the standard ones,
// read from the parsed flag set, and a function (or nil) to call once the
// run is over. It is called after the job is built, before it runs.
type OptionsFunc func(fs *flag.FlagSet) (opts []runtime.Option, done func(), err error)

// Run is Main without the process: args are the full command line
// (args[0] names the job), parsed with a flag set of its own that knows the
// standard flags only. It builds the job with build, runs it with
// runtime.Run until its bounded input is done or ctx is canceled, and on
// failure writes "weir: <job>: <error>" (and, for a bad command line, the
// usage) to stderr and returns the error. The job's log (at --log-level)
// goes to stderr too. -h and --help print the usage and return
// flag.ErrHelp.
func Run(ctx context.Context, args []string, build func(*stream.Job) error, stderr io.Writer) error {
	return RunFlags(ctx, args, nil, build, stderr)
}

// RunFlags is Run for a job with flags of its own: define (if not nil)
// adds them to the flag set before the arguments are parsed, the way a job
// binary defines them on flag.CommandLine before calling Main, and build
// reads them.
func RunFlags(ctx context.Context, args []string, define func(*flag.FlagSet), build func(*stream.Job) error, stderr io.Writer) error {
	return RunOptions(ctx, args, define, build, nil, stderr)
}

// RunOptions is RunFlags for a job that passes options of its own to
// runtime.Run: options (if not nil) returns them.
func RunOptions(ctx context.Context, args []string, define func(*flag.FlagSet), build func(*stream.Job) error, options OptionsFunc, stderr io.Writer) error {
	name := JobName(args)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if define != nil {
		define(fs)
	}
	defineFlags(fs)
	var rest []string
	if len(args) > 1 {
		rest = args[1:]
	}
	fs.SetOutput(io.Discard) // the flag package's own messages; ours follow
	err := fs.Parse(rest)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case err != nil:
		err = newError(err.Error(), ErrUsage, err)
		report(stderr, name, fs, err)
		return err
	}
	return execute(ctx, name, fs, build, options, stderr)
}

// execute runs the job once fs is parsed; Run and Main share it.
func execute(ctx context.Context, name string, fs *flag.FlagSet, build func(*stream.Job) error, options OptionsFunc, stderr io.Writer) error {
	err := buildAndRun(ctx, name, fs, build, options, stderr)
	report(stderr, name, fs, err)
	return err
}

func buildAndRun(ctx context.Context, name string, fs *flag.FlagSet, build func(*stream.Job) error, options OptionsFunc, stderr io.Writer) error {
	if fs.NArg() > 0 {
		return newError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)), ErrUsage)
	}
	cfg, err := readConfig(fs)
	if err != nil {
		return err
	}
	if build == nil {
		return newError("build: nil build function", ErrBuild)
	}
	job := stream.NewJob(name)
	if err := build(job); err != nil {
		return newError("build: "+err.Error(), ErrBuild, err)
	}
	opts := cfg.runOptions(stderr)
	if options != nil {
		more, done, err := options(fs)
		if err != nil {
			return newError("build: "+err.Error(), ErrBuild, err)
		}
		if done != nil {
			defer done()
		}
		opts = append(opts, more...)
	}
	err = runtime.Run(ctx, job, opts...)
	if errors.Is(err, runtime.ErrCorruptCheckpoint) && cfg.restore == "" {
		return noUsableCheckpoint(cfg.ckptDir, err)
	}
	return err
}

// noUsableCheckpoint explains a run that found only corrupt checkpoints in
// dir, one line per checkpoint.
func noUsableCheckpoint(dir string, err error) error {
	const prefix = "weir/runtime: no usable checkpoint: "
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return newError(fmt.Sprintf("checkpoint directory %s: %v", dir, err), err)
	}
	lines := strings.Split(msg[len(prefix):], "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, runtime.ErrCorruptCheckpoint.Error()+": ")
	}
	return newError(fmt.Sprintf("checkpoint directory %s holds no usable checkpoint: every one is corrupt "+
		"(move them away to start from scratch, or name one with --%s):\n  %s",
		dir, FlagRestore, strings.Join(lines, "\n  ")), err)
}

// report writes a failure as "weir: <job>: <error>", with the usage after a
// bad command line.
func report(w io.Writer, name string, fs *flag.FlagSet, err error) {
	if err == nil {
		return
	}
	fmt.Fprintf(w, "weir: %s: %v\n", name, err)
	if errors.Is(err, ErrUsage) {
		fs.Usage()
	}
}

// ExitCode is the exit status for an error of Run: 0 for nil or
// flag.ErrHelp, 2 for a bad command line or an unsupported flag, 1 for
// anything else.
func ExitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage), errors.Is(err, ErrNotSupported):
		return 2
	}
	return 1
}

// Main is the whole of a job binary's main function. It defines the
// standard flags on flag.CommandLine (those the program has not defined
// itself), calls flag.Parse, names the job after the program, calls build,
// runs the job until its bounded input is done or SIGINT/SIGTERM arrives,
// and exits: 0 on success, 1 with "weir: <job>: <error>" on stderr when
// building or running fails, 2 on a bad command line or an unsupported
// flag. It does not return.
func Main(build func(job *stream.Job) error) { MainOptions(build, nil) }

// MainOptions is Main for a job that passes options of its own to
// runtime.Run: options (if not nil) returns them.
func MainOptions(build func(job *stream.Job) error, options OptionsFunc) {
	defineFlags(flag.CommandLine)
	flag.Parse() // exits 2 on a bad flag, 0 on -h
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills the process at once
	err := execute(ctx, JobName(os.Args), flag.CommandLine, build, options, os.Stderr)
	stop()
	os.Exit(ExitCode(err))
}
