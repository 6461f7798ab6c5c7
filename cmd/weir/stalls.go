package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weirstream/weir/internal/affinity"
)

// stallStats is what a sleep loop pinned to each CPU saw of the machine:
// how often a short sleep came back more than stallOver late. On a VM it
// is the host's doing (a vCPU not run), which no engine on the guest can
// avoid: a paced run's latency tail cannot be shorter than these stalls.
type stallStats struct {
	CPUs    int
	Seconds float64
	Count   int           // sleeps that came back more than stallOver late
	Excess  time.Duration // what they took beyond the sleep, summed
	Max     time.Duration // the longest of them
}

const (
	stallSleep = 50 * time.Microsecond
	stallOver  = time.Millisecond
)

// measureStalls runs the sleep loop on every CPU of cpus (on one
// unpinned goroutine when cpus is empty) for d.
func measureStalls(d time.Duration, cpus []int) stallStats {
	st := stallStats{CPUs: max(len(cpus), 1), Seconds: d.Seconds()}
	var mu sync.Mutex
	runPinned(st.CPUs, cpus, func(int) {
		var local stallStats
		end := time.Now().Add(d)
		prev := time.Now()
		ts := syscall.NsecToTimespec(int64(stallSleep))
		for prev.Before(end) {
			_ = syscall.Nanosleep(&ts, nil)
			now := time.Now()
			if gap := now.Sub(prev); gap > stallOver {
				local.Count++
				local.Excess += gap - stallSleep
				local.Max = max(local.Max, gap)
			}
			prev = now
		}
		mu.Lock()
		st.Count += local.Count
		st.Excess += local.Excess
		st.Max = max(st.Max, local.Max)
		mu.Unlock()
	})
	return st
}

// runPinned runs fn(0) to fn(n-1) at once, each on its own goroutine
// pinned to cpus[i % len(cpus)] where permitted (unpinned when cpus is
// empty or pinning fails: they still run at once), and waits for them.
func runPinned(n int, cpus []int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if len(cpus) > 0 {
				_ = affinity.Pin(cpus[i%len(cpus)])
				defer affinity.Unpin() // matches Pin even when it failed
			}
			fn(i)
		})
	}
	wg.Wait()
}

func (s stallStats) String() string {
	cpuSec := float64(s.CPUs) * s.Seconds
	return fmt.Sprintf("a %v sleep loop pinned to each of %d CPUs, alone for %.0f s, came back over %v late %d times (%.1f per CPU-second), %.1f ms late at most, %.2f%% of the time",
		stallSleep, s.CPUs, s.Seconds, stallOver, s.Count, float64(s.Count)/cpuSec, float64(s.Max)/1e6, 100*s.Excess.Seconds()/cpuSec)
}

// thpPath is where Linux says when it backs anonymous memory with
// transparent huge pages.
const thpPath = "/sys/kernel/mm/transparent_hugepage/enabled"

// hugePages is the machine's transparent huge page mode, "always",
// "madvise" or "never" ("unknown" where it cannot be read). The Go
// runtime does not madvise its heap, so the heap gets huge pages only with
// "always"; on a VM whose page faults are slow, that changes a query whose
// heap grows by up to 2× (q19 on this project's VMs).
func hugePages() string {
	b, err := os.ReadFile(thpPath)
	if err != nil {
		return "unknown"
	}
	return thpMode(string(b))
}

// cpuModel names the machine's CPU from /proc/cpuinfo: its model name and,
// where the name alone does not tell the generation (a VM's "AMD EPYC"),
// its family and model numbers. Throughput and ratios move with the host
// (on this project's VMs one host ran the baselines 1.65× as fast as
// another), so a report says which it ran on. "unknown" where it cannot
// be read.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	return cpuinfoModel(string(b))
}

// cpuinfoModel is cpuModel on the text of /proc/cpuinfo: the fields of its
// first processor.
func cpuinfoModel(s string) string {
	first, _, _ := strings.Cut(s, "\n\n")
	f := map[string]string{}
	for line := range strings.Lines(first) {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			f[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	name := f["model name"]
	if name == "" {
		return "unknown"
	}
	if fam, model := f["cpu family"], f["model"]; fam != "" && model != "" {
		return fmt.Sprintf("%s (family %s, model %s)", name, fam, model)
	}
	return name
}

// thpMode picks the selected mode, the bracketed one, out of the file's
// text ("always [madvise] never").
func thpMode(s string) string {
	_, rest, _ := strings.Cut(s, "[")
	mode, _, ok := strings.Cut(rest, "]")
	if !ok || mode == "" {
		return "unknown"
	}
	return mode
}
