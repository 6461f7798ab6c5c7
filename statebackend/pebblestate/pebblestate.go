package pebblestate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	pvfs "github.com/cockroachdb/pebble/v2/vfs"

	"github.com/weirstream/weir/statebackend"
)

// Kind is the Backend field of the handles this package writes.
const Kind = "pebble"

// Default sizes of Options.
const (
	DefaultCacheSize    = 64 << 20 // block cache per backend
	DefaultMemTableSize = 16 << 20 // memtable per backend
)

// Options configures the backends of a Factory. The zero value is the
// default.
type Options struct {
	// CacheSize is the size in bytes of each backend's block cache (of
	// uncompressed SST blocks); 0 means DefaultCacheSize.
	CacheSize int64
	// MemTableSize is the size in bytes of each backend's memtable, the
	// most recent writes held in memory. It bounds the synchronous part of
	// Snapshot, which flushes the memtable; 0 means DefaultMemTableSize.
	MemTableSize int64
	// Sync writes a write-ahead log, syncs it on every write and lets
	// Pebble sync its files. Off by default, and then there is no log and
	// no fsync at all: the local database is scratch space that never
	// outlives its backend (a crash loses it, a restart restores from a
	// checkpoint), and durability comes from checkpoints.
	Sync bool
}

// validate checks o and fills in the defaults.
func (o Options) validate() (Options, error) {
	if o.CacheSize < 0 || o.MemTableSize < 0 {
		return o, fmt.Errorf("weir/pebblestate: negative size in %+v", o)
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	return o, nil
}

// Factory creates Pebble backends, one database per operator subtask, in
// directories under its directory. It is safe for concurrent use.
type Factory struct {
	dir  string
	opts Options
}

var _ statebackend.Factory = (*Factory)(nil)

// New returns a Factory of backends whose databases live under dir (created
// if needed). Invalid options make NewBackend fail.
func New(dir string, opts Options) *Factory { return &Factory{dir: dir, opts: opts} }

// NewBackend opens an empty backend for the subtask info describes, in a new
// directory dir/<operator>-<subtask>-<random> that Close removes. A zero
// info.MaxParallelism means statebackend.DefaultMaxParallelism; the key
// groups must lie within [0, MaxParallelism), and MaxParallelism must not
// exceed statebackend.MaxKVKeyGroups.
func (f *Factory) NewBackend(info statebackend.TaskInfo) (statebackend.Backend, error) {
	if info.MaxParallelism == 0 {
		info.MaxParallelism = statebackend.DefaultMaxParallelism
	}
	r := info.KeyGroups
	if info.MaxParallelism < 0 || info.MaxParallelism > statebackend.MaxKVKeyGroups ||
		r.Start < 0 || r.End < r.Start || r.End > info.MaxParallelism {
		return nil, fmt.Errorf("weir/pebblestate: operator %s subtask %d: key groups %v not within [0,%d) (at most %d key groups)",
			info.Operator, info.Subtask, r, info.MaxParallelism, statebackend.MaxKVKeyGroups)
	}
	opts, err := f.opts.validate()
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s-%d-%016x", sanitize(info.Operator), info.Subtask, rand.Uint64())
	b := &Backend{
		info:   info,
		opts:   opts,
		id:     id,
		path:   filepath.Join(f.dir, id),
		tables: make(map[string]*tableEntry),
		views:  make(map[*snapshot]struct{}),
		shared: make(map[string]fileMeta),
		wo:     pebble.NoSync,
	}
	if opts.Sync {
		b.wo = pebble.Sync
	}
	if err := os.MkdirAll(b.path, 0o755); err != nil {
		return nil, fmt.Errorf("weir/pebblestate: %w", err)
	}
	if b.db, err = b.open(b.dbDir(), false); err != nil {
		return nil, errors.Join(err, os.RemoveAll(b.path))
	}
	return b, nil
}

// sanitize makes an operator name usable in a file name.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" || s[0] == '.' {
		s = "op" + s
	}
	return s
}

// tableEntry is a table of the catalog: its id and schema, and the table
// once opened (a restored table is in the catalog before).
type tableEntry struct {
	id     uint32
	schema string
	kv     statebackend.KVTable // nil until OpenKV
}

// Backend is the Pebble state of one operator subtask. It implements
// statebackend.Backend, statebackend.KVBackend (the byte store its tables
// write to), and statebackend.Restorer; its snapshots implement
// statebackend.Persister.
//
// Like memstate's, its tables and its store methods belong to the task's
// goroutine, as do Snapshot and Restore; snapshots may be read, persisted
// and released from any goroutine.
type Backend struct {
	info statebackend.TaskInfo
	opts Options
	id   string // the directory name under the factory's dir, and the shared/<id> of checkpoints
	path string
	wo   *pebble.WriteOptions

	db     *pebble.DB
	dirty  bool // written since the last flush
	closed atomic.Bool

	mu       sync.Mutex // guards the fields below, never taken by table operations
	tables   map[string]*tableEntry
	nextID   uint32
	restored bool
	views    map[*snapshot]struct{}
	seq      int // snapshots taken, for their directory names

	bgMu  sync.Mutex // guards bgErr; not mu, which Snapshot holds while it waits for a flush
	bgErr error      // first error of a background flush or compaction

	upMu   sync.Mutex          // guards shared
	shared map[string]fileMeta // immutable local file name -> where a checkpoint stores it
}

var (
	_ statebackend.Backend   = (*Backend)(nil)
	_ statebackend.KVBackend = (*Backend)(nil)
	_ statebackend.Restorer  = (*Backend)(nil)
)

func (b *Backend) dbDir() string { return filepath.Join(b.path, "db") }

