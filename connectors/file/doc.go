// Package file is weir's exactly-once file sink. Each sink subtask writes
// its records into part files in one directory, and a part file becomes
// visible only when the checkpoint that covers its records is complete.
// Readers that skip names starting with "." or "_" (the Hadoop and Flink
// convention; ReadCommitted does) never see uncommitted data.
//
//	sink := file.NewSink("out", file.CSV([]string{"k", "n"}, func(r Row) []string {
//		return []string{r.K, strconv.Itoa(r.N)}
//	}), file.Options{})
//	counts.SinkTo(sink)
//
// Formats: CSV (a header line in every part file), Lines and JSONLines; any
// type with the methods of Format works too.
//
// # File names
//
// With prefix p (Options.Prefix, default "part"), subtask s, checkpoint id c
// and the part number n within the transaction (0, 1, ...), a file goes
// through three names:
//
//	.p-s-<token>-<k>.inprogress   being written; <token> is random per writer
//	_p-s-c-n.pending              prepared at checkpoint c, waiting for commit
//	p-s-c-n<ext>                  committed, visible (<ext> from the format, e.g. ".csv")
//
// Committed names depend only on the subtask, the checkpoint id and the part
// number, so a replay after a failure that prepares the same checkpoint
// again produces the same names, and a committed file is replaced by a
// rename, never appended to.
//
// # Commit protocol
//
// The writer implements operators.TwoPhaseCommitWriter:
//
//   - Write appends encoded records to the open in-progress file (created on
//     the first record, header first). A part reaching Options.RollSize is
//     fsynced and closed, and the next record opens the next part.
//   - PreCommit(c), at the barrier of checkpoint c, flushes, fsyncs and
//     closes the open part, renames every part of the transaction to its
//     pending name, fsyncs the directory, and returns a handle: versioned
//     JSON listing each pending name with its committed name. A transaction
//     without records yields a handle without files.
//   - Commit(handle), once checkpoint c is complete and again on recovery,
//     renames pending to committed names and fsyncs the directory. It is
//     idempotent: a committed name that exists while its pending name is
//     gone means "done". If both are missing, the data is lost and Commit
//     returns an error wrapping ErrLost naming the files.
//   - Abort(handle) deletes the pending files.
//   - Recover(committed), on restore, runs after the runtime has committed
//     the handles of the restored checkpoint and before any Write. It
//     deletes every in-progress and pending file no handle in committed
//     names, of its own subtask and, for subtask 0 only, of every subtask
//     >= the current parallelism (so a restore at lower parallelism leaves
//     no leftovers). Each other current subtask cleans its own files, as it
//     may already be writing. Pass all handles of the restored checkpoint
//     (every subtask's), so no writer deletes a pending file that still
//     has to be committed.
//
// # Partitions
//
// A PartitionedSink writes each record into a partition directory below its
// root that the record chooses (Hive style, "dt=2026-01-01/hm=10:00"). Each
// partition directory holds part files named as above; a transaction of a
// subtask spans every partition it wrote to, and its handle names the
// pending files per partition, so commit, abort and recovery work as for
// one directory, in each partition. ReadCommittedPartitions reads the
// committed lines per partition.
//
// # End of input and close
//
// EndOfInput writes buffered records to the in-progress file. The runtime
// then makes the final transaction visible the same way as any other:
// PreCommit with the final checkpoint id (part of the final checkpoint, or
// an id of its own when checkpointing is off) followed by Commit. A job that
// ends, or fails, without that commit leaves only "." and "_" files: Close
// deletes the in-progress files of the open transaction (no handle names
// them), and pending files stay for a Commit or a later Recover.
//
// # Limits
//
// Restoring from a checkpoint older than the latest completed one does not
// remove files committed after it; the rerun replaces files of the same
// checkpoint ids but leaves later ones. A fresh start (no Recover) into a
// directory with leftovers leaves them invisible until a Recover deletes
// them. Give each sink its own directory or prefix.
package file
