package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/internal/affinity"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/stream"
)

// nexmarkRun is one measured run of a query (weir or the baseline).
type nexmarkRun struct {
	Query         string  `json:"query"`
	Engine        string  `json:"engine"`
	Events        int64   `json:"events"`
	Seconds       float64 `json:"seconds"`
	EventsPerSec  float64 `json:"events_per_sec"`
	EventsPerCore float64 `json:"events_per_core_sec"`
	P50LatencyUs  float64 `json:"p50_latency_us"` // -1: not measured (not paced)
	P99LatencyUs  float64 `json:"p99_latency_us"`
	PeakHeapBytes uint64  `json:"peak_heap_bytes"`
	// PeakLiveBytes is the most the heap held live after a GC cycle: what
	// the job keeps, without the garbage the GC lets accumulate between
	// cycles (up to GOGC% of live), which peak_heap_bytes includes.
	PeakLiveBytes uint64 `json:"peak_live_heap_bytes"`
	Results       int64  `json:"results"`
	Parallelism   int    `json:"parallelism"`
	Paced         bool   `json:"paced"`
	Rate          int64  `json:"rate"`
	// StealSeconds is the CPU time the hypervisor took from the machine's
	// CPUs during the run (steal, all CPUs): time the run waited for
	// through no fault of its own.
	StealSeconds float64 `json:"steal_seconds"`
	// Checkpoints is the number of checkpoints the run completed with
	// --checkpoint (the last one, Final, at the end of the input), and
	// CheckpointBytes the state bytes the last one wrote.
	Checkpoints     int64 `json:"checkpoints,omitempty"`
	CheckpointBytes int64 `json:"checkpoint_bytes,omitempty"`

	slow      nexmark.Timeline // with --slow: when the slow results came
	paceStart time.Time        // of a paced run
}

type nexmarkFlags struct {
	events   int64
	par      int
	rate     int64
	paced    bool
	seed     uint64
	asJSON   bool
	baseline bool
	align    time.Duration
	slow     time.Duration // print a timeline of results slower than this
	trace    string        // write a Go execution trace of the weir runs here
	noSpare  bool          // runtime.SpareProc(false)
	lowIO    bool          // runtime.LowPriorityIO(true)
	ckpt     time.Duration // take checkpoints this often (0: none)
}

// processStart approximates the start of the process, so that the slow
// timeline's times can be set beside GODEBUG=gctrace=1's (@ since start).
var processStart = time.Now()

