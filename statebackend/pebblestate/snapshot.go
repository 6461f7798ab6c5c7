package pebblestate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weirstream/weir/statebackend"
)

// errReleased is returned by reads of a released snapshot.
var errReleased = errors.New("weir/pebblestate: snapshot released")

// Snapshot returns a consistent view of all opened tables over the key
// groups in r, which must lie within the backend's. It must be called by
// the task's goroutine. It takes two things at the same instant (no write
// comes between them, the task being busy here):
//
//   - a Pebble snapshot, which the view's tables read;
//   - a Pebble checkpoint of the key groups in r in a local directory: the
//     memtable is flushed to an SST if anything was written since the last
//     flush, then the live SSTs (immutable) are hard-linked and the
//     MANIFEST and OPTIONS copied. Persist uploads that directory later.
//
// Its cost is thus O(memtable + live files), not O(state). It fails with the
// first error any table met (see statebackend.KVBackend) or that Pebble
// reported from background work, and with statebackend.ErrClosed after
// Close.
func (b *Backend) Snapshot(r statebackend.KeyGroupRange) (statebackend.Snapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, b.errClosed("snapshot")
	}
	kgs := b.info.KeyGroups
	if r.End < r.Start || r.Start < kgs.Start || r.End > kgs.End {
		return nil, fmt.Errorf("weir/pebblestate: snapshot range %v outside key groups %v of %s", r, kgs, b.info.Operator)
	}
	if err := b.tableErrLocked(); err != nil {
		return nil, err
	}
	if b.dirty {
		if err := b.db.Flush(); err != nil {
			return nil, fmt.Errorf("weir/pebblestate: snapshot of %s: flush: %w", b.info.Operator, err)
		}
		b.dirty = false
	}
	b.seq++
	dir := filepath.Join(b.path, fmt.Sprintf("chk-%06d", b.seq))
	span := pebble.CheckpointSpan{
		Start: statebackend.AppendKVKeyGroup(nil, r.Start),
		End:   statebackend.AppendKVKeyGroup(nil, r.End),
	}
	if err := b.db.Checkpoint(dir, pebble.WithFlushedWAL(), pebble.WithRestrictToSpans([]pebble.CheckpointSpan{span})); err != nil {
		return nil, fmt.Errorf("weir/pebblestate: snapshot of %s: checkpoint: %w", b.info.Operator, err)
	}
	s := &snapshot{b: b, r: r, dir: dir, snap: b.db.NewSnapshot(), views: map[string]statebackend.TableSnapshot{}}
	for name, e := range b.tables {
		s.catalog = append(s.catalog, tableMeta{Name: name, ID: e.id, Schema: e.schema})
		if e.kv != nil {
			s.names = append(s.names, name)
			s.views[name] = statebackend.NewKVTableSnapshot(s, e.kv, r, s.fail)
		}
	}
	slices.Sort(s.names)
	slices.SortFunc(s.catalog, func(a, b tableMeta) int { return int(a.ID) - int(b.ID) })
	b.views[s] = struct{}{}
	return s, nil
}

// tableErrLocked returns the first error of a table or of background work.
func (b *Backend) tableErrLocked() error {
	b.bgMu.Lock()
	err := b.bgErr
	b.bgMu.Unlock()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(b.tables))
	for name := range b.tables {
		names = append(names, name)
	}
	slices.Sort(names) // the same error every time
	for _, name := range names {
		if kv := b.tables[name].kv; kv != nil && kv.Err() != nil {
			return kv.Err()
		}
	}
	return nil
}

// snapshot is the view Snapshot returns. mu serializes reads (read lock)
// with Release (write lock), so that Pebble's snapshot and the checkpoint
// directory stay until the last read is over.
type snapshot struct {
	b       *Backend
	r       statebackend.KeyGroupRange
	dir     string // the local checkpoint
	names   []string
	views   map[string]statebackend.TableSnapshot
	catalog []tableMeta // every table, opened or only restored

	mu   sync.RWMutex
	snap *pebble.Snapshot // nil once released

	errMu sync.Mutex
	err   error
}

var (
	_ statebackend.Snapshot  = (*snapshot)(nil)
	_ statebackend.Persister = (*snapshot)(nil)
)

// Tables lists the opened tables of the view, sorted. Tables restored but
// not opened yet are persisted, but not listed: their types are unknown.
func (s *snapshot) Tables() []string { return slices.Clone(s.names) }

// Table returns the view of table name, or nil.
func (s *snapshot) Table(name string) statebackend.TableSnapshot {
	if v, ok := s.views[name]; ok {
		return v
	}
	return nil
}

// Scan implements statebackend.KVReader over the Pebble snapshot.
func (s *snapshot) Scan(prefix []byte, fn func(key, value []byte) bool) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.snap == nil {
		return errReleased
	}
	return scan(s.snap, prefix, fn)
}

// fail records the first read error of the view's tables.
func (s *snapshot) fail(err error) {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Err returns the first error met by ForEach or Len of the view's tables
// (which report it no other way), or nil.
func (s *snapshot) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Release frees the Pebble snapshot and the local checkpoint, after the
// reads and Persist calls in progress; later calls are no-ops.
func (s *snapshot) Release() {
	s.mu.Lock()
	if s.snap == nil {
		s.mu.Unlock()
		return
	}
	err := s.snap.Close()
	s.snap = nil
	err = errors.Join(err, os.RemoveAll(s.dir))
	s.mu.Unlock()
	if err != nil {
		s.fail(err)
	}
	s.b.mu.Lock()
	delete(s.b.views, s)
	s.b.mu.Unlock()
}
