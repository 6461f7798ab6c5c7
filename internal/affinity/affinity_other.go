//go:build !linux

package affinity

import (
	"fmt"
	"runtime"
)

// Pin locks the calling goroutine to its OS thread. This OS has no thread
// affinity call weir uses, so Pin always returns an error wrapping
// ErrUnsupported; the caller continues unpinned and must still call Unpin.
func Pin(cpu int) error {
	runtime.LockOSThread()
	return fmt.Errorf("%w on %s (cpu %d)", ErrUnsupported, runtime.GOOS, cpu)
}

// Unpin undoes the matching Pin by calling runtime.UnlockOSThread.
func Unpin() { runtime.UnlockOSThread() }

// CPUs returns 0..runtime.NumCPU()-1: this OS does not report an affinity
// mask.
func CPUs() []int {
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	return cpus
}

// Background locks the calling goroutine to its OS thread for good. This
// OS has no per-thread priority call weir uses, so it returns an error
// wrapping ErrUnsupported and the thread keeps its priority.
func Background() error {
	runtime.LockOSThread()
	return fmt.Errorf("%w on %s (thread priority)", ErrUnsupported, runtime.GOOS)
}
