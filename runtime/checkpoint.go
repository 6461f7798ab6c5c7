package runtime

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/weirstream/weir/internal/affinity"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/vfs"
)

// opSnap is what one operator (or source) of a task contributed to a
// checkpoint, taken synchronously at the barrier.
type opSnap struct {
	vertex    string
	subtask   int
	par       int
	view      statebackend.Snapshot // keyed backend view (nil if not keyed)
	kgState   map[int][]byte
	opState   []byte
	hasState  bool
	positions map[string][]byte
}

// taskSnap is a task's contribution to one checkpoint.
type taskSnap struct {
	task  *task
	ops   []opSnap
	final bool
}

// pendingCheckpoint collects the parts of one checkpoint.
type pendingCheckpoint struct {
	id        int64
	savepoint bool
	started   time.Time
	dir       string // directory of the checkpoint in the storage
	parts     map[*task]*SubtaskParts
	err       error
	done      chan error // closed result for manual triggers (nil: none)
}

// SubtaskParts is a task's persisted contribution.
type SubtaskParts struct {
	states map[string]SubtaskState // vertex name -> state
	par    map[string]int
}

// Stats describes the checkpoints of a run.
type Stats struct {
	Completed     int64
	Failed        int64
	LastID        int64
	LastBytes     int64
	LastDuration  time.Duration // trigger to manifest
	MaxSyncPause  time.Duration // longest synchronous part of a snapshot at one task
	TotalSyncTime time.Duration
	Rescued       int64 // persists a low-priority writer (LowPriorityIO) handed to a normal-priority goroutine when overdue
}

// checkpointer coordinates checkpoints: it triggers barriers at the
// sources, collects the parts tasks persist, writes the manifest, tells
// tasks when a checkpoint is complete and keeps the last N.
type checkpointer struct {
	fs       vfs.FS
	interval time.Duration
	retain   int
	job      string
	maxP     int
	log      *zap.Logger
	inline   bool // persist on the caller's goroutine (deterministic mode)
	failJob  func(error)

	mu       sync.Mutex
	nextID   int64
	pending  map[int64]*pendingCheckpoint
	finals   map[*task]*taskSnap // snapshots of ended tasks, persisted into every later checkpoint
	tasks    []*task
	stats    Stats
	finalOK  bool
	writes   sync.WaitGroup
	closed   bool
	workQ    chan func()
	qmu      sync.RWMutex // held (read) while sending to workQ, (write) to close it
	complete atomic.Int64 // latest completed checkpoint id
	lowPrio  bool         // the writer goroutine runs at the lowest priority (Options.LowPriorityIO)
}

// background puts the calling goroutine's thread at the lowest priority
// for good (a variable for tests).
var background = affinity.Background

func newCheckpointer(fs vfs.FS, o *Options, job string, startID int64) *checkpointer {
	return &checkpointer{
		fs: fs, interval: o.CheckpointInterval, retain: o.RetainCheckpoints, job: job,
		maxP: o.MaxParallelism, log: o.Logger.Named("checkpoint"), inline: o.Deterministic, lowPrio: o.LowPriorityIO,
		nextID: startID + 1, pending: map[int64]*pendingCheckpoint{}, finals: map[*task]*taskSnap{},
	}
}

// start launches the writer goroutine (threaded mode).
func (c *checkpointer) start() {
	if c.inline {
		return
	}
	q := make(chan func(), 1024)
	c.workQ = q
	c.writes.Add(1)
	go func() {
		defer c.writes.Done()
		if c.lowPrio {
			// The thread ends with this goroutine (it stays locked).
			if err := background(); err != nil {
				c.log.Debug("checkpoint writer at normal priority", zap.Error(err))
			}
		}
		for f := range q {
			f()
		}
	}()
}

// stop waits for queued writes, ends the writer goroutine and frees the
// snapshots it kept.
func (c *checkpointer) stop() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	if c.workQ != nil {
		c.qmu.Lock()
		close(c.workQ)
		c.workQ = nil
		c.qmu.Unlock()
	}
	c.writes.Wait()
	c.releaseFinals()
}

// run executes f on the writer goroutine (inline in deterministic mode).
func (c *checkpointer) run(f func()) {
	if c.inline {
		f()
		return
	}
	c.qmu.RLock()
	defer c.qmu.RUnlock()
	if c.workQ != nil {
		c.workQ <- f
	}
}

