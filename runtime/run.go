package runtime

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/weirstream/weir/internal/affinity"
	"github.com/weirstream/weir/runtime/jobgraph"
	"github.com/weirstream/weir/timeapi"
)

// Job is anything that builds a job graph; *stream.Job is one.
type Job interface {
	Graph() (*jobgraph.Graph, error)
}

// Exclusive is an optional Job capability: Start marks the job running and
// fails if it already is; the returned func marks it stopped.
type Exclusive interface {
	Start() (stop func(), err error)
}

// ErrCanceled wraps the context's error when a run is canceled.
var ErrCanceled = errors.New("weir/runtime: job canceled")

func defaultParallelism() int {
	if n := len(affinity.CPUs()); n > 0 {
		return n
	}
	return goruntime.NumCPU()
}

// Run executes job until its bounded input is done, the context is
// canceled, or an operator fails; it returns the first error, which names
// the operator.
func Run(ctx context.Context, job Job, opts ...Option) error {
	o, err := buildOptions(opts)
	if err != nil {
		return err
	}
	if job == nil {
		return errors.New("weir/runtime: nil job")
	}
	if ex, ok := job.(Exclusive); ok {
		stop, err := ex.Start()
		if err != nil {
			return err
		}
		defer stop()
	}
	g, err := job.Graph()
	if err != nil {
		return err
	}
	ck, rs, err := setupCheckpoints(o, g.Name)
	if err != nil {
		return err
	}
	p, err := newPlan(g, o, ck, rs)
	if err != nil {
		return err
	}
	if ck != nil {
		ck.tasks = p.tasks
		ck.start()
		defer ck.stop()
		if o.Controller != nil {
			o.Controller.attach(ck)
			defer o.Controller.attach(nil)
		}
	}
	o.Logger.Debug("job starting", zap.String("job", g.Name), zap.Int("parallelism", o.Parallelism),
		zap.Int("tasks", len(p.tasks)), zap.Bool("deterministic", o.Deterministic))
	start := time.Now()
	if o.Deterministic {
		err = runStepped(ctx, p)
	} else {
		err = runThreaded(ctx, p)
	}
	o.Logger.Debug("job finished", zap.String("job", g.Name), zap.Duration("took", time.Since(start)), zap.Error(err))
	return err
}

// failure keeps the first error of a run.
type failure struct {
	mu  sync.Mutex
	err error
}

func (f *failure) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil && f.err == nil {
		f.err = err
	}
}

func (f *failure) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func runThreaded(ctx context.Context, p *plan) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stop atomic.Bool
	var fail failure
	stopAll := func() {
		stop.Store(true)
		for _, w := range p.workers {
			w.wake()
		}
	}
	unwatch := context.AfterFunc(ctx, stopAll)
	defer unwatch()
	if p.opts.SpareProc {
		defer reserveProcs(len(p.workers))()
	}
	var wg sync.WaitGroup
	if ck := p.ckpt; ck != nil {
		ck.failJob = func(err error) { fail.set(err); stopAll() }
		if ck.interval > 0 {
			stopTicks := make(chan struct{})
			wg.Add(1)
			go func() { defer wg.Done(); periodic(ck, ck.interval, stopTicks) }()
			defer func() { close(stopTicks); wg.Wait() }()
		}
	}
	cpus := affinity.CPUs()
	var workers sync.WaitGroup
	for _, w := range p.workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			if err := runWorker(ctx, p, w, cpus, &stop); err != nil {
				fail.set(err)
				stopAll()
			}
		}()
	}
	workers.Wait()
	if err := fail.get(); err != nil {
		return err
	}
	return canceled(ctx, p)
}

func canceled(ctx context.Context, p *plan) error {
	for _, t := range p.tasks {
		if !t.done() {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%w: %w", ErrCanceled, err)
			}
			return fmt.Errorf("weir/runtime: task %s did not finish", t.name)
		}
	}
	return nil
}

func runWorker(ctx context.Context, p *plan, w *worker, cpus []int, stop *atomic.Bool) (err error) {
	if p.opts.Pin && len(cpus) > 0 {
		if perr := affinity.Pin(cpus[w.id%len(cpus)]); perr != nil {
			p.opts.Logger.Debug("worker not pinned", zap.Int("worker", w.id), zap.Error(perr))
		}
		defer affinity.Unpin()
	}
	defer func() { err = errors.Join(err, closeTasks(w.tasks)) }()
	for _, t := range w.tasks {
		if err := t.build(); err != nil {
			return err
		}
	}
	return w.run(ctx, stop)
}

// closeTasks closes every opened operator, reader and state backend.
func closeTasks(tasks []*task) error {
	var errs []error
	for _, t := range tasks {
		if t.source != nil {
			errs = append(errs, t.source.Close())
		}
		for _, op := range t.ops {
			errs = append(errs, op.Close())
		}
		for _, s := range t.states {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// runStepped is the deterministic mode: every worker's tasks are stepped in
// order on the calling goroutine.
func runStepped(ctx context.Context, p *plan) (err error) {
	var all []*task
	for _, w := range p.workers {
		all = append(all, w.tasks...)
	}
	defer func() { err = errors.Join(err, closeTasks(all)) }()
	for _, t := range all {
		if err := t.build(); err != nil {
			return err
		}
	}
	var fail failure
	var nextCkpt int64
	if p.ckpt != nil {
		p.ckpt.failJob = fail.set
		nextCkpt = timeapi.NowMillis(p.opts.Clock) + p.ckpt.interval.Milliseconds()
	}
	for idle := 0; ; {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrCanceled, err)
		}
		if err := fail.get(); err != nil {
			return err
		}
		now := timeapi.NowMillis(p.opts.Clock)
		if ck := p.ckpt; ck != nil && ck.interval > 0 && now >= nextCkpt && !ck.inFlight() {
			nextCkpt = now + ck.interval.Milliseconds()
			_, _ = ck.trigger(false, nil)
		}
		progress, done := false, true
		for _, w := range p.workers {
			pr, d, err := w.pass(now)
			if err != nil {
				return err
			}
			progress, done = progress || pr, done && d
		}
		if done {
			return nil
		}
		if progress {
			idle = 0
			continue
		}
		moved := false
		for _, w := range p.workers {
			m, err := w.flush()
			if err != nil {
				return err
			}
			moved = moved || m
		}
		if !moved {
			idle++
			time.Sleep(time.Duration(min(idle, 50)) * 20 * time.Microsecond) // an unbounded source waits for input
		}
	}
}
