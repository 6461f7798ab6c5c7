package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/timeapi"
	"github.com/weirstream/weir/windowing"
)

// Recovery of timers (issue 4). The job below keeps state and timers in
// three keyed operators: tumbling and session windows with allowed
// lateness, and a KeyedProcessFunc with event-time timers. Its output does
// not depend on timing or parallelism: one source split (so every keyed
// subtask sees records and watermarks in one order), batches of a fixed
// size, and event times whose disorder (< one batch) keeps the watermark
// sequence the same when a restored source starts over from a checkpoint
// (its watermark generator starts afresh, but the first batch's largest
// event time is the largest so far).

const (
	recBase     = int64(1_700_000_000_000) // event time of record 0, ms
	recKeys     = 40
	recDelay    = 50 * time.Millisecond  // bounded out-of-orderness
	recLateness = 300 * time.Millisecond // allowed lateness of both windows
	recBatch    = 1024                   // > the largest disorder (500 ms at 1 ms per record)
)

type recEv struct {
	Key, TS, V, ID int64
}

// splitmix64
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// recEvent is record i: one per ms of event time, 25% slightly out of
// order (within the watermark delay), 5% up to 500 ms late (within or
// beyond the allowed lateness). Every key pauses for 1.5 s now and then,
// so sessions close.
func recEvent(seed uint64, i int64) recEv {
	h := mix(seed ^ uint64(i)*0x2545f4914f6cdd1d)
	key := int64(h % recKeys)
	if (i/1500+key)%4 == 0 {
		key = (key + 7) % recKeys
	}
	ts := recBase + i
	switch r := (h >> 8) % 100; {
	case r < 5:
		ts -= int64((h >> 16) % 500)
	case r < 30:
		ts -= int64((h >> 16) % 40)
	}
	return recEv{Key: key, TS: ts, V: int64((h>>32)%10) + 1, ID: i}
}

// bucketTimers is the KeyedProcessFunc: a count and sum per key, flushed
// by an event-time timer at the end of each 250 ms bucket (moved 500 ms
// later, deleting the first, for values divisible by 7); records at or
// before the watermark are reported.
type bucketTimers struct {
	count, sum *stream.ValueState[int64, int64]
}

func (b *bucketTimers) Open(ctx *stream.OpenContext[int64]) (err error) {
	if b.count, err = stream.NewValueState[int64](ctx, "count"); err != nil {
		return err
	}
	b.sum, err = stream.NewValueState[int64](ctx, "sum")
	return err
}

func (b *bucketTimers) ProcessElement(ctx *stream.Context[int64, string], e recEv) error {
	if !ctx.Timestamp().After(ctx.Watermark()) {
		ctx.Emit(fmt.Sprintf("L,%d,%d,%d", e.Key, e.ID, ctx.Watermark().UnixMilli()-recBase))
	}
	n, _ := b.count.Value()
	s, _ := b.sum.Value()
	b.count.Update(n + 1)
	b.sum.Update(s + e.V)
	end := (e.TS/250 + 1) * 250
	ctx.RegisterEventTimeTimer(time.UnixMilli(end))
	if e.V%7 == 0 {
		ctx.DeleteEventTimeTimer(time.UnixMilli(end))
		ctx.RegisterEventTimeTimer(time.UnixMilli(end + 500))
	}
	return nil
}

func (b *bucketTimers) OnTimer(ctx *stream.Context[int64, string], tm stream.Timer) error {
	n, _ := b.count.Value()
	s, _ := b.sum.Value()
	ctx.Emit(fmt.Sprintf("P,%d,%d,%d,%d", ctx.Key(), tm.Time.UnixMilli()-recBase, n, s))
	b.count.Clear()
	b.sum.Clear()
	return nil
}

func windowLine(tag string) func(windowing.Result[int64, int64]) string {
	return func(r windowing.Result[int64, int64]) string {
		return fmt.Sprintf("%s,%s,%d,%d,%d,%d", tag, r.Kind, r.Key,
			r.Window.Start.UnixMilli()-recBase, r.Window.End.UnixMilli()-recBase, r.Value)
	}
}

