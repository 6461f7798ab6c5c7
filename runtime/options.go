package runtime

import (
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/timeapi"
)

// Option configures Run.
type Option func(*Options)

// Options are the settings of one run; Run fills defaults and validates.
type Options struct {
	Parallelism    int                  // workers and default operator parallelism; default: usable cores
	MaxParallelism int                  // key groups; default 128
	BatchSize      int                  // records per batch; default 1024
	AlignDrift     time.Duration        // watermark alignment of source subtasks; 0: off
	RingSize       int                  // batches per queue between two subtasks; default 16
	Clock          timeapi.Clock        // processing time; default the system clock
	State          statebackend.Factory // keyed state; default memstate
	Logger         *zap.Logger          // default: warnings and errors to stderr
	Deterministic  bool                 // step every worker on the calling goroutine
	Pin            bool                 // pin workers to cores (default true; not in deterministic mode)
	SpareProc      bool                 // GOMAXPROCS at least one above the workers while running (default true; not in deterministic mode)
	LowPriorityIO  bool                 // the checkpoint writer's thread at the lowest priority (default false; not in deterministic mode)

	CheckpointFS       vfs.FS        // checkpoint storage; nil: no checkpoints
	CheckpointInterval time.Duration // between periodic checkpoints; 0: only triggered ones
	RetainCheckpoints  int           // complete checkpoints kept; default 3
	RestorePath        string        // checkpoint or savepoint directory to start from
	NoRestore          bool          // start fresh even if the checkpoint storage has checkpoints
	AllowNonRestored   bool          // restore even if the checkpoint has state of operators the job lacks
	Controller         *Controller   // triggers checkpoints and savepoints by hand

	err error // from an option
}

// Parallelism sets the number of workers and the default parallelism of
// operators (default: the cores this process may use).
func Parallelism(n int) Option { return func(o *Options) { o.Parallelism = n } }

// MaxParallelism sets the number of key groups (default 128), the upper
// bound of keyed parallelism and the unit of state redistribution.
func MaxParallelism(n int) Option { return func(o *Options) { o.MaxParallelism = n } }

// BatchSize sets the number of records per batch (default 1024).
func BatchSize(n int) Option { return func(o *Options) { o.BatchSize = n } }

// RingSize sets how many batches a queue between two subtasks holds before
// the producer is parked (default 16).
func RingSize(n int) Option { return func(o *Options) { o.RingSize = n } }

// Clock sets the processing-time clock (default: the system clock).
func Clock(c timeapi.Clock) Option { return func(o *Options) { o.Clock = c } }

// StateBackend sets the keyed state backend (default memstate).
func StateBackend(f statebackend.Factory) Option { return func(o *Options) { o.State = f } }

// Logger sets the structured logger.
func Logger(l *zap.Logger) Option { return func(o *Options) { o.Logger = l } }

// LogLevel sets the level of the default logger (to stderr, console format).
func LogLevel(l zapcore.Level) Option { return func(o *Options) { o.Logger = NewLogger(l) } }

// Deterministic runs every worker's loop on the calling goroutine in a fixed
// order: the single-threaded step mode that testkit uses. Results and their
// order depend only on the input, the parallelism and the clock.
func Deterministic() Option { return func(o *Options) { o.Deterministic = true } }

// Pinning turns pinning workers to cores on or off (default on).
func Pinning(on bool) Option { return func(o *Options) { o.Pin = on } }

// SpareProc turns on or off (default on) raising GOMAXPROCS, for as long
// as the job runs, to one more than the workers of all the jobs running
// in the process (it is set back when the last one ends). Each worker
// keeps a P (a Go scheduler slot) busy or in short sleeps; without a
// spare, the Go scheduler takes a sleeping worker's P away to run
// anything else (the collector's mark workers, timers, a client
// library's goroutines), and hands it back through a queue: the worker
// waits for its own core, up to milliseconds. Turn it off to keep
// GOMAXPROCS as the process set it.
func SpareProc(on bool) Option { return func(o *Options) { o.SpareProc = on } }

// LowPriorityIO turns on or off (default off) running the checkpoint
// writer, the goroutine that encodes and writes the snapshots of a
// checkpoint while the job goes on, on an OS thread of its own at the
// lowest scheduling priority (nice 19). The writer shares the workers'
// CPUs: at normal priority the kernel gives it an equal share, and records
// wait behind it; at nice 19 it runs on the time the workers leave. That
// is for a job with time to spare that cares about its latency tail: paced
// at 1M Nexmark events/s with a checkpoint of 550 MB every 2 s (q18, 2
// workers on 2 CPUs), p99 latency was 48 ms in 3 runs against 84-155 ms.
// A job that keeps its CPUs busy leaves the writer almost nothing: q18
// unpaced with a checkpoint a second completed 2 checkpoints in 7 s where
// it completed 4 in 8.6 s at normal priority. So a persist still going
// when the next checkpoint is due (the interval after its start) is
// finished on a goroutine of the normal threads, between two steps of a
// statebackend.StepPersister (memstate: a table's key group per step);
// Stats.Rescued counts them. With that, q18 unpaced completed 0.49-0.64
// checkpoints a second in 5 runs (0.40-0.50 at nice 19 alone, 0.55-0.79
// at normal priority: the first interval of an overdue checkpoint still
// goes at nice 19), and paced with a checkpoint every 2 s its p99 stayed
// with the low-priority writer's (111-248 ms in 4 runs, against 327-478
// ms at normal priority, on a day whose disk made every checkpoint
// slower).
// A byte backend's Persist (pebblestate) is one step.
func LowPriorityIO(on bool) Option { return func(o *Options) { o.LowPriorityIO = on } }

