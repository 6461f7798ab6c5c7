package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	goruntime "runtime"
	"sync"
	"syscall"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
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
	P50LatencyUs  float64 `json:"p50_latency_us"` // -1: not measured yet
	P99LatencyUs  float64 `json:"p99_latency_us"` // -1: not measured yet
	PeakHeapBytes uint64  `json:"peak_heap_bytes"`
	Results       int64   `json:"results"`
	Parallelism   int     `json:"parallelism"`
}

func runNexmark(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("weir nexmark", flag.ContinueOnError)
	fs.SetOutput(stderr)
	query := fs.String("query", "q0", "query: q0, q1 or q2 (more to come)")
	events := fs.Int64("events", 10_000_000, "number of events")
	par := fs.Int("parallelism", goruntime.NumCPU(), "parallelism")
	rate := fs.Int64("rate", 10_000_000, "event rate of the synthetic event time (events/s)")
	asJSON := fs.Bool("json", false, "print one JSON object per run")
	baseline := fs.Bool("baseline", false, "also run the hand-written implementation and print the ratio")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts := gen.Options{Events: *events, Rate: *rate, Seed: 1}
	w, err := measureWeir(*query, opts, *par)
	if err != nil {
		fmt.Fprintf(stderr, "weir nexmark: %v\n", err)
		return 1
	}
	runs := []nexmarkRun{w}
	if *baseline {
		b, err := measureBaseline(*query, opts)
		if err != nil {
			fmt.Fprintf(stderr, "weir nexmark: baseline: %v\n", err)
			return 1
		}
		if b.Results != w.Results {
			fmt.Fprintf(stderr, "weir nexmark: %s: weir produced %d results, the baseline %d\n", *query, w.Results, b.Results)
			return 1
		}
		runs = append(runs, b)
	}
	for _, r := range runs {
		if *asJSON {
			data, _ := json.Marshal(r)
			fmt.Fprintln(stdout, string(data))
			continue
		}
		fmt.Fprintf(stdout, "%s %-8s %d events in %.3fs: %.0f events/s, %.0f events/s per core, peak heap %d MiB, %d results (latency not measured yet)\n",
			r.Query, r.Engine, r.Events, r.Seconds, r.EventsPerSec, r.EventsPerCore, r.PeakHeapBytes>>20, r.Results)
	}
	if len(runs) == 2 && !*asJSON {
		fmt.Fprintf(stdout, "%s weir/baseline: %.2fx\n", *query, runs[0].EventsPerSec/runs[1].EventsPerSec)
	}
	return 0
}

// countSink counts results across subtasks.
func countSink[T any](n *int64, mu *sync.Mutex) operators.Sink[T] {
	return operators.SinkFunc[T](func(_ *operators.Context, b *operators.Batch[T]) error {
		mu.Lock()
		*n += int64(b.Len())
		mu.Unlock()
		return nil
	})
}

func buildQuery(q string, job *stream.Job, ev stream.DataStream[gen.Event], n *int64, mu *sync.Mutex) error {
	switch q {
	case "q0":
		nexmark.Q0(ev).SinkTo(countSink[nexmark.Bid](n, mu))
	case "q1":
		nexmark.Q1(ev).SinkTo(countSink[nexmark.Q1Result](n, mu))
	case "q2":
		nexmark.Q2(ev).SinkTo(countSink[nexmark.Q2Result](n, mu))
	default:
		return fmt.Errorf("unknown query %q (q0, q1 and q2 exist so far)", q)
	}
	return nil
}

func measureWeir(q string, opts gen.Options, par int) (nexmarkRun, error) {
	job := stream.NewJob("nexmark-" + q)
	ev, err := nexmark.Events(job, opts)
	if err != nil {
		return nexmarkRun{}, err
	}
	var n int64
	var mu sync.Mutex
	if err := buildQuery(q, job, ev, &n, &mu); err != nil {
		return nexmarkRun{}, err
	}
	r := nexmarkRun{Query: q, Engine: "weir", Events: opts.Events, Parallelism: par}
	err = measure(&r, func() error { return runtime.Run(context.Background(), job, runtime.Parallelism(par)) })
	r.Results = n
	return r, err
}

// measureBaseline runs a hand-written single-goroutine loop over the same
// events.
func measureBaseline(q string, opts gen.Options) (nexmarkRun, error) {
	src, err := gen.NewSource(opts)
	if err != nil {
		return nexmarkRun{}, err
	}
	r := nexmarkRun{Query: q, Engine: "baseline", Events: opts.Events, Parallelism: 1}
	var n int64
	var sink float64
	err = measure(&r, func() error {
		var e gen.Event
		for i := range opts.Events {
			src.Fill(i, &e)
			if e.Kind != gen.KindBid {
				continue
			}
			switch q {
			case "q0":
				n++
			case "q1":
				sink += nexmark.ToEuro(e.Bid).Price
				n++
			case "q2":
				if nexmark.Q2Selected(e) {
					n++
				}
			default:
				return fmt.Errorf("unknown query %q", q)
			}
		}
		return nil
	})
	_ = sink
	r.Results = n
	return r, err
}

// measure times f and fills throughput, CPU time per core used and the
// peak heap (sampled every 10 ms).
func measure(r *nexmarkRun, f func() error) error {
	goruntime.GC()
	stop := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var ms goruntime.MemStats
		for {
			goruntime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	cpu0 := cpuTime()
	start := time.Now()
	err := f()
	wall := time.Since(start).Seconds()
	cpu := cpuTime() - cpu0
	close(stop)
	wg.Wait()
	r.Seconds, r.PeakHeapBytes = wall, peak
	r.EventsPerSec = float64(r.Events) / wall
	r.EventsPerCore = float64(r.Events) / max(cpu, 1e-9)
	r.P50LatencyUs, r.P99LatencyUs = -1, -1
	return err
}

// cpuTime is the process's user+system CPU time in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
