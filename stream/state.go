package stream

import (
	"fmt"

	"github.com/weirstream/weir/statebackend"
)

// StateOption tunes how a state declared in KeyedProcessFunc.Open is kept.
type StateOption func(*stateConfig)

type stateConfig struct {
	packed bool
}

// openState opens the table of a state declared with opts.
func openState[K, N comparable, V any](ctx *OpenContext[K], name string, opts []StateOption) (statebackend.Table[K, N, V], error) {
	var c stateConfig
	for _, o := range opts {
		o(&c)
	}
	if c.packed {
		return statebackend.OpenPacked[K, N, V](ctx.op.State, name)
	}
	return statebackend.Open[K, N, V](ctx.op.State, name)
}

// Packed keeps the state's values encoded in byte arenas that the garbage
// collector does not scan (statebackend.OpenPacked), where a heap backend
// would keep them as Go values. It is for large state of values with
// strings or times: the collector scans every pointer of Go values at
// every cycle, which for hundreds of megabytes of them stalls the job for
// the length of a mark phase (hundreds of milliseconds). A packed value
// costs an encoding per update and a decoding per read, keeps copies of
// its strings' bytes, and has no Ptr (InPlace is false). The value type
// must have a plain encoding (integers, floats, bools, strings, time.Time,
// and arrays, structs and slices of them) and the key type must be an
// integer or string kind, or a struct or array of integers without
// padding; NewValueState and NewMapState fail otherwise. Byte backends
// such as pebblestate encode every state anyway and ignore it. Strings
// that a read returns may be kept: the arena bytes they point to are
// never written again.
func Packed() StateOption { return func(c *stateConfig) { c.packed = true } }

// ValueState is one value per key, in keyed state.
type ValueState[K comparable, V any] struct {
	t     statebackend.Table[K, statebackend.Void, V]
	ptrs  statebackend.Pointers[K, statebackend.Void, V] // t, when it keeps Go values (InPlace); else nil
	scope *keyScope[K]
}

// NewValueState declares a value state in KeyedProcessFunc.Open:
//
//	count, err := stream.NewValueState[int64](ctx, "count")
//
// Options tune how the state is kept (Packed).
func NewValueState[V any, K comparable](ctx *OpenContext[K], name string, opts ...StateOption) (*ValueState[K, V], error) {
	t, err := openState[K, statebackend.Void, V](ctx, "value/"+name, opts)
	if err != nil {
		return nil, fmt.Errorf("weir/stream: value state %q: %w", name, err)
	}
	ptrs, _ := t.(statebackend.Pointers[K, statebackend.Void, V])
	return &ValueState[K, V]{t: t, ptrs: ptrs, scope: ctx.scope}, nil
}

// Value returns the current key's value and whether it is set.
func (s *ValueState[K, V]) Value() (V, bool) {
	return s.t.Get(s.scope.kg, s.scope.key, statebackend.Void{})
}

// Update sets the current key's value.
func (s *ValueState[K, V]) Update(v V) { s.t.Put(s.scope.kg, s.scope.key, statebackend.Void{}, v) }

// Clear removes the current key's value.
func (s *ValueState[K, V]) Clear() { s.t.Delete(s.scope.kg, s.scope.key, statebackend.Void{}) }

// ListState is a list of values per key, in keyed state.
type ListState[K comparable, V any] struct {
	t     statebackend.Table[K, statebackend.Void, []V]
	scope *keyScope[K]
}

// NewListState declares a list state in KeyedProcessFunc.Open.
func NewListState[V any, K comparable](ctx *OpenContext[K], name string) (*ListState[K, V], error) {
	t, err := statebackend.Open[K, statebackend.Void, []V](ctx.op.State, "list/"+name)
	if err != nil {
		return nil, fmt.Errorf("weir/stream: list state %q: %w", name, err)
	}
	return &ListState[K, V]{t: t, scope: ctx.scope}, nil
}

// Get returns the current key's list; the caller must not modify it.
func (s *ListState[K, V]) Get() []V {
	l, _ := s.t.Get(s.scope.kg, s.scope.key, statebackend.Void{})
	return l
}

// Add appends v to the current key's list.
func (s *ListState[K, V]) Add(v V) {
	l, _ := s.t.Get(s.scope.kg, s.scope.key, statebackend.Void{})
	// Appending never changes the elements a snapshot sees: it only writes
	// past their length.
	s.t.Put(s.scope.kg, s.scope.key, statebackend.Void{}, append(l, v))
}

// Update replaces the current key's list with a copy of vs.
func (s *ListState[K, V]) Update(vs []V) {
	if len(vs) == 0 {
		s.Clear()
		return
	}
	s.t.Put(s.scope.kg, s.scope.key, statebackend.Void{}, append([]V(nil), vs...))
}

// Clear removes the current key's list.
func (s *ListState[K, V]) Clear() { s.t.Delete(s.scope.kg, s.scope.key, statebackend.Void{}) }

// MapState is a map from UK to UV per key, in keyed state.
type MapState[K comparable, UK comparable, UV any] struct {
	t     statebackend.Table[K, UK, UV]
	scope *keyScope[K]
}

// NewMapState declares a map state in KeyedProcessFunc.Open. Options
// tune how the state is kept (Packed: the user keys stay Go values, the
// values are encoded).
func NewMapState[UK comparable, UV any, K comparable](ctx *OpenContext[K], name string, opts ...StateOption) (*MapState[K, UK, UV], error) {
	t, err := openState[K, UK, UV](ctx, "map/"+name, opts)
	if err != nil {
		return nil, fmt.Errorf("weir/stream: map state %q: %w", name, err)
	}
	return &MapState[K, UK, UV]{t: t, scope: ctx.scope}, nil
}

// Get returns the value of uk for the current key.
func (s *MapState[K, UK, UV]) Get(uk UK) (UV, bool) { return s.t.Get(s.scope.kg, s.scope.key, uk) }

// Put sets the value of uk for the current key.
func (s *MapState[K, UK, UV]) Put(uk UK, uv UV) { s.t.Put(s.scope.kg, s.scope.key, uk, uv) }

// Delete removes uk for the current key.
func (s *MapState[K, UK, UV]) Delete(uk UK) { s.t.Delete(s.scope.kg, s.scope.key, uk) }

// Range calls fn for each entry of the current key until fn returns false;
// fn must not change the map.
func (s *MapState[K, UK, UV]) Range(fn func(uk UK, uv UV) bool) {
	s.t.Namespaces(s.scope.kg, s.scope.key, fn)
}

// Clear removes every entry of the current key.
func (s *MapState[K, UK, UV]) Clear() {
	var keys []UK
	s.Range(func(uk UK, _ UV) bool { keys = append(keys, uk); return true })
	for _, uk := range keys {
		s.Delete(uk)
	}
}
