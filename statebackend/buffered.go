package statebackend

// Buffered gives a table without in-place updates (a byte backend such as
// pebblestate) the Pointers capability: Ptr loads the entry into a buffer
// and the buffer is written back on the next call to the table or on
// Flush. Callers must Flush before anything else reads the backend (end
// of every batch, watermark or timer callback: snapshots are taken between
// those). The table passed in must not be used directly meanwhile.
func Buffered[K comparable, N comparable, V any](t Table[K, N, V]) *BufferedTable[K, N, V] {
	return &BufferedTable[K, N, V]{t: t}
}

// BufferedTable is a Table with Pointers over a table without them.
type BufferedTable[K comparable, N comparable, V any] struct {
	t       Table[K, N, V]
	pending bool
	kg      int
	key     K
	ns      N
	buf     V
}

// Flush writes the buffered entry back.
func (b *BufferedTable[K, N, V]) Flush() {
	if b.pending {
		b.pending = false
		b.t.Put(b.kg, b.key, b.ns, b.buf)
	}
}

// Ptr implements Pointers.
func (b *BufferedTable[K, N, V]) Ptr(kg int, key K, ns N, create bool) (*V, bool) {
	b.Flush()
	v, found := b.t.Get(kg, key, ns)
	if !found && !create {
		return nil, false
	}
	b.kg, b.key, b.ns, b.buf, b.pending = kg, key, ns, v, true
	return &b.buf, found
}

// Get implements Table.
func (b *BufferedTable[K, N, V]) Get(kg int, key K, ns N) (V, bool) {
	b.Flush()
	return b.t.Get(kg, key, ns)
}

// Put implements Table.
func (b *BufferedTable[K, N, V]) Put(kg int, key K, ns N, v V) {
	b.Flush()
	b.t.Put(kg, key, ns, v)
}

// Delete implements Table.
func (b *BufferedTable[K, N, V]) Delete(kg int, key K, ns N) {
	b.Flush()
	b.t.Delete(kg, key, ns)
}

// Namespaces implements Table.
func (b *BufferedTable[K, N, V]) Namespaces(kg int, key K, fn func(ns N, v V) bool) {
	b.Flush()
	b.t.Namespaces(kg, key, fn)
}

// Len implements Table.
func (b *BufferedTable[K, N, V]) Len(kg int) int {
	b.Flush()
	return b.t.Len(kg)
}
