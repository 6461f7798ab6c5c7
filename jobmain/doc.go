// Package jobmain turns a job-building function into a job binary with the
// standard weir command line:
//
//	func main() {
//		jobmain.Main(func(job *stream.Job) error {
//			stream.FromSlice(job, "in", data).Map(f).Print()
//			return nil
//		})
//	}
//
// Every such binary accepts
//
//	--parallelism N             workers; 0 (the default) uses every core
//	--log-level L               debug, info, warn (default) or error
//	--checkpoint-dir D          take checkpoints in D (created if missing)
//	--checkpoint-interval DUR   time between checkpoints (default 1s; needs
//	                            --checkpoint-dir)
//	--restore PATH              start from the checkpoint or savepoint
//	                            directory PATH (default: see below)
//	--admin-addr HOST:PORT      accepted, but not supported yet: setting it
//	                            makes the binary exit with status 2
//
// # Checkpoints and restarts
//
// With --checkpoint-dir the job takes a checkpoint every interval
// (runtime.Checkpointing) and a final one when its bounded input is done;
// the newest three complete checkpoints are kept. A run started with the
// same directory resumes from the latest complete checkpoint there, so
// rerunning the same command after a crash (a kill, a power loss) goes on
// where the last checkpoint left off; with exactly-once sinks (such as
// connectors/file) the output then holds every result exactly once. A
// checkpoint whose manifest fails its checks (CRC, length, version) is
// skipped with a warning and the one before it is used; when every
// checkpoint in the directory is corrupt the run fails with status 1 and
// an error naming them, rather than silently starting over. After the
// final checkpoint a rerun restores it and finds nothing left to do.
//
// --restore PATH starts from the checkpoint or savepoint directory PATH
// instead (runtime.RestoreFrom), for example a savepoint or a checkpoint
// of another directory; new checkpoints still go to --checkpoint-dir, if
// given. A corrupt or missing PATH fails the run.
//
// # Exit status and messages
//
// Main names the job after the binary, builds it, runs it with
// runtime.Run under a context canceled by SIGINT or SIGTERM, and exits
// with status 0 on success, 1 when building or running fails (the message
// is "weir: <job>: <error>"), and 2 on a bad command line (an unknown flag,
// a bad value, --checkpoint-interval without --checkpoint-dir) or an
// unsupported flag. A job defines its own flags with the standard flag
// package before calling Main; Main parses them together with the standard
// ones.
//
// Run is the same logic without the process: it takes the arguments, the
// context and where to write messages, and returns the error, so a job
// binary's behaviour can be tested in-process.
package jobmain
