package stream

import "github.com/weirstream/weir/statebackend"

// InPlace reports whether Ptr works: whether the state backend keeps Go
// values that can be updated in place (statebackend.Pointers), as the
// heap backends such as memstate do. Byte backends such as pebblestate do
// not; use Value and Update with them.
func (s *ValueState[K, V]) InPlace() bool { return s.ptrs != nil }

// Ptr returns a pointer to the current key's value, to read and change it
// in place with one state lookup instead of the copies of Value and
// Update, and whether the key had a value. A missing value is created as
// the zero value when create is true; otherwise Ptr returns nil, false.
//
// The pointer is good until the next call on s (another key's Ptr may
// move values); do not keep it past the current ProcessElement or OnTimer.
// Checkpoints copy state on write shallowly: memory the value points to
// (slice elements, maps, pointees) may be shared with a checkpoint being
// written, so replace such parts instead of changing them.
//
// Without InPlace, Ptr returns nil, false.
func (s *ValueState[K, V]) Ptr(create bool) (*V, bool) {
	if s.ptrs == nil {
		return nil, false
	}
	return s.ptrs.Ptr(s.scope.kg, s.scope.key, statebackend.Void{}, create)
}
