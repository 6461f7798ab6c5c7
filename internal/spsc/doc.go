// Package spsc provides Ring, a bounded single-producer/single-consumer
// lock-free queue: the channel between two pinned workers of weir's
// thread-per-core runtime.
//
// # Model
//
// A Ring is a power-of-two array of slots and two monotonically increasing
// uint64 counters: tail, the next slot the producer writes, and head, the
// next slot the consumer reads. tail-head is the number of queued elements.
// Exactly one goroutine (the producer) may call TryPush and PushN, and
// exactly one goroutine (the consumer) may call TryPop, PopN and Peek; the
// two may run concurrently without locks. Len, Cap, Empty and Full may be
// called from anywhere.
//
// The producer writes a slot and then publishes it with a release store of
// tail; the consumer observes tail with an acquire load before reading the
// slot, and frees it with a release store of head. sync/atomic provides
// those orderings (and the race detector understands them).
//
// # Cache behaviour
//
// head and tail live on separate cache lines, padded away from each other,
// from the read-only fields and from neighbouring heap objects by at least
// 64 bytes whatever the allocation's alignment. Each side also keeps
// a private cached copy of the other side's counter and re-reads the shared
// counter only when the cached value says the ring is full (producer) or
// empty (consumer). In steady state each side therefore touches the other's
// cache line once per lap instead of once per element. PushN and PopN move a
// whole batch with one store of the counter.
//
// # Backpressure
//
// A full ring is backpressure: TryPush returns false and the caller parks
// its task; the ring never grows and never drops. Popped slots are zeroed so
// the ring does not keep popped pointers alive.
package spsc
