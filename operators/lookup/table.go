package lookup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Table is an external table the lookup operator reads: a batched get by
// key. GetBatch returns, for keys[i], values[i] and found[i] (false: no
// row; values[i] is then ignored). Both slices must have len(keys)
// elements; GetBatch must not keep keys after it returns.
//
// GetBatch is called from several goroutines at once (up to
// Options.MaxInFlight per subtask, for every subtask of the job), so it
// must be safe for concurrent use. An error makes the operator retry the
// whole batch with exponential backoff until Options.FailAfter has passed,
// then fail the job (ErrTableDown); an error wrapped with Permanent fails
// the job at once. The job never closes a Table: whoever made it closes
// it (if it implements io.Closer) after runtime.Run returns.
type Table[K comparable, V any] interface {
	GetBatch(ctx context.Context, keys []K) (values []V, found []bool, err error)
}

// Named is an optional Table capability: Name is how errors refer to the
// table (a connector returns something like "redis 127.0.0.1:6379").
type Named interface {
	Name() string
}

// tableName is the name errors use for t.
func tableName(t any, override string) string {
	if override != "" {
		return override
	}
	if n, ok := t.(Named); ok {
		return n.Name()
	}
	return fmt.Sprintf("%T", t)
}

// PermanentError marks an error that retrying cannot fix (a value that
// does not decode, a missing column). See Permanent.
type PermanentError struct{ Err error }

// Error returns the wrapped error's message.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so the operator fails at once instead of retrying.
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err (or an error it wraps) is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ErrMemTableDown is what a MemTable returns while it is down.
var ErrMemTableDown = errors.New("weir/lookup: memtable is down")

// MemTable is an in-memory Table for tests and examples, with fault
// injection: SetDown makes every GetBatch fail until it is brought back
// up, and Delay (when set) is slept before every answer. It is safe for
// concurrent use.
type MemTable[K comparable, V any] struct {
	// Delay, when set, returns how long GetBatch waits before answering
	// keys (it is called once per GetBatch).
	Delay func(keys []K) time.Duration

	mu    sync.RWMutex
	rows  map[K]V
	down  atomic.Bool
	calls atomic.Int64
	keys  atomic.Int64
}

// NewMemTable returns a table holding a copy of rows.
func NewMemTable[K comparable, V any](rows map[K]V) *MemTable[K, V] {
	m := &MemTable[K, V]{rows: make(map[K]V, len(rows))}
	for k, v := range rows {
		m.rows[k] = v
	}
	return m
}

// Put sets the row of k.
func (m *MemTable[K, V]) Put(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows[k] = v
}

// Delete removes the row of k.
func (m *MemTable[K, V]) Delete(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rows, k)
}

// SetDown makes GetBatch fail with ErrMemTableDown (down) or answer again.
func (m *MemTable[K, V]) SetDown(down bool) { m.down.Store(down) }

// Calls is the number of GetBatch calls so far (failed ones included).
func (m *MemTable[K, V]) Calls() int64 { return m.calls.Load() }

// KeysRead is the number of keys asked for by successful GetBatch calls.
func (m *MemTable[K, V]) KeysRead() int64 { return m.keys.Load() }

// Name implements Named.
func (m *MemTable[K, V]) Name() string { return "memtable" }

// GetBatch implements Table.
func (m *MemTable[K, V]) GetBatch(ctx context.Context, keys []K) ([]V, []bool, error) {
	m.calls.Add(1)
	if m.Delay != nil {
		if err := sleepCtx(ctx, m.Delay(keys)); err != nil {
			return nil, nil, err
		}
	}
	if m.down.Load() {
		return nil, nil, ErrMemTableDown
	}
	vals, found := make([]V, len(keys)), make([]bool, len(keys))
	m.mu.RLock()
	defer m.mu.RUnlock()
	for i, k := range keys {
		vals[i], found[i] = m.rows[k]
	}
	m.keys.Add(int64(len(keys)))
	return vals, found, nil
}
