package runtime

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

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
	finals   map[*task]*SubtaskParts
	tasks    []*task
	stats    Stats
	finalOK  bool
	writes   sync.WaitGroup
	closed   bool
	workQ    chan func()
	qmu      sync.RWMutex // held (read) while sending to workQ, (write) to close it
	complete atomic.Int64 // latest completed checkpoint id
}

func newCheckpointer(fs vfs.FS, o *Options, job string, startID int64) *checkpointer {
	return &checkpointer{
		fs: fs, interval: o.CheckpointInterval, retain: o.RetainCheckpoints, job: job,
		maxP: o.MaxParallelism, log: o.Logger.Named("checkpoint"), inline: o.Deterministic,
		nextID: startID + 1, pending: map[int64]*pendingCheckpoint{}, finals: map[*task]*SubtaskParts{},
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
		for f := range q {
			f()
		}
	}()
}

// stop waits for queued writes and ends the writer goroutine.
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
}

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
// asked to inject a barrier.
func (c *checkpointer) trigger(savepoint bool, done chan error) (int64, error) {
	c.mu.Lock()
	if c.finalOK || c.closed {
		c.mu.Unlock()
		return 0, errors.New("weir/runtime: job finished; no more checkpoints")
	}
	id := c.nextID
	c.nextID++
	p := &pendingCheckpoint{id: id, savepoint: savepoint, started: time.Now(), parts: map[*task]*SubtaskParts{}, done: done}
	c.pending[id] = p
	dir := tmpPrefix + chkDir(id)
	c.mu.Unlock()
	if err := c.fs.MkdirAll(dir); err != nil {
		c.fail(p, fmt.Errorf("create %s: %w", dir, err))
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

// submit hands a task's snapshot for checkpoint id (or its final snapshot,
// id 0) to the writer.
func (c *checkpointer) submit(id int64, s *taskSnap) {
	c.run(func() {
		if id != 0 && !c.isPending(id) { // abandoned: nothing to write
			s.release()
			return
		}
		dir := tmpPrefix + chkDir(id)
		if id == 0 {
			dir = strings.TrimSuffix(finalParts, "/")
		}
		parts, err := c.persist(s, dir)
		c.mu.Lock()
		if id == 0 {
			if err == nil {
				c.finals[s.task] = parts
			}
			pend := make([]int64, 0, len(c.pending))
			for pid := range c.pending {
				pend = append(pend, pid)
			}
			c.mu.Unlock()
			if err != nil {
				c.failJob(fmt.Errorf("weir/runtime: final snapshot of %s: %w", s.task.name, err))
				return
			}
			for _, pid := range pend {
				c.checkComplete(pid)
			}
			c.maybeFinal()
			return
		}
		p := c.pending[id]
		if p != nil && err == nil {
			p.parts[s.task] = parts
		}
		c.mu.Unlock()
		if p == nil {
			return
		}
		if err != nil {
			c.fail(p, err)
			return
		}
		c.checkComplete(id)
	})
}

// persist writes the views of a task snapshot under dir.
func (c *checkpointer) persist(s *taskSnap, dir string) (*SubtaskParts, error) {
	parts := &SubtaskParts{states: map[string]SubtaskState{}, par: map[string]int{}}
	if err := c.fs.MkdirAll(dir); err != nil {
		return nil, err
	}
	for _, o := range s.ops {
		st := SubtaskState{Subtask: o.subtask, Finished: s.final, KeyGroups: o.kgState,
			OpState: o.opState, HasState: o.hasState, Positions: o.positions}
		if o.view != nil {
			p, ok := o.view.(statebackend.Persister)
			if !ok {
				return nil, fmt.Errorf("weir/runtime: state of %s cannot be persisted (%T)", o.vertex, o.view)
			}
			h, err := p.Persist(c.fs, dir)
			o.view.Release()
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
	_ = c.fs.RemoveAll(tmpPrefix + chkDir(p.id))
	if p.done != nil {
		p.done <- err
	}
}

// checkComplete writes the manifest of id once every task has a part (a
// barrier snapshot, or its final snapshot if it ended).
func (c *checkpointer) checkComplete(id int64) {
	c.mu.Lock()
	p := c.pending[id]
	if p == nil {
		c.mu.Unlock()
		return
	}
	m := &Manifest{Version: ManifestVersion, ID: id, Job: c.job, Savepoint: p.savepoint, Created: time.Now().UTC(),
		MaxParallelism: c.maxP, Vertices: map[string]*VertexState{}}
	for _, t := range c.tasks {
		parts := p.parts[t]
		if parts == nil {
			parts = c.finals[t]
		}
		if parts == nil {
			c.mu.Unlock()
			return
		}
		addParts(m, parts)
	}
	delete(c.pending, id)
	c.mu.Unlock()
	c.commit(p, m)
}

// addParts adds a task's parts to m; handles are copied, since the parts
// of an ended task go into several manifests.
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

// commit writes the manifest, renames the directory into place and tells
// the tasks.
func (c *checkpointer) commit(p *pendingCheckpoint, m *Manifest) {
	sortSubtasks(m)
	err := c.writeManifest(m, p.savepoint)
	if err != nil {
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
	}
}

func (c *checkpointer) writeManifest(m *Manifest, savepoint bool) error {
	tmp := tmpPrefix + chkDir(m.ID)
	final := chkDir(m.ID)
	if savepoint {
		final = savepointPre + fmt.Sprintf("%08d", m.ID)
	}
	if err := c.fs.MkdirAll(tmp); err != nil {
		return err
	}
	// Handles name files where they were written: in the temporary
	// directory (renamed below) or under final-parts/ (linked in, so every
	// checkpoint stands alone).
	if err := c.relocateFiles(m, tmp, final); err != nil {
		return err
	}
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	if err := writeSynced(c.fs, tmp+"/"+manifestFile, data); err != nil {
		return err
	}
	if err := c.fs.Rename(tmp, final); err != nil {
		return err
	}
	return c.fs.SyncDir(".")
}

func writeSynced(fs vfs.FS, name string, data []byte) error {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

const finalParts = "final-parts/"

// relocateFiles rewrites the file names of the handles to where they will
// be once tmp is renamed to final.
func (c *checkpointer) relocateFiles(m *Manifest, tmp, final string) error {
	for _, v := range m.Vertices {
		for i := range v.Subtasks {
			for j, h := range v.Subtasks[i].Handles {
				files := make([]string, len(h.Files))
				for k, f := range h.Files {
					switch {
					case strings.HasPrefix(f, finalParts):
						if err := c.fs.Link(f, tmp+"/"+f[len(finalParts):]); err != nil {
							return err
						}
						f = final + "/" + f[len(finalParts):]
					case strings.HasPrefix(f, tmp+"/"):
						f = final + f[len(tmp):]
					}
					files[k] = f
				}
				v.Subtasks[i].Handles[j].Files = files
			}
		}
	}
	return nil
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
	m := &Manifest{Version: ManifestVersion, ID: id, Job: c.job, Final: true, Created: time.Now().UTC(),
		MaxParallelism: c.maxP, Vertices: map[string]*VertexState{}}
	for _, t := range c.tasks {
		addParts(m, c.finals[t])
	}
	c.mu.Unlock()
	c.commit(&pendingCheckpoint{id: id, started: time.Now()}, m)
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
