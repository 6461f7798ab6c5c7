package nexmark

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/stream"
)

// Spec describes one query: the weir job, the hand-written single-goroutine
// implementation it is checked and measured against, and how to compare
// and time their results. R is the query's result type.
type Spec[R any] struct {
	// Name is the query's number, "q0" to "q22".
	Name string
	// Title is the query's name in the Nexmark suite ("hot items").
	Title string
	// Build is the query as a weir job over the event stream.
	Build func(events stream.DataStream[Event]) stream.DataStream[R]
	// Hand is the hand-written implementation: one loop over events 0..n-1
	// of src, in order, calling emit for every result.
	Hand func(src *gen.Source, n int64, emit func(R))
	// Format renders a result for golden files and comparisons.
	Format func(R) string
	// Key, when set, makes the results upserts (a later result replaces an
	// earlier one with the same key): comparisons keep the last result per
	// key. The job must emit a key's results in order, which holds when the
	// last operator is keyed by it.
	Key func(R) string
	// Due is the event time at which a result became due: the time of the
	// event that caused it, or for an event-time window the last
	// millisecond before the window's end (windowDue). Latency is measured
	// from the wall time a paced source releases that event time. Nil: the
	// result's record time is used, which is right when the query keeps
	// the causing event's time, and for results an event-time timer
	// stamped with its time t: it fires once the watermark reaches t, and
	// the source moves the watermark to t as soon as it has released the
	// events of millisecond t (its operators.TimeBounder). It returns
	// Unix nanoseconds and takes a pointer, so the sink pays a few
	// nanoseconds per result for it (a window's end sends a burst).
	Due func(r *R) int64
	// DueWall, for results of processing-time windows, is the wall time
	// (Unix ns) at which a result became due (the window's end); it
	// overrides Due.
	DueWall func(r *R) int64
	// Ordered says the job at parallelism 1 emits the results in the hand
	// loop's order (otherwise they are compared as multisets).
	Ordered bool
	// Compare, when set, replaces the exact comparison of job and hand
	// results (formatted, upserts reduced, sorted unless Ordered): for
	// queries whose output depends on processing time.
	Compare func(job, hand []string) error
	// TestEvents is how many events the golden and parallel tests run
	// (20 000 when zero); more for queries that need a longer stream to
	// produce results.
	TestEvents int64
}

// Query is a registered query with its result type erased.
type Query interface {
	Name() string
	Title() string
	// Ordered and Upsert report the Spec's Ordered and whether it has a Key.
	Ordered() bool
	Upsert() bool
	// TestEvents is the event count of the query's tests.
	TestEvents() int64
	// Exact reports whether the job emits exactly the hand loop's results
	// (no upserts, no processing time): their counts must then agree.
	Exact() bool
	// Attach adds the query to the job of events and ends it in obs.
	Attach(events stream.DataStream[Event], obs *Observer)
	// Collect adds the query to the job of events and returns a function
	// that, after the run, gives the formatted results (upserts reduced
	// to the last per key, sorted unless Ordered).
	Collect(events stream.DataStream[Event]) func() []string
	// HandLines runs the hand-written implementation and formats its
	// results like Collect.
	HandLines(src *gen.Source, n int64) []string
	// Baseline runs the hand-written implementation and returns its result
	// count.
	Baseline(src *gen.Source, n int64) int64
	// Compare checks job results against hand results (both from Collect
	// and HandLines).
	Compare(job, hand []string) error
}

var (
	registryMu sync.Mutex
	registry   = map[string]Query{}
)

// Register adds a query; it panics on a duplicate name or a Spec without
// Build, Hand or Format (a programming error, found at init).
func Register[R any](s Spec[R]) {
	if s.Name == "" || s.Build == nil || s.Hand == nil || s.Format == nil {
		panic(fmt.Sprintf("nexmark: incomplete query spec %q", s.Name))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[s.Name]; dup {
		panic("nexmark: query registered twice: " + s.Name)
	}
	registry[s.Name] = &spec[R]{s}
}

// Lookup returns the query named name ("q5").
func Lookup(name string) (Query, bool) {
	registryMu.Lock()
	defer registryMu.Unlock()
	q, ok := registry[name]
	return q, ok
}

// Queries returns every registered query in numeric order.
func Queries() []Query {
	registryMu.Lock()
	defer registryMu.Unlock()
	out := make([]Query, 0, len(registry))
	for _, q := range registry {
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return queryNumber(out[i].Name()) < queryNumber(out[j].Name()) })
	return out
}

