package memstate

import (
	"fmt"
	"slices"
	"sync"

	"github.com/weirstream/weir/statebackend"
)

// Factory creates heap backends. It has no configuration and is safe for
// concurrent use.
type Factory struct{}

var _ statebackend.Factory = (*Factory)(nil)

// New returns a Factory of heap backends.
func New() *Factory { return &Factory{} }

// NewBackend returns an empty backend for the subtask info describes. A
// zero info.MaxParallelism means statebackend.DefaultMaxParallelism; the
// key groups must lie within [0, MaxParallelism).
func (f *Factory) NewBackend(info statebackend.TaskInfo) (statebackend.Backend, error) {
	if info.MaxParallelism == 0 {
		info.MaxParallelism = statebackend.DefaultMaxParallelism
	}
	r := info.KeyGroups
	if info.MaxParallelism < 0 || r.Start < 0 || r.End < r.Start || r.End > info.MaxParallelism {
		return nil, fmt.Errorf("weir/memstate: operator %s subtask %d: key groups %v not within [0,%d)",
			info.Operator, info.Subtask, r, info.MaxParallelism)
	}
	return &Backend{info: info, tables: make(map[string]table)}, nil
}

// table is what the registry keeps: the value newTable returned, which must
// be able to snapshot itself.
type table struct {
	v    any
	snap statebackend.SnapshotTable
}

// Backend is the heap state of one operator subtask: a registry of tables
// by name. It implements statebackend.Backend and statebackend.TableOpener.
// Its methods may be called from any goroutine, but the tables it hands out
// belong to the task's goroutine.
type Backend struct {
	info     statebackend.TaskInfo
	mu       sync.Mutex // guards tables and closed; never taken by table operations
	tables   map[string]table
	closed   bool
	restored map[string]map[int][]byte // table -> key group -> encoded entries, until opened
	schemas  map[string]string         // table -> schema of its restored sections ("": gob)
}

var (
	_ statebackend.Backend     = (*Backend)(nil)
	_ statebackend.TableOpener = (*Backend)(nil)
)

// Info returns the task the backend serves.
func (b *Backend) Info() statebackend.TaskInfo { return b.info }

// OpenTable returns the table registered under name, creating it with
// newTable if needed. The table must implement statebackend.SnapshotTable,
// as statebackend.NewHeapTable's do. After Close it returns
// statebackend.ErrClosed.
func (b *Backend) OpenTable(name string, newTable func() any) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("weir/memstate: open table %q of %s: %w", name, b.info.Operator, statebackend.ErrClosed)
	}
	if t, ok := b.tables[name]; ok {
		return t.v, nil
	}
	v := newTable()
	snap, ok := v.(statebackend.SnapshotTable)
	if !ok {
		return nil, fmt.Errorf("weir/memstate: table %q of %s: %T cannot snapshot itself", name, b.info.Operator, v)
	}
	b.tables[name] = table{v: v, snap: snap}
	return v, nil
}

// Snapshot returns a copy-on-write view of all tables over the key groups
// in r, which must lie within the backend's key groups. It must be called
// by the task's goroutine; the view may be read and released from any.
// After Close it returns statebackend.ErrClosed.
func (b *Backend) Snapshot(r statebackend.KeyGroupRange) (statebackend.Snapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("weir/memstate: snapshot of %s: %w", b.info.Operator, statebackend.ErrClosed)
	}
	kgs := b.info.KeyGroups
	if r.End < r.Start || r.Start < kgs.Start || r.End > kgs.End {
		return nil, fmt.Errorf("weir/memstate: snapshot range %v outside key groups %v of %s", r, kgs, b.info.Operator)
	}
	s := &snapshot{info: b.info, r: r, names: make([]string, 0, len(b.tables)), views: make(map[string]statebackend.TableView, len(b.tables))}
	for name := range b.tables {
		s.names = append(s.names, name)
	}
	slices.Sort(s.names)
	for _, name := range s.names {
		s.views[name] = b.tables[name].snap.SnapshotRange(r)
	}
	return s, nil
}

// Close drops the tables; later OpenTable and Snapshot calls return
// statebackend.ErrClosed. Live snapshots stay readable until released.
// Closing twice is a no-op.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.tables = nil
	return nil
}

// snapshot is a view of all tables of a backend.
type snapshot struct {
	info  statebackend.TaskInfo
	r     statebackend.KeyGroupRange
	names []string
	views map[string]statebackend.TableView
}

// Tables lists the table names in the view, sorted.
func (s *snapshot) Tables() []string { return slices.Clone(s.names) }

// Table returns the view of table name, or nil.
func (s *snapshot) Table(name string) statebackend.TableSnapshot {
	if v, ok := s.views[name]; ok {
		return v
	}
	return nil
}

// Release releases the views of all tables; later calls are no-ops.
func (s *snapshot) Release() {
	for _, v := range s.views {
		v.Release()
	}
}