// trigger starts checkpoint (or savepoint) id: every live source task is
// asked to inject a barrier. The checkpoint is pending only once its
// directory exists: the writer may persist ended tasks' final snapshots
// into any pending checkpoint at any time.
func (c *checkpointer) trigger(savepoint bool, done chan error) (int64, error) {
	c.mu.Lock()
	if c.ended() {
		c.mu.Unlock()
		return 0, errJobFinished
	}
	id := c.nextID
	c.nextID++
	c.mu.Unlock()
	p := &pendingCheckpoint{id: id, savepoint: savepoint, started: time.Now(), dir: chkDir(id),
		parts: map[*task]*SubtaskParts{}, done: done}
	if savepoint {
		p.dir = savepointDir(id)
	}
	err := c.fs.MkdirAll(p.dir)
	c.mu.Lock()
	if err == nil && c.ended() {
		// the job ended (or the run stopped) while the directory was made
		c.mu.Unlock()
		_ = c.fs.RemoveAll(p.dir)
		return id, errJobFinished
	}
	c.pending[id] = p
	c.mu.Unlock()
	if err != nil {
		c.fail(p, fmt.Errorf("create %s: %w", p.dir, err))
		return id, err
	}
	for _, t := range c.tasks {
		if t.isSource {
			t.requestBarrier(id)
		}
	}
	c.run(func() { c.checkComplete(id) }) // every ended task may already have its part
	return id, nil
}

// ended reports whether the checkpointer takes no more checkpoints: every
// task has ended and handed in its final snapshot, or the run is stopping.
// c.mu is held.
func (c *checkpointer) ended() bool { return c.finalOK || c.closed }

// errJobFinished is trigger's answer once every task has ended or the run
// is stopping.
var errJobFinished = fmt.Errorf("%w: the job finished; no more checkpoints", ErrNotRunning)

// submit hands a task's snapshot for checkpoint id, or its final snapshot
// (id 0), to the writer.
func (c *checkpointer) submit(id int64, s *taskSnap) {
	c.run(func() {
		if id == 0 {
			c.mu.Lock()
			c.finals[s.task] = s
			pend := make([]int64, 0, len(c.pending))
			for pid := range c.pending {
				pend = append(pend, pid)
			}
			c.mu.Unlock()
			slices.Sort(pend)
			for _, pid := range pend {
				c.checkComplete(pid)
			}
			c.maybeFinal()
			return
		}
		c.mu.Lock()
		p := c.pending[id]
		c.mu.Unlock()
		if p == nil { // abandoned: nothing to write
			s.release()
			return
		}
		parts, err := c.persist(s, p, true)
		if err != nil {
			c.fail(p, err)
			return
		}
		c.mu.Lock()
		p.parts[s.task] = parts
		c.mu.Unlock()
		c.checkComplete(id)
	})
}

// persist writes the views of a task snapshot into p's directory;
// release frees them afterwards (the snapshot of an ended task is kept for
// later checkpoints). With LowPriorityIO the writer's thread runs at the
// lowest priority, where busy tasks can starve it: once p is overdue (the
// next checkpoint is due), the rest of the writing moves to a goroutine
// on the normal threads, between two steps of a StepPersister.
func (c *checkpointer) persist(s *taskSnap, p *pendingCheckpoint, release bool) (*SubtaskParts, error) {
	var r *rescuer
	defer func() { r.stop() }()
	step := func(f func()) {
		if r == nil && c.lowPrio && c.interval > 0 && time.Now().After(persistDeadline(p, c.interval)) {
			r = newRescuer()
			c.mu.Lock()
			c.stats.Rescued++
			c.mu.Unlock()
		}
		if r != nil {
			r.run(f)
			return
		}
		f()
	}
	parts := &SubtaskParts{states: map[string]SubtaskState{}, par: map[string]int{}}
	for _, o := range s.ops {
		st := SubtaskState{Subtask: o.subtask, Finished: s.final, KeyGroups: o.kgState,
			OpState: o.opState, HasState: o.hasState, Positions: o.positions}
		if o.view != nil {
			h, err := c.persistView(o.view, p.dir, step)
			if release {
				o.view.Release()
			}
			if err != nil {
				return nil, fmt.Errorf("persist state of %s#%d: %w", o.vertex, o.subtask, err)
			}
			st.Handles = []statebackend.Handle{h}
		}
		parts.states[o.vertex] = st
		parts.par[o.vertex] = o.par
	}
	return parts, nil
}

// persistDeadline is when a persist for p is overdue (a variable for
// tests).
var persistDeadline = func(p *pendingCheckpoint, interval time.Duration) time.Time { return p.started.Add(interval) }