// Names lists the registered query names in numeric order.
func Names() []string {
	var out []string
	for _, q := range Queries() {
		out = append(out, q.Name())
	}
	return out
}

func queryNumber(name string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "q"))
	if err != nil {
		return 1 << 30
	}
	return n
}

type spec[R any] struct{ s Spec[R] }

func (q *spec[R]) Name() string  { return q.s.Name }
func (q *spec[R]) Title() string { return q.s.Title }
func (q *spec[R]) Ordered() bool { return q.s.Ordered }
func (q *spec[R]) Upsert() bool  { return q.s.Key != nil }

// windowDue is when a result of the event-time window ending at end
// (exclusive) is due: when its last millisecond of events is released.
// The watermark then passes the end, since the source knows its next
// events are later (operators.TimeBounder).
func windowDue(end time.Time) int64 { return end.UnixNano() - int64(time.Millisecond) }

func (q *spec[R]) Exact() bool { return q.s.Key == nil && q.s.Compare == nil }
func (q *spec[R]) TestEvents() int64 {
	if q.s.TestEvents > 0 {
		return q.s.TestEvents
	}
	return 20_000
}

func (q *spec[R]) Attach(events stream.DataStream[Event], obs *Observer) {
	sink := observerSink[R]{obs: obs, due: q.s.Due, dueWall: q.s.DueWall}
	q.s.Build(events).SinkTo(sink)
}

func (q *spec[R]) Collect(events stream.DataStream[Event]) func() []string {
	var mu sync.Mutex
	var got []R
	q.s.Build(events).SinkTo(operators.SinkFunc[R](func(_ *operators.Context, b *operators.Batch[R]) error {
		mu.Lock()
		got = append(got, b.Values...)
		mu.Unlock()
		return nil
	}))
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return q.lines(got)
	}
}

func (q *spec[R]) HandLines(src *gen.Source, n int64) []string {
	var out []R
	q.s.Hand(src, n, func(r R) { out = append(out, r) })
	return q.lines(out)
}

func (q *spec[R]) Baseline(src *gen.Source, n int64) int64 {
	var count int64
	q.s.Hand(src, n, func(R) { count++ })
	return count
}

// lines formats results, keeps the last per key of an upsert query and
// sorts unless the query is Ordered.
func (q *spec[R]) lines(rs []R) []string {
	out := make([]string, 0, len(rs))
	if q.s.Key == nil {
		for _, r := range rs {
			out = append(out, q.s.Format(r))
		}
	} else {
		last := map[string]string{}
		for _, r := range rs {
			last[q.s.Key(r)] = q.s.Format(r)
		}
		for _, l := range last {
			out = append(out, l)
		}
		slices.Sort(out)
		return out
	}
	if !q.s.Ordered {
		slices.Sort(out)
	}
	return out
}

func (q *spec[R]) Compare(job, hand []string) error {
	if q.s.Compare != nil {
		return q.s.Compare(job, hand)
	}
	return EqualLines(job, hand)
}

// EqualLines returns nil if a and b are equal, or an error that says how
// many lines each has and where they first differ.
func EqualLines(job, hand []string) error {
	if slices.Equal(job, hand) {
		return nil
	}
	i := 0
	for i < min(len(job), len(hand)) && job[i] == hand[i] {
		i++
	}
	at := func(s []string) string {
		if i < len(s) {
			return s[i]
		}
		return "(end)"
	}
	return fmt.Errorf("job gave %d results, hand-written loop %d; first difference at %d:\n  job:  %s\n  hand: %s",
		len(job), len(hand), i, at(job), at(hand))
}
