package statebackend

import (
	"errors"
	"fmt"
)

// Void is the namespace of state that has none.
type Void struct{}

// DefaultMaxParallelism is the default number of key groups.
const DefaultMaxParallelism = 128

// ErrClosed is returned by operations on a closed backend.
var ErrClosed = errors.New("weir/statebackend: backend closed")

// KeyGroupRange is the half-open range [Start, End) of key groups.
type KeyGroupRange struct{ Start, End int }

// Contains reports whether kg is in the range.
func (r KeyGroupRange) Contains(kg int) bool { return kg >= r.Start && kg < r.End }

// Len is the number of key groups in the range.
func (r KeyGroupRange) Len() int { return r.End - r.Start }

// String formats the range as [Start,End).
func (r KeyGroupRange) String() string { return fmt.Sprintf("[%d,%d)", r.Start, r.End) }

// TaskInfo describes the operator subtask a backend serves.
type TaskInfo struct {
	Operator       string        // operator name, for errors and files
	Subtask        int           // subtask index
	KeyGroups      KeyGroupRange // key groups the subtask owns
	MaxParallelism int           // total number of key groups
}

// Factory creates one Backend per keyed operator subtask.
type Factory interface {
	NewBackend(info TaskInfo) (Backend, error)
}

// Backend holds the keyed state of one operator subtask.
type Backend interface {
	// Info returns the task the backend serves.
	Info() TaskInfo
	// Snapshot returns a consistent read-only view of all tables over the
	// key groups in r. The view stays valid until Release, however the
	// tables change meanwhile.
	Snapshot(r KeyGroupRange) (Snapshot, error)
	// Close frees the backend. Tables must not be used afterwards.
	Close() error
}

// Snapshot is a consistent, read-only view of a backend's tables.
type Snapshot interface {
	// Tables lists the names of the tables in the view, sorted.
	Tables() []string
	// Table returns the view of one table, or nil if it does not exist.
	Table(name string) TableSnapshot
	// Release frees the view; the heap backend stops copying on write for it.
	Release()
}

// TableSnapshot is the view of one table: entries grouped by key group.
type TableSnapshot interface {
	// ForEach calls fn for every entry of key group kg in unspecified order
	// until fn returns false. key, ns and value are the table's Go values
	// (K, N, V boxed); they must not be modified.
	ForEach(kg int, fn func(key, ns, value any) bool)
	// Len is the number of entries in key group kg.
	Len(kg int) int
}

// SnapshotTable is the optional, non-generic capability of a table to take
// copy-on-write views of itself; the heap table (NewHeapTable) implements
// it, and heap backends snapshot a table through it without knowing its
// types. Like every other table method, SnapshotRange is called by the
// task's goroutine.
type SnapshotTable interface {
	// SnapshotRange returns a read-only view of the key groups in r that
	// never changes, however the table changes afterwards. It costs
	// O(r.Len()), not O(entries). The view may be read by any goroutine,
	// concurrently with writes to the table, until it is released. r must
	// lie within the table's key groups (a caller bug: it panics).
	SnapshotRange(r KeyGroupRange) TableView
}

// TableView is the view of one table returned by SnapshotRange: a
// TableSnapshot of the key groups of its range that must be released.
// Reading a key group outside the range, or reading after Release, is a
// caller bug and panics.
type TableView interface {
	TableSnapshot
	// Range is the key-group range of the view.
	Range() KeyGroupRange
	// Release frees the view. It may be called from any goroutine, once all
	// reads of the view are done; later calls are no-ops. Until it is
	// called, the table copies what it changes on the view's key groups;
	// a view that is never released costs those copies, never correctness.
	Release()
}

// Table is typed keyed state: a map from (key group, key, namespace) to V.
// A table is used by one goroutine (its task); it is not safe for concurrent
// use, except that snapshots may be read concurrently with writes.
type Table[K comparable, N comparable, V any] interface {
	// Get returns the value stored for (kg, key, ns).
	Get(kg int, key K, ns N) (V, bool)
	// Put stores v for (kg, key, ns).
	Put(kg int, key K, ns N, v V)
	// Delete removes (kg, key, ns); deleting a missing entry is a no-op.
	Delete(kg int, key K, ns N)
	// Namespaces calls fn for each namespace stored for (kg, key) until fn
	// returns false. fn must not modify the table.
	Namespaces(kg int, key K, fn func(ns N, v V) bool)
	// Len is the number of entries in key group kg.
	Len(kg int) int
}

// Pointers is an optional Table capability for in-place updates on the hot
// path (a rolling reduce updates its accumulator with one lookup).
type Pointers[K comparable, N comparable, V any] interface {
	// Ptr returns a pointer to the value of (kg, key, ns) that the caller
	// may read and write until the next Ptr, Put, Delete or Snapshot call
	// on the table (SnapshotRange included): a table may move its values,
	// for instance when it grows, so a caller holds one pointer at a time.
	// If the entry is missing it is created with the zero value when
	// create is true, otherwise Ptr returns nil. found reports whether the
	// entry existed before.
	//
	// Copy-on-write is shallow: writing *p never changes a snapshot, but
	// memory that V points to (slice elements, maps, pointees) may be
	// shared with one, so replace such parts instead of changing them.
	Ptr(kg int, key K, ns N, create bool) (p *V, found bool)
}

// Sweeper is an optional Table capability for operators that visit a
// whole key group at once, such as a window that closes for every key:
// Sweep calls fn with every entry of key group kg, in place and in no
// particular order, and removes the entries for which fn returns true.
// A pass over the entries costs far less per entry than a lookup and a
// Delete by key, which miss the cache on large tables. fn may read and
// write *v (under the copy-on-write rules of Pointers) but must not use
// the table otherwise; the pointer is good during the call only.
type Sweeper[K comparable, N comparable, V any] interface {
	Sweep(kg int, fn func(key K, ns N, v *V) (remove bool))
}

// TableOpener is implemented by heap backends: they keep Go values and need
// nothing but the table's types, which Open supplies through NewTable.
type TableOpener interface {
	// OpenTable returns the table registered under name, creating it with
	// newTable if it does not exist yet. The result is the value newTable
	// returned (or returned earlier for the same name).
	OpenTable(name string, newTable func() any) (any, error)
}

// Open returns the typed table name of backend b, creating it if needed.
// Opening the same name twice with different types is an error.
func Open[K comparable, N comparable, V any](b Backend, name string) (Table[K, N, V], error) {
	if kb, ok := b.(KVBackend); ok {
		return openKV[K, N, V](kb, name)
	}
	t, err := openHeap(b, name, func() any { return NewHeapTable[K, N, V](b.Info()) })
	if err != nil {
		return nil, err
	}
	tt, ok := t.(Table[K, N, V])
	if !ok {
		return nil, fmt.Errorf("weir/statebackend: table %q of %s opened with another type (%T)", name, b.Info().Operator, t)
	}
	if err := loadRestored(b, name, tt); err != nil {
		return nil, err
	}
	return tt, nil
}

// openHeap returns the table name of heap backend b, creating it with
// newTable if it does not exist yet.
func openHeap(b Backend, name string, newTable func() any) (any, error) {
	op, ok := b.(TableOpener)
	if !ok {
		return nil, fmt.Errorf("weir/statebackend: backend %T cannot open typed tables", b)
	}
	if name == "" {
		return nil, errors.New("weir/statebackend: empty table name")
	}
	return op.OpenTable(name, newTable)
}
