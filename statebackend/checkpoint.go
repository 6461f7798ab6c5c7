package statebackend

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"

	"github.com/weirstream/weir/statebackend/vfs"
)

// Handle describes where one backend snapshot was persisted. The runtime
// stores handles in checkpoint manifests (as JSON) and hands them back to
// Restore; only the backend that wrote a handle interprets Meta.
type Handle struct {
	Backend   string        `json:"backend"`    // backend kind, e.g. "memstate", "pebble"
	Operator  string        `json:"operator"`   // operator name
	Subtask   int           `json:"subtask"`    // subtask that wrote it
	KeyGroups KeyGroupRange `json:"key_groups"` // key groups it covers
	Files     []string      `json:"files"`      // files it references, relative to the storage root
	Bytes     int64         `json:"bytes"`      // bytes written for this snapshot (not counting reused files)
	Meta      []byte        `json:"meta,omitempty"`
}

// Persister is implemented by snapshots that can be written to storage.
// Persist runs on a background goroutine while the task goes on; it writes
// the view under dir (a path relative to fs's root, created by the caller)
// and may also write or link files elsewhere in fs (shared files of an
// incremental backend) as long as Handle.Files lists every file it needs.
type Persister interface {
	Persist(fs vfs.FS, dir string) (Handle, error)
}

// StepPersister is implemented by snapshots that can also be persisted in
// steps, so that the caller may move the rest of a persist to another
// goroutine between two steps: the runtime starts checkpoint writes on a
// thread of the lowest priority (runtime.LowPriorityIO) and finishes one
// that is overdue at normal priority. StartPersist creates what Persist
// would and returns the job that writes it.
type StepPersister interface {
	Persister
	StartPersist(fs vfs.FS, dir string) (PersistJob, error)
}

// PersistJob is a persist in progress (StepPersister), used by one
// goroutine at a time. The caller steps it until it is done or fails.
type PersistJob interface {
	// Step writes the next part. It returns done and the handle after the
	// last part; an error ends the job (its files closed).
	Step() (h Handle, done bool, err error)
}

// Restorer is implemented by backends that can load persisted snapshots.
// Restore is called once, before any table is opened; handles may cover
// more key groups than the backend owns (after a change of parallelism):
// the backend loads only its own. Tables opened later see the restored
// entries.
type Restorer interface {
	Restore(fs vfs.FS, handles []Handle) error
}

// Codec encodes the entries of one key group of a typed table. Heap tables
// and views implement it with encoding/gob, so state types must be
// gob-encodable (exported fields).
type Codec interface {
	// EncodeKeyGroup returns the entries of key group kg, encoded.
	EncodeKeyGroup(kg int) ([]byte, error)
}

// Loader is implemented by tables that can load encoded entries.
type Loader interface {
	// LoadKeyGroup adds the entries encoded by EncodeKeyGroup to key group kg.
	LoadKeyGroup(kg int, data []byte) error
}

// RestoredTables is implemented by backends that keep restored entries as
// encoded sections until a table is opened (memstate); Open loads them
// into the new typed table. schema is the SectionSchema the sections were
// written with, or "" for gob sections.
type RestoredTables interface {
	TakeRestored(name string) (secs map[int][]byte, schema string)
}

// loadRestored decodes restored sections into t, as memstate writes them:
// plain sections (SectionEncoder), or gob streams of, per entry, a key, a
// namespace (absent when N is Void) and a value.
func loadRestored[K comparable, N comparable, V any](b Backend, name string, t Table[K, N, V]) error {
	rt, ok := b.(RestoredTables)
	if !ok {
		return nil
	}
	secs, schema := rt.TakeRestored(name)
	for kg, data := range secs {
		put := func(k K, n N, v V) { t.Put(kg, k, n, v) }
		var err error
		if schema != "" {
			err = decodeSection(data, schema, put)
		} else {
			err = decodeGob(data, put)
		}
		if err != nil {
			return fmt.Errorf("weir/statebackend: restore table %q key group %d of %s: %w", name, kg, b.Info().Operator, err)
		}
	}
	return nil
}

// decodeGob calls put with every entry of a gob section: per entry a key,
// a namespace (absent when N is Void) and a value.
func decodeGob[K comparable, N comparable, V any](data []byte, put func(k K, n N, v V)) error {
	_, void := any(*new(N)).(Void)
	dec := gob.NewDecoder(bytes.NewReader(data))
	for {
		var k K
		var n N
		var v V
		err := dec.Decode(&k)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil && !void {
			err = dec.Decode(&n)
		}
		if err == nil {
			err = dec.Decode(&v)
		}
		if err != nil {
			return err
		}
		put(k, n, v)
	}
}
