// Package affinity pins the calling goroutine to one CPU, for weir's
// thread-per-core workers, and puts a background goroutine's thread at the
// lowest priority (Background), so that it runs on what the workers leave.
//
// # Model
//
// A worker calls Pin(cpu) at the start of its goroutine and Unpin when it
// returns. Pin locks the goroutine to its OS thread (runtime.LockOSThread)
// and, on Linux, sets that thread's CPU affinity mask to a single CPU with
// sched_setaffinity(2). Workers normally pass an element of CPUs, the CPUs
// the process may use, and get exactly that CPU. Any other int i wraps to
// the (i mod n)-th of the n allowed CPUs (CPU i%n when they are 0..n-1), so
// a worker index beyond the CPU count, or a CPU outside the container's
// cpuset, still lands on a valid CPU. Unpin puts
// back the mask the thread had before the matching Pin and unlocks the
// thread, so the Go scheduler never gets back a thread stuck on one core.
// On Linux, Pin also lowers the thread's timer slack to TimerSlack, so a
// worker's short sleeps end on time, and Unpin puts the old slack back.
// Pin/Unpin pairs nest like LockOSThread/UnlockOSThread.
//
// # Failure
//
// Pinning is an optimisation, never a requirement. On other operating
// systems, and where the kernel refuses (EPERM or EINVAL under seccomp or a
// restrictive cgroup), Pin returns an error wrapping ErrUnsupported with the
// thread still locked. The caller logs it at debug level, carries on
// unpinned, and still calls Unpin. Any other outcome is a nil error.
// Background fails the same way and the caller carries on at the normal
// priority.
package affinity
