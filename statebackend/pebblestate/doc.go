// Package pebblestate is weir's state backend for state larger than
// memory: keyed state lives in a Pebble database (an LSM tree, like
// RocksDB) on local disk, one database per operator subtask.
//
// Tables. statebackend.Open gives a Backend, which implements
// statebackend.KVBackend, a table that encodes keys, namespaces and values
// to bytes (see statebackend.KVBackend for the key layout and the codecs):
// every Get reads Pebble (block cache, memtable, bloom filters), every Put
// and Delete writes its memtable. Tables do not implement
// statebackend.Pointers, and Len scans its key group. There is no
// write-ahead log unless Options.Sync: the database is scratch space,
// removed by Close, and durability comes from checkpoints.
//
// Snapshots and checkpoints. Snapshot takes, at one instant, a Pebble
// snapshot (which the view's tables read, consistently, while the task
// writes on) and a Pebble checkpoint in a local directory: the memtable is
// flushed, the live SSTs, which are immutable, are hard-linked, the
// MANIFEST and OPTIONS copied. Persist, on a background goroutine, uploads
// that checkpoint to a vfs.FS:
//
//	shared/<backend id>/000123.sst   SSTs, shared by successive checkpoints
//	<dir>/MANIFEST-000456, OPTIONS-…  the rest, private to one checkpoint
//
// SST numbers are never reused within a database, so an SST already
// uploaded by an earlier checkpoint of the same backend is reused, not
// written again: a checkpoint writes only the SSTs created since the
// previous one (the flushed memtable and compaction outputs). Handle.Files
// lists all the files a checkpoint needs (deleting the shared files no
// retained checkpoint lists is the checkpoint store's job); Handle.Bytes
// counts those it wrote; Handle.Meta (versioned JSON) records the table
// catalog and each file's size and CRC-32C.
//
// Restore. When one checkpoint covers all of a backend's key groups (the
// same parallelism, or a higher one), the backend's database becomes a
// copy of it (SSTs hard-linked when the storage is a local directory on
// the same device), clipped to the backend's key groups with range
// deletions, and the backend's next checkpoint reuses its SSTs. Otherwise
// (a lower parallelism) the entries of the backend's key groups are copied
// out of each overlapping checkpoint, table ids mapped by table name.
// Restoring checks every file's size and checksum, and a table's schema
// when it is opened.
//
// Costs. A live snapshot keeps its checkpoint's SSTs on disk. Incremental
// checkpoints upload what the LSM tree wrote since the last one: the
// flushed memtable, plus the output of any compaction, which may rewrite a
// whole level (with updates spread over all keys, one checkpoint in a few
// then uploads most of the state); Compact after a bulk load starts from a
// stable tree.
package pebblestate
