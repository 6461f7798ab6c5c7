//go:build linux

package affinity

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// threadMask returns the calling thread's affinity mask. It may run off the
// test goroutine, so it reports with t.Errorf.
func threadMask(t *testing.T) unix.CPUSet {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Errorf("sched_getaffinity: %v", err)
	}
	return set
}

// onLockedThread runs f in a new goroutine locked to its thread, so the
// thread's mask can be read after Unpin, and waits for it.
func onLockedThread(f func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		f()
	})
	wg.Wait()
}

func TestCPUsMatchesMask(t *testing.T) {
	onLockedThread(func() {
		mask := threadMask(t)
		cpus := CPUs()
		if len(cpus) != mask.Count() {
			t.Errorf("CPUs() = %v, mask has %d CPUs", cpus, mask.Count())
		}
		for _, c := range cpus {
			if !mask.IsSet(c) {
				t.Errorf("CPUs() lists %d, not in the thread's mask", c)
			}
		}
	})
}

// requirePinning skips the test when this environment refuses
// sched_setaffinity (seccomp, restrictive cgroups).
func requirePinning(t *testing.T) {
	t.Helper()
	var err error
	onLockedThread(func() {
		err = Pin(0)
		Unpin()
	})
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("pinning refused here: %v", err)
	}
	if err != nil {
		t.Fatalf("Pin(0) = %v", err)
	}
}

// TestPinEachCPU pins one goroutine per allowed CPU (and per int that wraps
// to it), concurrently, and checks that each thread's mask is exactly that
// CPU and that Unpin restores the previous mask.
func TestPinEachCPU(t *testing.T) {
	requirePinning(t)
	allowed := CPUs()
	var wg sync.WaitGroup
	n := len(allowed)
	for i, want := range allowed {
		// The CPU itself, and two ints that are never CPUs and wrap to it.
		for _, arg := range []int{want, 1024*n + i, i - n} {
			wg.Go(func() {
				onLockedThread(func() { checkPinUnpin(t, arg, want, allowed) })
			})
		}
	}
	wg.Wait()
}

// checkPinUnpin runs on a locked thread; it reports with t.Errorf only,
// because it is not on the test goroutine.
func checkPinUnpin(t *testing.T, arg, want int, allowed []int) {
	before := threadMask(t)
	if err := Pin(arg); err != nil {
		t.Errorf("Pin(%d) = %v", arg, err)
	}
	got := threadMask(t)
	if got.Count() != 1 || !got.IsSet(want) {
		t.Errorf("after Pin(%d): mask %v, want exactly CPU %d", arg, cpuList(&got), want)
	}
	if cpus := CPUs(); len(cpus) != len(allowed) {
		t.Errorf("CPUs() on a pinned thread = %v, want %v", cpus, allowed)
	}
	Unpin()
	if after := threadMask(t); after != before {
		t.Errorf("after Unpin: mask %v, want %v", cpuList(&after), cpuList(&before))
	}
}

func TestPinNests(t *testing.T) {
	requirePinning(t)
	allowed := CPUs()
	first, last := allowed[0], allowed[len(allowed)-1]
	onLockedThread(func() {
		before := threadMask(t)
		if err := Pin(first); err != nil {
			t.Errorf("outer Pin: %v", err)
		}
		if err := Pin(last); err != nil {
			t.Errorf("nested Pin: %v", err)
		}
		if got := threadMask(t); !got.IsSet(last) || got.Count() != 1 {
			t.Errorf("nested Pin: mask %v, want exactly CPU %d", cpuList(&got), last)
		}
		Unpin()
		if got := threadMask(t); !got.IsSet(first) || got.Count() != 1 {
			t.Errorf("after inner Unpin: mask %v, want exactly CPU %d", cpuList(&got), first)
		}
		Unpin()
		if got := threadMask(t); got != before {
			t.Errorf("after outer Unpin: mask %v, want %v", cpuList(&got), cpuList(&before))
		}
		if _, ok := pins.Load(unix.Gettid()); ok {
			t.Error("thread state left behind after the last Unpin")
		}
	})
}

// fakeKernel reports a fixed mask and timer slack and fails calls on
// request.
type fakeKernel struct {
	mask     []int
	getErr   error
	setErr   error
	setCPUs  [][]int // every mask passed to setaffinity
	slack    uintptr // the thread's timer slack
	slackErr error   // setTimerslack's error
	setSlack []uintptr
}

func (k *fakeKernel) timerslack() (uintptr, error) { return k.slack, nil }

func (k *fakeKernel) setTimerslack(ns uintptr) error {
	k.setSlack = append(k.setSlack, ns)
	if k.slackErr != nil {
		return k.slackErr
	}
	k.slack = ns
	return nil
}

func (k *fakeKernel) getaffinity(set *unix.CPUSet) error {
	if k.getErr != nil {
		return k.getErr
	}
	set.Zero()
	for _, c := range k.mask {
		set.Set(c)
	}
	return nil
}

func (k *fakeKernel) setaffinity(set *unix.CPUSet) error {
	k.setCPUs = append(k.setCPUs, cpuList(set))
	return k.setErr
}

func TestPinChoosesAllowedCPU(t *testing.T) {
	for _, tc := range []struct{ arg, want int }{
		{4, 4}, {6, 6}, {9, 9}, // allowed CPUs are used as they are
		{0, 4}, {1, 6}, {2, 9}, {3, 4}, {5, 9}, {7, 6}, {-1, 9}, // others wrap: allowed[arg mod 3]
	} {
		onLockedThread(func() {
			k := &fakeKernel{mask: []int{4, 6, 9}}
			if err := pin(tc.arg, k); err != nil {
				t.Errorf("pin(%d): %v", tc.arg, err)
			}
			unpin(k)
			if len(k.setCPUs) != 2 || len(k.setCPUs[0]) != 1 || k.setCPUs[0][0] != tc.want || len(k.setCPUs[1]) != 3 {
				t.Errorf("pin(%d) on CPUs {4,6,9}: setaffinity calls %v, want [[%d] [4 6 9]]", tc.arg, k.setCPUs, tc.want)
			}
		})
	}
}

