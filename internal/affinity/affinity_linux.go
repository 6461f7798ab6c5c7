//go:build linux

package affinity

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pins holds, for every OS thread inside Pin/Unpin, the masks to restore,
// keyed by thread id. It is the package's one mutable global: Pin and Unpin
// mirror runtime.LockOSThread and have no value to keep state in, and the
// state belongs to an OS thread, which Go offers no other place for. An
// entry is read and written only by the goroutine locked to that thread.
var pins sync.Map // int (tid) -> *threadPins

// threadPins is the stack of Pin calls on one thread not yet undone.
type threadPins struct {
	frames []pinFrame
}

// pinFrame is what one Pin must undo.
type pinFrame struct {
	prev      unix.CPUSet // the thread's mask before this Pin
	changed   bool        // this Pin set a new mask, so Unpin restores prev
	prevSlack uintptr     // the thread's timer slack (ns) before this Pin
	slackSet  bool        // this Pin set the timer slack, so Unpin restores prevSlack
}

// kernel is the system-call surface of Pin and Unpin, replaced in tests
// to inject failures.
type kernel interface {
	getaffinity(set *unix.CPUSet) error
	setaffinity(set *unix.CPUSet) error
	timerslack() (uintptr, error)
	setTimerslack(ns uintptr) error
}

// linuxKernel calls sched_getaffinity/sched_setaffinity and
// prctl(PR_GET/SET_TIMERSLACK) on the calling thread.
type linuxKernel struct{}

func (linuxKernel) getaffinity(set *unix.CPUSet) error { return unix.SchedGetaffinity(0, set) }
func (linuxKernel) setaffinity(set *unix.CPUSet) error { return unix.SchedSetaffinity(0, set) }

func (linuxKernel) timerslack() (uintptr, error) {
	// the slack is the call's return value, which unix.Prctl drops
	ns, _, errno := unix.Syscall6(unix.SYS_PRCTL, unix.PR_GET_TIMERSLACK, 0, 0, 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return ns, nil
}

func (linuxKernel) setTimerslack(ns uintptr) error {
	return unix.Prctl(unix.PR_SET_TIMERSLACK, ns, 0, 0, 0)
}

// Pin locks the calling goroutine to its OS thread and restricts the thread
// to one CPU: cpu itself if it is in CPUs(), and otherwise the (cpu mod n)-th
// of the n CPUs in CPUs() (CPU cpu%n when the process may use CPUs 0..n-1).
// It also sets the thread's timer slack to TimerSlack (see there), even
// when the mask cannot be set; if the kernel refuses that, the thread
// keeps its slack and Pin does not fail for it.
// Every call, successful or not, must be
// matched by a call to Unpin on the same goroutine. If the kernel refuses
// the mask, the error wraps ErrUnsupported and the kernel's errno, and the
// thread stays locked but unpinned.
func Pin(cpu int) error { return pin(cpu, linuxKernel{}) }

// Unpin undoes the matching Pin: it restores the thread's previous CPU mask
// and timer slack if Pin changed them, then calls runtime.UnlockOSThread.
func Unpin() { unpin(linuxKernel{}) }

func pin(cpu int, k kernel) error {
	runtime.LockOSThread()
	tid := unix.Gettid()
	v, _ := pins.LoadOrStore(tid, &threadPins{})
	tp := v.(*threadPins)
	tp.frames = append(tp.frames, pinFrame{}) // pushed even on failure so Unpin stays matched
	top := &tp.frames[len(tp.frames)-1]
	if prev, err := k.timerslack(); err == nil && k.setTimerslack(uintptr(TimerSlack)) == nil {
		top.prevSlack, top.slackSet = prev, true
	}
	if err := k.getaffinity(&top.prev); err != nil {
		return fmt.Errorf("%w: sched_getaffinity: %w", ErrUnsupported, err)
	}
	// The CPUs the process may use are the mask before the outermost Pin.
	allowed := cpuList(&tp.frames[0].prev)
	if len(allowed) == 0 {
		allowed = cpuList(&top.prev)
	}
	if len(allowed) == 0 {
		return fmt.Errorf("%w: empty affinity mask", ErrUnsupported)
	}
	target := pick(allowed, cpu)
	var set unix.CPUSet
	set.Set(target)
	if err := k.setaffinity(&set); err != nil {
		return fmt.Errorf("%w: sched_setaffinity(cpu %d): %w", ErrUnsupported, target, err)
	}
	top.changed = true
	return nil
}

func unpin(k kernel) {
	tid := unix.Gettid() // still the pinned thread: it is locked until below
	if v, ok := pins.Load(tid); ok {
		tp := v.(*threadPins)
		top := tp.frames[len(tp.frames)-1]
		tp.frames = tp.frames[:len(tp.frames)-1]
		if len(tp.frames) == 0 {
			pins.Delete(tid)
		}
		if top.changed {
			// Restoring a mask the kernel gave us does not fail in practice;
			// if it does, the thread keeps running on one CPU, which is
			// slower but correct, so the error is dropped.
			_ = k.setaffinity(&top.prev)
		}
		if top.slackSet {
			// as above: a slack the kernel gave us is a valid one
			_ = k.setTimerslack(top.prevSlack)
		}
	}
	runtime.UnlockOSThread()
}

// CPUs returns the CPUs the process may run on, in increasing order, from
// sched_getaffinity. Called on a thread inside Pin, it reports the mask from
// before the outermost Pin. If the mask cannot be read it returns
// 0..runtime.NumCPU()-1.
func CPUs() []int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if v, ok := pins.Load(unix.Gettid()); ok {
		if cpus := cpuList(&v.(*threadPins).frames[0].prev); len(cpus) > 0 {
			return cpus
		}
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return allCPUs()
	}
	if cpus := cpuList(&set); len(cpus) > 0 {
		return cpus
	}
	return allCPUs()
}

// cpuList returns the members of set in increasing order.
func cpuList(set *unix.CPUSet) []int {
	cpus := make([]int, 0, set.Count())
	for cpu := range int(unsafe.Sizeof(*set)) * 8 {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus
}

// allCPUs is the fallback CPU list: 0..runtime.NumCPU()-1.
func allCPUs() []int {
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	return cpus
}

// Background locks the calling goroutine to its OS thread for good and
// sets that thread's nice value to BackgroundNice, the lowest scheduling
// priority, so that the kernel gives the thread only the CPU time other
// threads leave (about 1.5% of a CPU they want all of). It is for a
// goroutine that does a job's background work (writing checkpoints) on
// the CPUs of its workers. The goroutine must not call
// runtime.UnlockOSThread: the thread then ends with it, rather than going
// back to the Go scheduler at that priority. Raising one's own nice value
// needs no privilege; if the kernel refuses all the same (seccomp), the
// error wraps ErrUnsupported and the kernel's errno, and the thread stays
// locked at its old priority.
func Background() error {
	runtime.LockOSThread()
	if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), BackgroundNice); err != nil {
		return fmt.Errorf("%w: setpriority nice %d: %w", ErrUnsupported, BackgroundNice, err)
	}
	return nil
}
