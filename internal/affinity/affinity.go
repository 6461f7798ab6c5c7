package affinity

import (
	"errors"
	"slices"
	"time"
)

// ErrUnsupported is wrapped by the error Pin returns when the thread could
// not be pinned: the OS has no thread affinity, or the kernel refused the
// call. The goroutine is still locked to its thread; the caller should log
// the error at debug level, continue unpinned and call Unpin as usual.
// Background wraps it too, when it cannot set the thread's priority.
var ErrUnsupported = errors.New("weir/internal/affinity: unsupported")

// BackgroundNice is the nice value Background gives a thread: the lowest
// priority of the normal scheduling class.
const BackgroundNice = 19

// TimerSlack is the timer slack Pin gives a thread (Linux): how much later
// than asked the kernel may end the thread's sleeps, to batch wakeups. The
// default is 50µs. A worker whose paced source waits for its next records
// sleeps in slices of tens of microseconds (runtime's sleepPrecise), and
// with the default each slice overran by ~50µs, which went straight into
// the latency of the records that arrived meanwhile: on the VMs weir is
// written on, a nanosleep of 1µs took 73µs with the default slack and
// 15µs with 1ns, and paced at 1M events/s (`weir nexmark --paced`) Q0's
// p50 went from 164-193µs to 113-147µs. The price is more wakeups while a
// worker waits.
const TimerSlack = time.Microsecond

// pick returns cpu if it is in allowed, and otherwise the
// (cpu mod len(allowed))-th allowed CPU, so that any int names an allowed
// CPU. allowed must be non-empty and sorted.
func pick(allowed []int, cpu int) int {
	if _, found := slices.BinarySearch(allowed, cpu); found {
		return cpu
	}
	n := len(allowed)
	return allowed[(cpu%n+n)%n]
}