// recoveryJob builds the job over events; throttle slows the source down
// (in its timestamp extractor: the slice source has no function of its
// own) so that runs can be canceled mid-way. A slice is one split, where a
// generator would have one per subtask of the job.
func recoveryJob(events []recEv, throttle bool, out string) *stream.Job {
	job := stream.NewJob("recovery")
	ts := func(e recEv) time.Time {
		if throttle && e.ID%100 == 0 {
			time.Sleep(time.Millisecond)
		}
		return time.UnixMilli(e.TS)
	}
	src := stream.FromSlice(job, "events", events).WithWatermarks(timeapi.BoundedOutOfOrder(ts, recDelay))
	key := func(e recEv) int64 { return e.Key }
	sum := stream.Sum(func(e recEv) int64 { return e.V })
	tumbling := src.KeyBy(key).Window(windowing.Tumbling(time.Second)).AllowedLateness(recLateness).
		Aggregate(sum).Map(windowLine("T"))
	sessions := src.KeyBy(key).Window(windowing.Session(200 * time.Millisecond)).AllowedLateness(recLateness).
		Aggregate(sum).Map(windowLine("S"))
	timers := src.KeyBy(key).Process(stream.KeyedProcessFunc[int64, recEv, string](&bucketTimers{}))
	tumbling.Union(sessions, timers).
		SinkTo(file.NewSink(out, file.Lines(func(s string) string { return s }), file.Options{}))
	return job
}

// TestRecoveryMetamorphic: the committed output of the job is the same
// whether it runs uninterrupted, or is canceled after a few checkpoints
// and restored, three times in a row, at the same or at other
// parallelisms.
func TestRecoveryMetamorphic(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 6))
	events := make([]recEv, 60_000)
	for i := range events {
		events[i] = recEvent(seed, int64(i))
	}
	refDir := t.TempDir()
	if err := runtime.Run(context.Background(), recoveryJob(events, false, refDir), runtime.Parallelism(2), runtime.BatchSize(recBatch)); err != nil {
		t.Fatal(err)
	}
	want := committed(t, refDir)
	checkCoverage(t, want)
	for _, ps := range [][]int{{2, 2, 2, 2}, {2, 3, 1, 2}} {
		ckDir, outDir := t.TempDir(), t.TempDir()
		restores := 0
		for i, p := range ps {
			last := i == len(ps)-1
			ok := runUntil(t, recoveryJob(events, true, outDir), p, ckDir, last, rng)
			if !ok {
				t.Fatalf("parallelism %v: run %d ended before it could be canceled (make the job slower?)", ps, i)
			}
			if !last {
				restores++
			}
		}
		got := committed(t, outDir)
		if !slices.Equal(got, want) {
			diff(t, got, want)
			t.Fatalf("parallelism %v, %d restores: got %d lines, want %d", ps, restores, len(got), len(want))
		}
		t.Logf("parallelism %v: %d restores, %d lines as uninterrupted", ps, restores, len(got))
	}
}

// runUntil runs job from the latest checkpoint in ckDir. Unless it is the
// last run, it is canceled once it has taken two checkpoints of its own,
// plus a random moment, so that records after the last checkpoint are
// replayed; it reports false if the job ended first.
func runUntil(t *testing.T, job *stream.Job, p int, ckDir string, last bool, rng *rand.Rand) bool {
	t.Helper()
	ctl := runtime.NewController()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- runtime.Run(ctx, job, runtime.Parallelism(p), runtime.BatchSize(recBatch),
			runtime.Checkpointing(ckDir, 15*time.Millisecond), runtime.WithController(ctl))
	}()
	if last {
		if err := <-errc; err != nil {
			t.Fatalf("final run at parallelism %d: %v", p, err)
		}
		return true
	}
	extra := time.Duration(rng.IntN(15)) * time.Millisecond
	for taken := 0; taken < 2; {
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("run at parallelism %d: %v", p, err)
			}
			return false
		default:
		}
		if _, err := ctl.TriggerCheckpoint(ctx); err != nil {
			time.Sleep(time.Millisecond) // not running yet (or finished: errc tells)
			continue
		}
		taken++
	}
	time.Sleep(extra)
	cancel()
	err := <-errc
	if err == nil {
		return false
	}
	if !errors.Is(err, runtime.ErrCanceled) {
		t.Fatalf("run at parallelism %d: got %v, want it canceled", p, err)
	}
	return true
}

// checkCoverage fails unless the reference output exercises what the test
// is about: windows of both kinds, late updates, merged sessions, timers
// and late records.
func checkCoverage(t *testing.T, lines []string) {
	t.Helper()
	count := map[string]int{}
	for _, l := range lines {
		f := strings.Split(l, ",")
		count[f[0]]++
		if f[0] == "T" || f[0] == "S" {
			count[f[0]+f[1]]++
		}
	}
	t.Logf("reference output: %d lines %v", len(lines), count)
	for _, k := range []string{"T+I", "T-U", "T+U", "S+I", "S-D", "P", "L"} {
		if count[k] == 0 {
			t.Errorf("the reference output has no %q lines: the test does not test it", k)
		}
	}
}