// persistView writes a view under dir, each step through step: a
// StepPersister's steps when the writer may hand its work over
// (LowPriorityIO), else the whole Persist as one step.
func (c *checkpointer) persistView(v statebackend.Snapshot, dir string, step func(func())) (h statebackend.Handle, err error) {
	if sp, ok := v.(statebackend.StepPersister); ok && c.lowPrio {
		var job statebackend.PersistJob
		if step(func() { job, err = sp.StartPersist(c.fs, dir) }); err != nil {
			return h, err
		}
		for done := false; !done && err == nil; {
			step(func() { h, done, err = job.Step() })
		}
		return h, err
	}
	p, ok := v.(statebackend.Persister)
	if !ok {
		return h, fmt.Errorf("weir/runtime: state cannot be persisted (%T)", v)
	}
	step(func() { h, err = p.Persist(c.fs, dir) })
	return h, err
}

// rescuer runs the steps of an overdue persist on a goroutine of its own,
// which the scheduler runs on its normal-priority threads, while the
// low-priority writer waits.
type rescuer struct {
	work chan func()
	done chan struct{}
}

func newRescuer() *rescuer {
	r := &rescuer{work: make(chan func()), done: make(chan struct{})}
	go func() {
		for f := range r.work {
			f()
			r.done <- struct{}{}
		}
	}()
	return r
}

// run runs f on r's goroutine and returns when it is done.
func (r *rescuer) run(f func()) {
	r.work <- f
	<-r.done
}

// stop ends r's goroutine (nil: none).
func (r *rescuer) stop() {
	if r != nil {
		close(r.work)
	}
}

func (c *checkpointer) fail(p *pendingCheckpoint, err error) {
	c.mu.Lock()
	if _, ok := c.pending[p.id]; !ok {
		c.mu.Unlock()
		return
	}
	delete(c.pending, p.id)
	c.stats.Failed++
	c.mu.Unlock()
	c.log.Warn("checkpoint failed", zap.Int64("id", p.id), zap.Error(err))
	_ = c.fs.RemoveAll(p.dir)
	if p.done != nil {
		p.done <- err
	}
}

// checkComplete writes the manifest of id once every task has a part: a
// barrier snapshot, or its final snapshot (persisted into this
// checkpoint) if it ended. It runs on the writer goroutine.
func (c *checkpointer) checkComplete(id int64) {
	c.mu.Lock()
	p := c.pending[id]
	var missing []*taskSnap
	for _, t := range c.tasks {
		if p == nil {
			break
		}
		if p.parts[t] == nil {
			if c.finals[t] == nil {
				c.mu.Unlock()
				return
			}
			missing = append(missing, c.finals[t])
		}
	}
	c.mu.Unlock()
	if p == nil {
		return
	}
	for _, s := range missing {
		parts, err := c.persist(s, p, false)
		if err != nil {
			c.fail(p, err)
			return
		}
		p.parts[s.task] = parts
	}
	m := c.newManifest(id, p.savepoint, false)
	for _, t := range c.tasks {
		addParts(m, p.parts[t])
	}
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
	c.commit(p, m)
}

func (c *checkpointer) newManifest(id int64, savepoint, final bool) *Manifest {
	return &Manifest{Version: ManifestVersion, ID: id, Job: c.job, Savepoint: savepoint, Final: final,
		Created: time.Now().UTC(), MaxParallelism: c.maxP, Vertices: map[string]*VertexState{}}
}

// addParts adds a task's parts to m.
func addParts(m *Manifest, parts *SubtaskParts) {
	for name, st := range parts.states {
		st.Handles = slices.Clone(st.Handles)
		v := m.Vertices[name]
		if v == nil {
			v = &VertexState{Parallelism: parts.par[name]}
			m.Vertices[name] = v
		}
		v.Subtasks = append(v.Subtasks, st)
	}
}

// commit writes the manifest and tells the tasks.
func (c *checkpointer) commit(p *pendingCheckpoint, m *Manifest) {
	sortSubtasks(m)
	if err := c.writeManifest(p.dir, m); err != nil {
		c.fail(p, err)
		return
	}
	c.mu.Lock()
	c.stats.Completed++
	c.stats.LastID = m.ID
	c.stats.LastBytes = m.Bytes()
	c.stats.LastDuration = time.Since(p.started)
	c.mu.Unlock()
	c.log.Debug("checkpoint complete", zap.Int64("id", m.ID), zap.Int64("bytes", m.Bytes()), zap.Bool("final", m.Final))
	c.complete.Store(m.ID)
	for _, t := range c.tasks {
		t.checkpointDone(m.ID, m.Final)
	}
	if p.done != nil {
		p.done <- nil
	}
	if !p.savepoint {
		c.retainLast()
		c.collectShared()
	}
}