func TestPinFailureIsUnsupported(t *testing.T) {
	for _, k := range []*fakeKernel{
		{mask: []int{0, 1}, setErr: unix.EPERM},
		{mask: []int{0, 1}, setErr: unix.EINVAL},
		{getErr: unix.EPERM},
		{mask: nil},
	} {
		onLockedThread(func() {
			err := pin(1, k)
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("pin with %+v = %v, want ErrUnsupported", k, err)
			}
			if k.setErr != nil && !errors.Is(err, k.setErr) {
				t.Errorf("pin error %v does not wrap errno %v", err, k.setErr)
			}
			if k.getErr != nil && !errors.Is(err, k.getErr) {
				t.Errorf("pin error %v does not wrap errno %v", err, k.getErr)
			}
			calls := len(k.setCPUs)
			unpin(k)
			if len(k.setCPUs) != calls {
				t.Errorf("unpin after failed pin called setaffinity: %v", k.setCPUs)
			}
			if _, ok := pins.Load(unix.Gettid()); ok {
				t.Error("thread state left behind after failed pin and unpin")
			}
		})
	}
}

// threadNice returns the nice value of thread tid of this process, from
// field 19 of /proc/self/task/<tid>/stat (after the command's closing
// parenthesis, which may hold spaces).
func threadNice(t *testing.T, tid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if err != nil {
		t.Fatalf("read stat of thread %d: %v", tid, err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// fields[0] is field 3 (state): field 19 is fields[16].
	n, err := strconv.Atoi(fields[16])
	if err != nil {
		t.Fatalf("stat of thread %d: nice %q: %v", tid, fields[16], err)
	}
	return n
}

// TestBackground checks that Background leaves its goroutine on one
// thread at nice BackgroundNice, and other threads as they were.
func TestBackground(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := unix.Gettid()
	before := threadNice(t, self)
	if before == BackgroundNice {
		t.Fatalf("the test's own thread is at nice %d already", before)
	}
	tids := make(chan [2]int)
	done := make(chan struct{})
	go func() {
		err := Background()
		if err != nil {
			t.Errorf("Background: %v", err)
		}
		first := unix.Gettid()
		runtime.Gosched() // a locked goroutine comes back to its thread
		tids <- [2]int{first, unix.Gettid()}
		<-done // hold the thread while the test reads it; it ends with the goroutine
	}()
	got := <-tids
	defer close(done)
	if got[0] != got[1] {
		t.Errorf("the goroutine moved from thread %d to %d", got[0], got[1])
	}
	if n := threadNice(t, got[0]); n != BackgroundNice {
		t.Errorf("nice of the background thread = %d, want %d", n, BackgroundNice)
	}
	if n := threadNice(t, self); n != before {
		t.Errorf("nice of the test's thread = %d, was %d", n, before)
	}
}

// TestPinTimerSlack checks that Pin gives the thread TimerSlack and each
// Unpin puts back the slack its Pin found, nested too.
func TestPinTimerSlack(t *testing.T) {
	onLockedThread(func() {
		slack := func() uintptr {
			ns, err := linuxKernel{}.timerslack()
			if err != nil {
				t.Errorf("PR_GET_TIMERSLACK: %v", err)
			}
			return ns
		}
		before := slack()
		if before == uintptr(TimerSlack) {
			t.Errorf("the thread's slack is %d ns already: the test cannot tell Pin's", before)
		}
		_ = Pin(0) // the slack is set even where the mask is refused
		if got := slack(); got != uintptr(TimerSlack) {
			t.Errorf("after Pin: timer slack %d ns, want %d", got, TimerSlack)
		}
		_ = Pin(0)
		Unpin()
		if got := slack(); got != uintptr(TimerSlack) {
			t.Errorf("after the inner Unpin: timer slack %d ns, want %d", got, TimerSlack)
		}
		Unpin()
		if got := slack(); got != before {
			t.Errorf("after Unpin: timer slack %d ns, want %d as before", got, before)
		}
	})
}

// TestPinTimerSlackRefused: a kernel that refuses the slack (or the mask)
// does not stop the other, and Unpin restores only what Pin set.
func TestPinTimerSlackRefused(t *testing.T) {
	onLockedThread(func() {
		k := &fakeKernel{mask: []int{0, 1}, slack: 50000, slackErr: unix.EPERM}
		if err := pin(1, k); err != nil {
			t.Errorf("pin with the slack refused = %v, want nil", err)
		}
		unpin(k)
		if len(k.setSlack) != 1 || len(k.setCPUs) != 2 {
			t.Errorf("pin and unpin, slack refused: setTimerslack %v (want one call), setaffinity %v (want two)", k.setSlack, k.setCPUs)
		}
	})
	onLockedThread(func() {
		k := &fakeKernel{mask: []int{0, 1}, slack: 50000, setErr: unix.EPERM}
		if err := pin(1, k); !errors.Is(err, ErrUnsupported) {
			t.Errorf("pin with the mask refused = %v, want ErrUnsupported", err)
		}
		if k.slack != uintptr(TimerSlack) {
			t.Errorf("pin with the mask refused: slack %d, want %d", k.slack, TimerSlack)
		}
		unpin(k)
		if k.slack != 50000 {
			t.Errorf("after unpin: slack %d, want 50000", k.slack)
		}
	})
}
