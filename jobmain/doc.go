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
//	--checkpoint-dir D          } accepted, but not supported yet: setting
//	--checkpoint-interval DUR   } one makes the binary exit with status 2
//	--restore PATH              } and a message saying so
//	--admin-addr HOST:PORT      }
//
// Main names the job after the binary, builds it, runs it with
// runtime.Run under a context canceled by SIGINT or SIGTERM, and exits
// with status 0 on success, 1 when building or running fails (the message
// is "weir: <job>: <error>"), and 2 on a bad command line. A job defines
// its own flags with the standard flag package before calling Main; Main
// parses them together with the standard ones.
//
// Run is the same logic without the process: it takes the arguments, the
// context and where to write messages, and returns the error, so a job
// binary's behaviour can be tested in-process.
package jobmain
