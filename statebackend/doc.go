// Package statebackend is the keyed-state contract of weir.
//
// Keyed state is addressed by (key group, key, namespace). A key group is the
// unit of state redistribution: every key hashes to one of maxParallelism key
// groups (default 128) and a key group is owned by exactly one task at a
// time. The namespace separates independent state of one key, such as the
// windows of a window operator; operators without namespaces use Void.
//
// A Backend holds the state of one operator subtask. Typed tables are opened
// with the generic function Open, which dispatches on the backend's kind:
// heap backends (memstate) keep Go values in hash tables, byte backends
// (pebble, later) encode keys and values with codecs.
//
// Packed tables. OpenPacked opens a table that a heap backend keeps
// encoded, in the byte backends' plain encoding, in byte
// arenas per key group (written once, compacted when mostly dead) with an
// index of pointer-free references: the garbage collector neither scans
// it nor charges writes to it with barriers, which heap tables of values
// with strings or times cost at every collection. Decoded strings point
// into the arena.
//
// Growth. The heap backend's tables are open-addressing arrays per key
// group. A key group's arrays double when three quarters full; from
// 128 KiB of entries they grow incrementally: the new arrays are allocated
// beside the old ones, and each insertion, and each read while both exist,
// moves the keys of the next 8 KiB of old entries (a key written before
// its turn moves at once). No single record pays for rehashing a whole
// key group, which for groups of tens of thousands of keys stalled the
// task for milliseconds.
//
// Snapshots. Snapshot returns a consistent, read-only view of a key-group
// range that stays valid while the task goes on writing: the heap backend
// makes it cheap with copy-on-write at key-group granularity (and per key for
// namespaced tables), so taking a snapshot costs O(key groups), not O(state).
// A checkpoint writes the view asynchronously and then releases it.
//
// Values handed to Put are owned by the table afterwards and must be treated
// as immutable by the caller (the heap backend shares them with snapshots);
// to change a value, Put a new one.
package statebackend