// Checkpointing turns on checkpoints in the local directory dir, taken every
// interval (0: only when triggered through a Controller). A run restores
// the latest complete checkpoint in dir unless told otherwise (RestoreFrom,
// NoRestore).
func Checkpointing(dir string, interval time.Duration) Option {
	return func(o *Options) {
		fs, err := vfs.NewLocal(dir)
		if err != nil {
			o.err = fmt.Errorf("weir/runtime: checkpoint dir: %w", err)
			return
		}
		o.CheckpointFS, o.CheckpointInterval = fs, interval
	}
}

// CheckpointStorage is Checkpointing on any vfs.FS (in-memory, fault
// injecting).
func CheckpointStorage(fs vfs.FS, interval time.Duration) Option {
	return func(o *Options) { o.CheckpointFS, o.CheckpointInterval = fs, interval }
}

// RetainCheckpoints keeps the newest n complete checkpoints (default 3).
func RetainCheckpoints(n int) Option { return func(o *Options) { o.RetainCheckpoints = n } }

// RestoreFrom starts the job from the checkpoint or savepoint directory
// path (a local path), instead of the latest checkpoint.
func RestoreFrom(path string) Option { return func(o *Options) { o.RestorePath = path } }

// NoRestore starts the job fresh even when the checkpoint storage holds
// checkpoints.
func NoRestore() Option { return func(o *Options) { o.NoRestore = true } }

// WatermarkAlignment pauses a source subtask whose watermark is more than
// maxDrift of event time ahead of the slowest subtask of the same source
// (Flink's watermark alignment). Downstream operators then hold less
// state for windows and joins that wait for the slowest split, and fewer
// records arrive before the records they belong with (a bid before its
// auction). Idle and ended subtasks do not hold the others back. Zero (the
// default) disables it.
func WatermarkAlignment(maxDrift time.Duration) Option {
	return func(o *Options) { o.AlignDrift = maxDrift }
}

// AllowNonRestoredState restores a checkpoint even when it holds state of
// operators the job no longer has (that state is dropped).
func AllowNonRestoredState() Option { return func(o *Options) { o.AllowNonRestored = true } }

// WithController attaches c, through which checkpoints and savepoints are
// triggered by hand while the job runs.
func WithController(c *Controller) Option { return func(o *Options) { o.Controller = c } }

// NewLogger returns a console logger to stderr at level l.
func NewLogger(l zapcore.Level) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(os.Stderr), l)
	return zap.New(core)
}

func buildOptions(opts []Option) (*Options, error) {
	o := &Options{Pin: true, SpareProc: true}
	for _, f := range opts {
		if f == nil {
			return nil, fmt.Errorf("weir/runtime: nil option")
		}
		f(o)
	}
	if o.err != nil {
		return nil, o.err
	}
	if o.RetainCheckpoints == 0 {
		o.RetainCheckpoints = 3
	}
	if o.Parallelism == 0 {
		o.Parallelism = defaultParallelism()
	}
	if o.MaxParallelism == 0 {
		o.MaxParallelism = statebackend.DefaultMaxParallelism
	}
	if o.BatchSize == 0 {
		o.BatchSize = operators.DefaultBatchSize
	}
	if o.RingSize == 0 {
		o.RingSize = 16
	}
	switch {
	case o.Parallelism < 1:
		return nil, fmt.Errorf("weir/runtime: parallelism %d < 1", o.Parallelism)
	case o.MaxParallelism < 1 || o.MaxParallelism > 1<<15:
		return nil, fmt.Errorf("weir/runtime: max parallelism %d outside [1, 32768]", o.MaxParallelism)
	case o.Parallelism > o.MaxParallelism:
		return nil, fmt.Errorf("weir/runtime: parallelism %d > max parallelism %d", o.Parallelism, o.MaxParallelism)
	case o.BatchSize < 1:
		return nil, fmt.Errorf("weir/runtime: batch size %d < 1", o.BatchSize)
	case o.RingSize < 2:
		return nil, fmt.Errorf("weir/runtime: ring size %d < 2", o.RingSize)
	case o.CheckpointInterval < 0 || o.RetainCheckpoints < 1:
		return nil, fmt.Errorf("weir/runtime: checkpoint interval %v / retain %d invalid", o.CheckpointInterval, o.RetainCheckpoints)
	case o.Controller != nil && o.CheckpointFS == nil:
		return nil, fmt.Errorf("weir/runtime: a controller needs checkpoint storage (Checkpointing)")
	}
	if o.Clock == nil {
		o.Clock = timeapi.SystemClock{}
	}
	if o.State == nil {
		o.State = memstate.New()
	}
	if o.Logger == nil {
		o.Logger = NewLogger(zapcore.WarnLevel)
	}
	return o, nil
}
