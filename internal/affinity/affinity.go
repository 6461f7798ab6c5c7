package affinity

import (
	"errors"
	"slices"
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
