package demojob

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

// Errors of Run.
var (
	// ErrCheck means the job's results differ from the plain Go loop.
	ErrCheck = errors.New("weir/demojob: results differ from the reference loop")
	// ErrBadSetting means an argument of Run is out of range.
	ErrBadSetting = errors.New("weir/demojob: invalid setting")
)

// Options are the demo's command-line settings.
type Options struct {
	Events      int64 // events to generate
	Parallelism int   // 0: every core this process may use
}

// AddFlags defines -events and -parallelism on fs, storing into o, with
// DefaultEvents and 0 (all cores) as defaults.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.Int64Var(&o.Events, "events", DefaultEvents, "number of events to generate")
	fs.IntVar(&o.Parallelism, "parallelism", 0, "workers (0: all cores)")
}

// summary is what a run produced and how long it took.
type summary struct {
	events, processed int64
	perTask           []int64 // records received by each sink subtask
	totals            []Spend // last Spend by user
	distinct          int
	conflicts         []string
	finished          int // sink subtasks that reached the end of input
	parallelism       int
	elapsed           time.Duration
}

// newJob builds the demo pipeline over events generated events.
func newJob(events int64) (*stream.Job, *summarySink) {
	job := stream.NewJob("demo")
	sink := newSummarySink()
	stream.FromGenerator(job, "events", events, MakeEvent).
		Filter(Keep).Name("keep-positive").
		Map(ToSpend).Name("to-spend").
		KeyBy(func(s Spend) int64 { return s.User }).
		Reduce(Add).Name("sum-per-user").
		SinkTo(sink)
	return job, sink
}

// Run generates events events, runs the demo job at the given parallelism
// (0: all cores), writes a summary to w and cross-checks every user's total
// against a plain Go loop over the same events. It returns an error
// wrapping ErrCheck when they differ, after printing "check: FAILED".
func Run(ctx context.Context, w io.Writer, events int64, parallelism int) error {
	switch {
	case events < 0:
		return fmt.Errorf("%w: events %d < 0", ErrBadSetting, events)
	case parallelism < 0:
		return fmt.Errorf("%w: parallelism %d < 0", ErrBadSetting, parallelism)
	case parallelism == 0:
		parallelism = goruntime.GOMAXPROCS(0)
	}
	job, sink := newJob(events)
	start := time.Now()
	if err := runtime.Run(ctx, job, runtime.Parallelism(parallelism)); err != nil {
		return err
	}
	s := sink.summary(events, parallelism, time.Since(start))
	ref, kept := reference(events)
	checkErr := verify(s, ref, kept)
	var b strings.Builder
	report(&b, s)
	if checkErr != nil {
		fmt.Fprintf(&b, "check: FAILED: %v\n", checkErr)
	} else {
		b.WriteString("check: OK (every user's total matches a plain Go loop over the same events)\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return errors.Join(checkErr, err)
	}
	return checkErr
}

func (s *summarySink) summary(events int64, parallelism int, elapsed time.Duration) summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := summary{events: events, parallelism: parallelism, elapsed: elapsed,
		totals: slices.Clone(s.last), conflicts: slices.Clone(s.conflicts), finished: s.finished}
	for t := 0; t < parallelism || t < len(s.perTask); t++ {
		out.perTask = append(out.perTask, s.perTask[t])
		out.processed += s.perTask[t]
	}
	for _, v := range s.last {
		if v.Count > 0 {
			out.distinct++
		}
	}
	return out
}

// verify compares a run with the reference loop's results.
func verify(s summary, ref []Spend, kept int64) error {
	var bad []string
	if s.finished != len(s.perTask) {
		bad = append(bad, fmt.Sprintf("%d of %d sink subtasks finished", s.finished, len(s.perTask)))
	}
	bad = append(bad, s.conflicts...)
	if s.processed != kept {
		bad = append(bad, fmt.Sprintf("processed %d events, the loop kept %d", s.processed, kept))
	}
	wrong := 0
	for u := range ref {
		var got Spend
		if u < len(s.totals) {
			got = s.totals[u]
		}
		if got != ref[u] {
			if wrong < 3 {
				bad = append(bad, fmt.Sprintf("user %d: got %+v, want %+v", u, got, ref[u]))
			}
			wrong++
		}
	}
	if wrong > 3 {
		bad = append(bad, fmt.Sprintf("(%d users differ in all)", wrong))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrCheck, strings.Join(bad, "; "))
	}
	return nil
}

// topUsers returns the n users with the largest totals (ties: lower id).
func topUsers(totals []Spend, n int) []Spend {
	var seen []Spend
	for _, v := range totals {
		if v.Count > 0 {
			seen = append(seen, v)
		}
	}
	slices.SortFunc(seen, func(a, b Spend) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.User, b.User))
	})
	return seen[:min(n, len(seen))]
}

func report(b *strings.Builder, s summary) {
	fmt.Fprintf(b, "weir demo: generator -> filter -> map -> keyBy(user) -> reduce(sum) -> sink\n")
	fmt.Fprintf(b, "parallelism:      %d\n", s.parallelism)
	fmt.Fprintf(b, "events generated: %s\n", group(s.events))
	fmt.Fprintf(b, "events processed: %s (after the filter)\n", group(s.processed))
	per := make([]string, len(s.perTask))
	for i, n := range s.perTask {
		per[i] = group(n)
	}
	fmt.Fprintf(b, "per sink subtask: %s\n", strings.Join(per, " | "))
	fmt.Fprintf(b, "distinct keys:    %s\n", group(int64(s.distinct)))
	b.WriteString("top 5 users by total:\n")
	for i, v := range topUsers(s.totals, 5) {
		fmt.Fprintf(b, "  %d. user %-5d total %s cents over %s events\n", i+1, v.User, group(v.Total), group(v.Count))
	}
	secs := s.elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(s.events) / secs
	}
	fmt.Fprintf(b, "elapsed:          %v\n", s.elapsed.Round(time.Millisecond))
	fmt.Fprintf(b, "throughput:       %s events/s (generated events / elapsed)\n", group(int64(rate)))
}

// group writes n with thousands separators: 20000000 -> "20,000,000".
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