// open opens (creating if needed, unless readOnly) a database in dir with
// the backend's options.
func (b *Backend) open(dir string, readOnly bool) (*pebble.DB, error) {
	po := &pebble.Options{
		ReadOnly:            readOnly,
		CacheSize:           b.opts.CacheSize,
		MemTableSize:        uint64(b.opts.MemTableSize),
		DisableWAL:          !b.opts.Sync,
		FormatMajorVersion:  pebble.FormatNewest,
		MaxManifestFileSize: 1 << 20, // a checkpoint copies the MANIFEST: keep it small
		Logger:              quietLogger{},
		EventListener:       &pebble.EventListener{BackgroundError: b.backgroundError},
	}
	po.Levels[0].FilterPolicy = bloom.FilterPolicy(10) // and the levels below
	if !b.opts.Sync {
		po.FS = noSyncFS{pvfs.Default}
	}
	po.EnsureDefaults()
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("weir/pebblestate: open %s: %w", dir, err)
	}
	return db, nil
}

func (b *Backend) backgroundError(err error) {
	b.bgMu.Lock()
	defer b.bgMu.Unlock()
	if b.bgErr == nil {
		b.bgErr = fmt.Errorf("weir/pebblestate: %s: background: %w", b.info.Operator, err)
	}
}

// quietLogger drops Pebble's informational and error messages (errors of
// background work reach the backend through its EventListener) and keeps
// its fatal ones fatal.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)           {}
func (quietLogger) Errorf(string, ...any)          {}
func (quietLogger) Fatalf(format string, a ...any) { pebble.DefaultLogger.Fatalf(format, a...) }

// Info returns the task the backend serves.
func (b *Backend) Info() statebackend.TaskInfo { return b.info }

// Dir is the directory of the backend's local files, removed by Close.
func (b *Backend) Dir() string { return b.path }

func (b *Backend) errClosed(op string) error {
	return fmt.Errorf("weir/pebblestate: %s of %s: %w", op, b.info.Operator, statebackend.ErrClosed)
}

// OpenKV implements statebackend.KVBackend: it returns the table registered
// under name, creating it with a new table id if needed. A table restored
// from a checkpoint keeps its state when it is opened with the schema it
// was written with, and cannot be opened with another.
func (b *Backend) OpenKV(name, schema string, newTable func(id uint32) statebackend.KVTable) (statebackend.KVTable, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, b.errClosed(fmt.Sprintf("open table %q", name))
	}
	e := b.tables[name]
	switch {
	case e == nil:
		e = &tableEntry{id: b.nextID, schema: schema}
		b.nextID++
		b.tables[name] = e
	case e.kv != nil:
		return e.kv, nil
	case e.schema != schema:
		return nil, fmt.Errorf("weir/pebblestate: table %q of %s was checkpointed as %s, opened as %s",
			name, b.info.Operator, e.schema, schema)
	}
	e.kv = newTable(e.id)
	return e.kv, nil
}

// Get implements statebackend.KVStore.
func (b *Backend) Get(key, buf []byte) ([]byte, bool, error) {
	if b.closed.Load() {
		return buf, false, b.errClosed("get")
	}
	v, closer, err := b.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return buf, false, nil
	}
	if err != nil {
		return buf, false, err
	}
	buf = append(buf, v...)
	return buf, true, closer.Close()
}

// Set implements statebackend.KVStore.
func (b *Backend) Set(key, value []byte) error {
	if b.closed.Load() {
		return b.errClosed("set")
	}
	b.dirty = true
	return b.db.Set(key, value, b.wo)
}

// Delete implements statebackend.KVStore.
func (b *Backend) Delete(key []byte) error {
	if b.closed.Load() {
		return b.errClosed("delete")
	}
	b.dirty = true
	return b.db.Delete(key, b.wo)
}

// Scan implements statebackend.KVReader.
func (b *Backend) Scan(prefix []byte, fn func(key, value []byte) bool) error {
	if b.closed.Load() {
		return b.errClosed("scan")
	}
	return scan(b.db, prefix, fn)
}

// iterable is a pebble.DB or pebble.Snapshot.
type iterable interface {
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// scan iterates over the keys starting with prefix.
func scan(r iterable, prefix []byte, fn func(key, value []byte) bool) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return errors.Join(err, it.Close())
		}
		if !fn(it.Key(), v) {
			break
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix, or nil (no bound) if there is none.
func prefixEnd(prefix []byte) []byte {
	end := slices.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Compact flushes the memtable and compacts the whole database into its
// bottom level, and returns when done. A bulk load (a backfill, a restore
// that merged checkpoints) leaves files that background compactions rewrite
// soon after, so that the next checkpoint shares few files with the last;
// after Compact, checkpoints share all but the files written since. It
// must be called by the task's goroutine and costs a rewrite of the state.
func (b *Backend) Compact() error {
	if b.closed.Load() {
		return b.errClosed("compact")
	}
	if err := b.db.Compact(context.Background(), []byte{0}, []byte{0xff, 0xff}, true); err != nil {
		return fmt.Errorf("weir/pebblestate: compact %s: %w", b.info.Operator, err)
	}
	return nil
}

// Close releases the live snapshots (waiting for reads and Persist calls in
// progress), closes the database and removes the backend's directory.
// Later calls of the backend's methods and of its tables fail with
// statebackend.ErrClosed (tables record it, see statebackend.KVBackend);
// reads of released snapshots fail. Closing twice is a no-op.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed.Swap(true) {
		b.mu.Unlock()
		return nil
	}
	views := make([]*snapshot, 0, len(b.views))
	for s := range b.views {
		views = append(views, s)
	}
	b.mu.Unlock()
	for _, s := range views {
		s.Release()
	}
	err := b.db.Close()
	return errors.Join(err, os.RemoveAll(b.path))
}