func runNexmark(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("weir nexmark", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f nexmarkFlags
	query := fs.String("query", "q0", "query q0..q22, a comma-separated list, or all")
	fs.Int64Var(&f.events, "events", 10_000_000, "number of events")
	fs.IntVar(&f.par, "parallelism", goruntime.NumCPU(), "parallelism")
	fs.Int64Var(&f.rate, "rate", 10_000_000, "events per second of event time; with --paced also of wall time")
	fs.BoolVar(&f.paced, "paced", false, "release events at --rate on the wall clock and measure p50/p99 latency")
	fs.Uint64Var(&f.seed, "seed", 1, "generator seed")
	fs.DurationVar(&f.align, "align", nexmark.Alignment, "watermark alignment: pause a source subtask this far (event time) ahead of the slowest; 0 is off")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON object per run")
	fs.BoolVar(&f.baseline, "baseline", false, "also run the hand-written implementation and print the ratio")
	fs.BoolVar(&f.noSpare, "no-spare-proc", false, "keep GOMAXPROCS as it is while the job runs (runtime.SpareProc(false)), to compare")
	fs.BoolVar(&f.lowIO, "low-priority-io", false, "with --checkpoint: write checkpoints from a thread at the lowest OS priority (runtime.LowPriorityIO)")
	fs.DurationVar(&f.ckpt, "checkpoint", 0, "take a checkpoint this often (into a temporary directory, removed after the run), as published Nexmark runs of Flink do; 0 is none")
	fs.StringVar(&f.trace, "trace", "", "write a Go execution trace of the weir run to this file (go tool trace)")
	fs.DurationVar(&f.slow, "slow", 0, "with --paced: print when in the run results slower than this reached the sink (episodes), to set beside GODEBUG=gctrace=1")
	report := fs.String("report", "", "run every query (or --query) at parallelism 1 and --parallelism, the baseline, and a paced run at --latency-rate, and write a markdown table to this file")
	latRate := fs.Int64("latency-rate", 1_000_000, "--report: events/s of the paced latency runs")
	repeat := fs.Int("repeat", 1, "--report: rounds of throughput runs per query; the table gives each figure's median")
	stalls := fs.Duration("stalls", 0, "measure the machine's own stalls for this long (a short sleep loop pinned to each CPU) and print them instead of running queries; with --report, how long the report measures them (default 10s)")
	latEvents := fs.Int64("latency-events", 12_000_000, "--report: events of each paced latency run (enough for 10 s windows to close at 1M events/s)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "weir nexmark: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if f.events < 0 || f.par < 1 || f.rate < 1 || f.ckpt < 0 {
		fmt.Fprintln(stderr, "weir nexmark: --events must be >= 0, --parallelism and --rate >= 1, --checkpoint >= 0")
		return 2
	}
	if *stalls > 0 && *report == "" {
		fmt.Fprintf(stdout, "stalls: %v; transparent huge pages: %s; CPU: %s\n", measureStalls(*stalls, affinity.CPUs()), hugePages(), cpuModel())
		return 0
	}
	qs, err := selectQueries(*query)
	if err != nil {
		fmt.Fprintf(stderr, "weir nexmark: %v\n", err)
		return 1
	}
	if *report != "" {
		if *stalls <= 0 {
			*stalls = 10 * time.Second
		}
		if err := writeReport(*report, qs, f, *repeat, *latRate, *latEvents, *stalls, stdout); err != nil {
			fmt.Fprintf(stderr, "weir nexmark: %v\n", err)
			return 1
		}
		return 0
	}
	for _, q := range qs {
		if err := nexmarkOne(q, f, stdout); err != nil {
			fmt.Fprintf(stderr, "weir nexmark: %s: %v\n", q.Name(), err)
			return 1
		}
	}
	return 0
}

func selectQueries(spec string) ([]nexmark.Query, error) {
	if spec == "all" {
		return nexmark.Queries(), nil
	}
	var out []nexmark.Query
	for _, name := range strings.Split(spec, ",") {
		q, ok := nexmark.Lookup(strings.TrimSpace(name))
		if !ok {
			return nil, fmt.Errorf("unknown query %q (have %s)", name, strings.Join(nexmark.Names(), ", "))
		}
		out = append(out, q)
	}
	return out, nil
}

// nexmarkOne runs q (and its baseline) and prints the runs.
func nexmarkOne(q nexmark.Query, f nexmarkFlags, stdout io.Writer) error {
	w, err := measureWeir(q, f)
	if err != nil {
		return err
	}
	if f.slow > 0 && w.Paced {
		printSlow(stdout, q.Name(), w.slow, w.paceStart, f.slow)
	}
	runs := []nexmarkRun{w}
	if f.baseline {
		b, err := measureBaseline(q, f)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		if q.Exact() && b.Results != w.Results {
			return fmt.Errorf("weir produced %d results, the baseline %d", w.Results, b.Results)
		}
		runs = append(runs, b)
	}
	for _, r := range runs {
		if f.asJSON {
			data, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(data))
			continue
		}
		lat := "latency not measured (use --paced)"
		if r.P99LatencyUs >= 0 {
			lat = fmt.Sprintf("latency p50 %.0fµs p99 %.0fµs", r.P50LatencyUs, r.P99LatencyUs)
		}
		ck := ""
		if r.Checkpoints > 0 {
			ck = fmt.Sprintf(", %d checkpoints (the last %d KiB)", r.Checkpoints, r.CheckpointBytes>>10)
		}
		fmt.Fprintf(stdout, "%s %-8s p=%d %d events in %.3fs: %.0f events/s, %.0f events/s per core, %s, peak heap %d MiB (live %d MiB), %d results%s\n",
			r.Query, r.Engine, r.Parallelism, r.Events, r.Seconds, r.EventsPerSec, r.EventsPerCore, lat, r.PeakHeapBytes>>20, r.PeakLiveBytes>>20, r.Results, ck)
	}
	if len(runs) == 2 && !f.asJSON {
		fmt.Fprintf(stdout, "%s weir/baseline: %.2fx\n", q.Name(), runs[0].EventsPerSec/runs[1].EventsPerSec)
	}
	return nil
}

func genOptions(f nexmarkFlags) gen.Options {
	o := gen.Options{Events: f.events, Rate: f.rate, Seed: f.seed}
	if f.paced {
		o.Pace = true
		// a lead so that starting the job is not counted as latency
		o.PaceStart = time.Now().Add(100 * time.Millisecond)
	}
	return o
}

func measureWeir(q nexmark.Query, f nexmarkFlags) (nexmarkRun, error) {
	job := stream.NewJob("nexmark-" + q.Name())
	opts := genOptions(f)
	ev, err := nexmark.Events(job, opts)
	if err != nil {
		return nexmarkRun{}, err
	}
	var obs nexmark.Observer
	if f.paced {
		obs.Clock = &nexmark.PaceClock{Start: opts.PaceStart, Base: gen.DefaultBaseTime}
		obs.SlowAbove = f.slow
	}
	q.Attach(ev, &obs)
	r := nexmarkRun{Query: q.Name(), Engine: "weir", Events: f.events, Parallelism: f.par, Paced: f.paced, Rate: f.rate}
	if f.trace != "" {
		tf, err := os.Create(f.trace)
		if err != nil {
			return r, err
		}
		defer tf.Close()
		if err := trace.Start(tf); err != nil {
			return r, err
		}
		defer trace.Stop()
	}
	ropts := []runtime.Option{runtime.Parallelism(f.par), runtime.WatermarkAlignment(f.align), runtime.SpareProc(!f.noSpare), runtime.LowPriorityIO(f.lowIO)}
	var ckpts vfs.FS
	if f.ckpt > 0 {
		dir, err := os.MkdirTemp("", "weir-nexmark-ckpt-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(dir)
		if ckpts, err = vfs.NewLocal(dir); err != nil {
			return r, err
		}
		ropts = append(ropts, runtime.CheckpointStorage(ckpts, f.ckpt), runtime.NoRestore())
	}
	err = measure(&r, func() error { return runtime.Run(context.Background(), job, ropts...) })
	if ckpts != nil && err == nil {
		m, _, _, lerr := runtime.LatestManifest(ckpts)
		if lerr != nil {
			return r, fmt.Errorf("checkpoints: %w", lerr)
		}
		r.Checkpoints, r.CheckpointBytes = m.ID, m.Bytes()
	}
	r.Results = obs.Count()
	if h := obs.Latency(); f.paced && h.Count() > 0 {
		r.P50LatencyUs = float64(h.Quantile(0.5)) / 1e3
		r.P99LatencyUs = float64(h.Quantile(0.99)) / 1e3
	}
	if f.paced {
		r.slow, r.paceStart = obs.Slow(), opts.PaceStart
	}
	return r, err
}

// printSlow prints the episodes of slow results of a paced run whose
// pace clock started at start, in seconds since then.
func printSlow(w io.Writer, name string, t nexmark.Timeline, start time.Time, slow time.Duration) {
	eps := t.Episodes(10 * time.Millisecond)
	fmt.Fprintf(w, "%s: %d episodes of results slower than %v, in seconds since the pace clock started (at %.3fs of the process, gctrace's @; Unix time %d ns)\n",
		name, len(eps), slow, start.Sub(processStart).Seconds(), start.UnixNano())
	for _, e := range eps {
		fmt.Fprintf(w, "  %8.3fs-%.3fs  %7d results  max %v\n", e.From.Seconds(), e.To.Seconds(), e.Count, e.Max.Round(10*time.Microsecond))
	}
}

// measureBaseline runs the hand-written single-goroutine loop of q over
// the same events (never paced: it measures the loop's speed).
func measureBaseline(q nexmark.Query, f nexmarkFlags) (nexmarkRun, error) {
	f.paced = false
	src, err := gen.NewSource(genOptions(f))
	if err != nil {
		return nexmarkRun{}, err
	}
	r := nexmarkRun{Query: q.Name(), Engine: "baseline", Events: f.events, Parallelism: 1, Rate: f.rate}
	err = measure(&r, func() error {
		r.Results = q.Baseline(src, f.events)
		return nil
	})
	return r, err
}

// measureBaselineCopies runs copies of the hand-written loop at once,
// each on its own goroutine pinned to its own core and each over all the
// events, and rates them by all the events over the time until the last
// copy ends. Against one loop alone it is what this machine gives for
// work that shares nothing (no queues, no exchange, no watermarks): the
// ceiling of weir's p=copies / p=1, which cores that share a memory bus,
// caches or a host (a VM's vCPUs may be hyperthreads) keep below copies.
func measureBaselineCopies(q nexmark.Query, f nexmarkFlags, copies int) (nexmarkRun, error) {
	f.paced = false
	srcs := make([]*gen.Source, copies)
	for i := range srcs {
		src, err := gen.NewSource(genOptions(f))
		if err != nil {
			return nexmarkRun{}, err
		}
		srcs[i] = src
	}
	cpus := affinity.CPUs()
	r := nexmarkRun{Query: q.Name(), Engine: "baseline", Events: int64(copies) * f.events, Parallelism: copies, Rate: f.rate}
	err := measure(&r, func() error {
		results := make([]int64, copies)
		runPinned(copies, cpus, func(i int) { results[i] = q.Baseline(srcs[i], f.events) })
		for _, n := range results {
			r.Results += n
		}
		return nil
	})
	return r, err
}

// measure times run and fills throughput, CPU time per core used and the
// peak heap and live heap (sampled every 10 ms); latency stays -1 unless
// the caller sets it. Every run starts with the heap handed back to the
// OS, so that each pays for faulting in its own memory: a run after a
// large-state run reused its pages and looked up to twice as fast (q19's
// baseline after weir).
func measure(r *nexmarkRun, run func() error) error {
	debug.FreeOSMemory()
	stop := make(chan struct{})
	var peak, live uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		// runtime/metrics, not ReadMemStats: it does not stop the world
		// (which would preempt the pinned workers 100 times a second)
		samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"},
			{Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(samples)
			peak = max(peak, samples[0].Value.Uint64()+samples[1].Value.Uint64()) // MemStats.HeapInuse
			live = max(live, samples[2].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	cpu0, steal0 := cpuTime(), stealSeconds()
	start := time.Now()
	err := run()
	wall := time.Since(start).Seconds()
	cpu := cpuTime() - cpu0
	r.StealSeconds = stealSeconds() - steal0
	close(stop)
	wg.Wait()
	r.Seconds, r.PeakHeapBytes, r.PeakLiveBytes = wall, peak, live
	r.EventsPerSec = float64(r.Events) / wall
	r.EventsPerCore = float64(r.Events) / max(cpu, 1e-9)
	r.P50LatencyUs, r.P99LatencyUs = -1, -1
	return err
}

// stealSeconds is the CPU time the hypervisor has taken from this
// machine's CPUs since boot, in seconds (0 where /proc/stat cannot say).
func stealSeconds() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	return parseSteal(string(data))
}

// parseSteal reads the steal column of the cpu line of /proc/stat, in
// USER_HZ ticks (100 a second), as seconds.
func parseSteal(stat string) float64 {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	v, err := strconv.ParseFloat(f[8], 64)
	if err != nil {
		return 0
	}
	return v / 100
}

// cpuTime is the process's user+system CPU time in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// writeReport measures every query of qs (baseline, weir at p=1 and at
// f.par, f.par copies of the baseline at once, each the median of repeat
// rounds, and a paced run for latency) and writes a markdown table to
// path; progress goes to progress.
func writeReport(path string, qs []nexmark.Query, f nexmarkFlags, repeat int, latRate, latEvents int64, stalls time.Duration, progress io.Writer) error {
	reportStart, steal0 := time.Now(), stealSeconds()
	var b strings.Builder
	fmt.Fprintf(&b, "# weir Nexmark results\n\n")
	fmt.Fprintf(&b, "`weir nexmark --report` on %s: %d events per throughput run (seed %d, %d events/s of event time, watermark alignment %v), GOMAXPROCS %d (the runtime adds a spare P while a job runs: runtime.SpareProc), %d CPUs (%s), %s, transparent huge pages %s (the Go heap gets them only with always: where page faults are slow, as on the VMs weir is written on, queries whose heap grows run up to 2× faster with them).\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), f.events, f.seed, f.rate, f.align, goruntime.GOMAXPROCS(0), goruntime.NumCPU(), cpuModel(), goruntime.Version(), hugePages())
	fmt.Fprintf(&b, "Baseline: the query's hand-written single-goroutine Go loop over the same events, in the same process. %d loops: that many copies of it at once, one per core, each over all the events (the machine's own ceiling of p=%d / p=1).\n", f.par, f.par)
	fmt.Fprintf(&b, "Throughput: the median of %d rounds, each running the baseline, weir at p=1 and p=%d and the %d loops in turn; a ratio is the median of the rounds' ratios (runs of a round are adjacent in time); every query's first round runs before any query's second, so a slow spell of the machine falls on one round of several queries rather than on all of one.\n", max(repeat, 1), f.par, f.par)
	fmt.Fprintf(&b, "Per core: events / process CPU seconds. Latency: a paced run of %d events at %d events/s on the wall clock, parallelism %d; from an event's release to the sink for results an event causes, from the release of a window's last millisecond of events (or an event-time timer's; the watermark passes it once they are read) for window results, from the window's end for processing-time windows (q12); results the end of the input flushes are not counted, so a query whose windows do not close within the run has none (–).\n",
		latEvents, latRate, f.par)
	fmt.Fprintf(&b, "p50 and p99 are the medians over %d paced runs. The machine's own stalls bound the tail: before the runs, %v.\n\n", max(repeat, 1), measureStalls(stalls, affinity.CPUs()))
	fmt.Fprintf(&b, "| query | title | baseline ev/s | weir p=1 ev/s | p=1 / baseline | p=1 ev/s per core | weir p=%d ev/s | p=%d / p=1 | %d loops / 1 loop | p50 µs | p99 µs | peak heap / live MiB (p=1) |\n", f.par, f.par, f.par)
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	// Round r of every query runs before round r+1 of any, so that a slow
	// phase of the machine (a neighbour's burst lasts minutes) falls on one
	// round of several queries, and the median of each query's rounds
	// passes over it, rather than on every round of one query.
	rounds := make([][]reportRound, len(qs))
	p50s, p99s := make([][]float64, len(qs)), make([][]float64, len(qs))
	fl := f
	fl.paced, fl.rate, fl.events = true, latRate, latEvents
	for round := range max(repeat, 1) {
		for i, q := range qs {
			r, err := measureRound(q, f)
			if err != nil {
				return err
			}
			rounds[i] = append(rounds[i], r)
			wl, err := measureWeir(q, fl)
			if err != nil {
				return fmt.Errorf("%s paced: %w", q.Name(), err)
			}
			p50s[i], p99s[i] = append(p50s[i], wl.P50LatencyUs), append(p99s[i], wl.P99LatencyUs)
			fmt.Fprintf(progress, "%s round %d: baseline %s, p=1 %s (%.2fx), p=%d %s (%.2fx; %d loops %.2fx), p99 %s µs\n", q.Name(), round+1,
				mega(r[0].EventsPerSec), mega(r[1].EventsPerSec), r[1].EventsPerSec/r[0].EventsPerSec, f.par, mega(r[2].EventsPerSec),
				r[2].EventsPerSec/r[1].EventsPerSec, f.par, r[3].EventsPerSec/r[0].EventsPerSec, micros(wl.P99LatencyUs))
		}
	}
	for i, q := range qs {
		base, w1, wp := medianRun(rounds[i], 0), medianRun(rounds[i], 1), medianRun(rounds[i], 2)
		p50, p99 := median(p50s[i]), median(p99s[i])
		vsBase, scale, ceiling := medianRatio(rounds[i], 1, 0), medianRatio(rounds[i], 2, 1), medianRatio(rounds[i], 3, 0)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f× | %s | %s | %.2f× | %.2f× | %s | %s | %d / %d |\n",
			q.Name(), q.Title(), mega(base.EventsPerSec), mega(w1.EventsPerSec), vsBase,
			mega(w1.EventsPerCore), mega(wp.EventsPerSec), scale, ceiling,
			micros(p50), micros(p99), w1.PeakHeapBytes>>20, w1.PeakLiveBytes>>20)
	}
	elapsed, steal := time.Since(reportStart).Seconds(), stealSeconds()-steal0
	fmt.Fprintf(&b, "\n%s\n", stealLine(elapsed, steal, goruntime.NumCPU()))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// stealLine says how much CPU time the hypervisor took while the report
// ran (elapsed seconds, steal seconds over cpus CPUs). None is no proof of
// a quiet host: some hypervisors (the Firecracker VMs weir has also run
// on) do not account steal time to the guest.
func stealLine(elapsed, steal float64, cpus int) string {
	if steal <= 0 {
		return fmt.Sprintf("While the report ran (%.0f s), the kernel counted no steal time: either the hypervisor took none or, as some do, it does not tell the guest; the stall probe above then measures the host's interference.", elapsed)
	}
	return fmt.Sprintf("While the report ran (%.0f s), the hypervisor took %.1f s of the %d CPUs' time (steal: %.2f%%), unevenly: it slows some runs and not others.",
		elapsed, steal, cpus, 100*steal/(elapsed*float64(cpus)))
}

// reportRound is one round of a report's throughput runs of a query: the
// baseline, weir at p=1 and at the report's parallelism, and the copies
// of the baseline at once.
type reportRound [4]nexmarkRun

// measureRound runs one round of q's throughput runs, the four in turn, so
// that rounds interleave them and a slow phase of the machine spreads over
// all four.
func measureRound(q nexmark.Query, f nexmarkFlags) (reportRound, error) {
	var r reportRound
	var err error
	if r[0], err = measureBaseline(q, f); err != nil {
		return r, fmt.Errorf("%s baseline: %w", q.Name(), err)
	}
	f1 := f
	f1.par = 1
	if r[1], err = measureWeir(q, f1); err != nil {
		return r, fmt.Errorf("%s p=1: %w", q.Name(), err)
	}
	if q.Exact() && r[1].Results != r[0].Results {
		return r, fmt.Errorf("%s: weir produced %d results, the baseline %d", q.Name(), r[1].Results, r[0].Results)
	}
	if r[2], err = measureWeir(q, f); err != nil {
		return r, fmt.Errorf("%s p=%d: %w", q.Name(), f.par, err)
	}
	if r[3], err = measureBaselineCopies(q, f, f.par); err != nil {
		return r, fmt.Errorf("%s %d baselines at once: %w", q.Name(), f.par, err)
	}
	return r, nil
}

// medianRun returns run i of the round with the median events/s of it.
func medianRun(rounds []reportRound, i int) nexmarkRun {
	runs := make([]nexmarkRun, len(rounds))
	for j := range rounds {
		runs[j] = rounds[j][i]
	}
	slices.SortFunc(runs, func(a, b nexmarkRun) int { return cmp.Compare(a.EventsPerSec, b.EventsPerSec) })
	return runs[len(runs)/2]
}

// medianRatio returns the median over rounds of the events/s of run num
// over those of run den of the same round: runs of a round are adjacent in
// time, so a ratio within a round is not skewed by the machine's slow and
// fast phases as a ratio of two medians (of runs in different rounds) is.
func medianRatio(rounds []reportRound, num, den int) float64 {
	rs := make([]float64, len(rounds))
	for j, r := range rounds {
		rs[j] = r[num].EventsPerSec / r[den].EventsPerSec
	}
	return median(rs)
}

// median returns the middle of vs (the upper middle of an even count, as
// medianRun).
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[len(s)/2]
}

func mega(v float64) string { return fmt.Sprintf("%.2fM", v/1e6) }

func micros(v float64) string {
	if v < 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", v)
}
