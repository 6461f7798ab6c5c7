// Package wal is a write-ahead log for input that cannot be replayed from
// where it comes (values pushed from Go code, HTTP requests), and a
// Source over it, so such input gets the same exactly-once guarantee as a
// replayable source like Kafka: a value is durable in the log before the
// producer is told it was accepted, the job reads it back from the log,
// and a checkpoint stores the reader's sequence number next to the state
// it produced.
//
//	l, err := wal.Open(dir, wal.Options{}) // SyncEachBatch, 64 MiB segments
//	src := wal.NewSource(l, wal.JSONCodec[Order]())
//	orders := stream.FromSource(job, "orders", src)
//	...
//	err = src.Push(order) // durable when it returns
//
// # Format
//
// A log is a directory of segment files named %016d.wal after the
// sequence number of their first record; records are numbered 1, 2, ...
// without gaps, so a record's number is its segment's name plus its index
// there. A segment starts with a 24-byte header: the magic "WEIRWAL\n",
// the format version (1), the first sequence number and a CRC32C of the
// header. Each record is framed as a little-endian u32 payload length, a
// CRC32C (Castagnoli) over the length bytes and the payload, and the
// payload. Append writes a batch of records with one write; when the
// active segment would pass Options.SegmentSize it is synced, closed and a
// new one started (a batch is never split, so only the last segment ever
// holds unsynced data). A LOCK file keeps a second Log (in this or
// another process) out of the directory (Linux).
//
// # Sync policies
//
// SyncEachBatch (the default) calls fdatasync before Append returns:
// accepted records survive a crash of the process or the machine.
// Appenders racing on one Log share a sync (group commit). SyncInterval(d)
// syncs in the background every d: Append returns after the write, and a
// machine crash loses at most the last d of appends (a process crash loses
// nothing: the data is in the page cache). SyncNever never syncs; for
// tests and benchmarks. Whatever the policy, Readers see only records
// that are durable (with SyncNever: written), so nothing downstream of the
// log, and no checkpoint position, ever depends on a record a crash could
// take back. Log.Sync forces a sync.
//
// # Repair
//
// Open validates every segment header and scans the last segment. A bad
// record there (a short frame or a checksum mismatch) with no well-formed
// record anywhere after it is a torn write from a crash: the segment is
// truncated before it and Open reports it through Log.Repair and the
// Options.Logger. A bad record followed by a good one is corruption, not a
// crash: Open fails with a *CorruptError naming the file and offset and
// leaves the files alone. So does a bad header with data after it; a
// segment shorter than a header (a crash while it was created) gets its
// header rewritten. Sealed segments are checked as they are read: a
// Reader fails with a *CorruptError at a bad record, and when a segment
// ends before the next one starts. (A machine crash could in principle
// persist a later page of an unsynced batch but not an earlier one; Open
// then reports corruption rather than guess, and an operator may cut the
// segment at the reported offset.)
//
// # Truncation
//
// Records are deleted a whole segment at a time: TruncateBefore(seq)
// removes the segments holding only records below seq, never the active
// one. A Source's reader does it when it is told a checkpoint completed
// (operators.CheckpointListener), before the position it handed out at
// that checkpoint's barrier, so the log keeps what a restore from the
// latest checkpoint replays. Position is not told the checkpoint id, so
// the reader pairs them by count: the k-th completion it is told about is
// of a checkpoint whose barrier came at its k-th Position call or later
// (one call per barrier, in id order; after the end of input the position
// stops moving), so truncating before the k-th position never removes a
// record that checkpoint needs. A checkpoint that fails after its barrier
// makes the pairing lag by one from then on: the log keeps one more
// checkpoint interval of records than it must, never fewer. Restoring an
// older checkpoint whose records were truncated fails with ErrTruncated.
//
// # Errors
//
// A write or sync error makes the Log refuse further appends (after a
// failed fsync the page cache cannot be trusted): Close it and Open the
// directory again, which repairs the tail. Source.Push returns the error;
// the caller may retry the values against a reopened log.
package wal