// writeManifest makes a checkpoint complete: the manifest is written to a
// temporary name, synced and renamed into place, so a directory either has
// a whole manifest or none (and is then an incomplete checkpoint).
func (c *checkpointer) writeManifest(dir string, m *Manifest) error {
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	tmp := dir + "/" + tmpPrefix + manifestFile
	if err := vfs.WriteFile(c.fs, tmp, data); err != nil {
		return err
	}
	if err := c.fs.Rename(tmp, dir+"/"+manifestFile); err != nil {
		return err
	}
	if err := c.fs.SyncDir(dir); err != nil {
		return err
	}
	return c.fs.SyncDir(".")
}

// sharedDir holds files that incremental backends share between
// checkpoints (their handles list them).
const sharedDir = "shared"

// collectShared deletes shared files that no kept checkpoint, savepoint or
// pending part references. It runs on the writer goroutine, so no persist
// is under way.
func (c *checkpointer) collectShared() {
	dirs, err := c.fs.List(sharedDir)
	if err != nil {
		return // none yet
	}
	used := c.referencedFiles()
	for _, d := range dirs {
		files, err := c.fs.List(sharedDir + "/" + d)
		if err != nil {
			continue
		}
		for _, f := range files {
			name := sharedDir + "/" + d + "/" + f
			if !used[name] {
				if err := c.fs.Remove(name); err != nil {
					c.log.Warn("cannot delete unused shared file", zap.String("file", name), zap.Error(err))
				}
			}
		}
	}
}

func (c *checkpointer) referencedFiles() map[string]bool {
	used := map[string]bool{}
	list, _ := ListCheckpoints(c.fs)
	for _, ci := range list {
		if m, err := ReadManifest(c.fs, ci.Dir); err == nil {
			for _, f := range m.Files() {
				used[f] = true
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.pending {
		for _, parts := range p.parts {
			for _, st := range parts.states {
				for _, h := range st.Handles {
					for _, f := range h.Files {
						used[f] = true
					}
				}
			}
		}
	}
	return used
}

// retainLast deletes complete checkpoints beyond the newest N (savepoints
// are kept until deleted by the user).
func (c *checkpointer) retainLast() {
	list, err := ListCheckpoints(c.fs)
	if err != nil {
		return
	}
	kept := 0
	for _, ci := range list {
		if ci.Savepoint {
			continue
		}
		if ok, _ := c.fs.Exists(ci.Dir + "/" + manifestFile); !ok {
			continue // in progress
		}
		kept++
		if kept > c.retain {
			if err := c.fs.RemoveAll(ci.Dir); err != nil {
				c.log.Warn("cannot delete old checkpoint", zap.String("dir", ci.Dir), zap.Error(err))
			}
		}
	}
}

// maybeFinal takes the final checkpoint once every task has ended.
func (c *checkpointer) maybeFinal() {
	c.mu.Lock()
	if c.finalOK || len(c.finals) < len(c.tasks) {
		c.mu.Unlock()
		return
	}
	c.finalOK = true
	id := c.nextID
	c.nextID++
	c.mu.Unlock()
	p := &pendingCheckpoint{id: id, started: time.Now(), dir: chkDir(id), parts: map[*task]*SubtaskParts{}}
	c.mu.Lock()
	c.pending[id] = p
	c.mu.Unlock()
	if err := c.fs.MkdirAll(p.dir); err != nil {
		c.failJob(fmt.Errorf("weir/runtime: final checkpoint: %w", err))
		return
	}
	m := c.newManifest(id, false, true)
	for _, t := range c.tasks {
		parts, err := c.persist(c.finals[t], p, false)
		if err != nil {
			c.fail(p, err)
			c.failJob(fmt.Errorf("weir/runtime: final checkpoint: %w", err))
			return
		}
		addParts(m, parts)
	}
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
	c.commit(p, m)
}

// releaseFinals frees the kept snapshots of ended tasks.
func (c *checkpointer) releaseFinals() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.finals {
		s.release()
	}
	c.finals = map[*task]*taskSnap{}
}

// inFlight reports whether a checkpoint is under way.
func (c *checkpointer) inFlight() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending) > 0
}

func (c *checkpointer) isPending(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending[id] != nil
}

// release frees the views of a snapshot that will not be written.
func (s *taskSnap) release() {
	for _, o := range s.ops {
		if o.view != nil {
			o.view.Release()
		}
	}
}

func sortSubtasks(m *Manifest) {
	for _, v := range m.Vertices {
		slices.SortFunc(v.Subtasks, func(a, b SubtaskState) int { return a.Subtask - b.Subtask })
	}
}

func (c *checkpointer) snapshotStats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *checkpointer) recordPause(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.TotalSyncTime += d
	c.stats.MaxSyncPause = max(c.stats.MaxSyncPause, d)
}
