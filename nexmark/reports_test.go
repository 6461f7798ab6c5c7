package nexmark_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/internal/testseed"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

// Helpers of the report queries' tests (q15, q16, q17).

// multiDayOptions are events at one event per second of event time, from
// 22:00 on 2025-12-31 to 01:46 on 2026-01-02: a short day, a whole one and
// another short one (the generic tests see one day only, at 10 000
// events/s).
func multiDayOptions(seed uint64) nexmark.Options {
	return nexmark.Options{Seed: seed, Events: 100_000, Rate: 1, BaseTime: time.Date(2025, 12, 31, 22, 0, 0, 0, time.UTC)}
}

var multiDays = []string{"2025-12-31", "2026-01-01", "2026-01-02"}

var dayRE = regexp.MustCompile(`day=(\d{4}-\d\d-\d\d)`)

// days lists the distinct days of report lines.
func days(lines []string) []string {
	var out []string
	for _, l := range lines {
		if m := dayRE.FindStringSubmatch(l); m != nil && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// testMultiDay runs the query on multiDayOptions, at parallelism 1 and a
// random one of 2 to 4, and compares the results with the hand loop.
func testMultiDay(t *testing.T, name string) []string {
	q, ok := nexmark.Lookup(name)
	if !ok {
		t.Fatalf("%s not registered", name)
	}
	seed := testseed.Seed(t)
	opts := multiDayOptions(seed)
	src, err := gen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	want := q.HandLines(src, opts.Events)
	if d := days(want); !slices.Equal(d, multiDays) {
		t.Fatalf("the hand loop's rows cover days %v, want three", d)
	}
	for _, p := range []int{1, 2 + rand.New(rand.NewPCG(seed, 9)).IntN(3)} {
		got := runQuery(t, q, opts, p)
		if err := q.Compare(got, want); err != nil {
			t.Fatalf("p=%d: %v", p, err)
		}
	}
	return want
}

// testCheckpointRestore runs build on multiDayOptions into an exactly-once
// file sink with checkpoints, crashes the job
// once the first day's rows are committed (the next days are then half
// counted, in window state), restores it at another parallelism, and
// compares the committed rows with those of a run without crash. The
// rows are formatted by format.
func testCheckpointRestore[R any](t *testing.T, build func(stream.DataStream[nexmark.Event]) stream.DataStream[R], format func(R) string) {
	opts := multiDayOptions(15)
	job := func(out string, slow bool) *stream.Job {
		job := stream.NewJob("report-ckpt")
		events, err := nexmark.Events(job, opts)
		if err != nil {
			t.Fatal(err)
		}
		events = events.Filter(func(e nexmark.Event) bool {
			if slow && e.Kind == gen.KindPerson && e.Person.ID%4 == 0 {
				time.Sleep(time.Millisecond)
			}
			return true
		})
		build(events).SinkTo(file.NewSink(out, file.Lines(format), file.Options{}))
		return job
	}
	refDir := t.TempDir()
	if err := runtime.Run(context.Background(), job(refDir, false), runtime.Parallelism(1)); err != nil {
		t.Fatal(err)
	}
	want, err := file.ReadCommitted(refDir)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	ckDir, outDir := t.TempDir(), t.TempDir()
	nexmark.CrashRun(t, job(outDir, true), 2, ckDir, 20*time.Millisecond, nexmark.HasCommitted(outDir))
	before := nexmark.Committed(t, outDir)
	if len(before) == 0 || len(before) >= len(want) {
		t.Fatalf("%d of %d rows committed before the crash; want a partial output", len(before), len(want))
	}
	got := nexmark.RestoreRun(t, job(outDir, false), 3, ckDir, 20*time.Millisecond, outDir)
	if !slices.Equal(got, want) {
		t.Errorf("%d rows after restore, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
	t.Logf("%d of %d rows committed before the crash", len(before), len(want))
}

func plusV[R any](r R) string { return fmt.Sprintf("%+v", r) }
