package nexmark_test

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/file"
	gen "github.com/weirstream/weir/connectors/nexmark"
	"github.com/weirstream/weir/nexmark"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
)

// q10Options span about 17 minutes of event time across a midnight: two
// dates and many hour:minute partitions.
func q10Options() nexmark.Options {
	return nexmark.Options{Seed: 10, Events: 60_000, Rate: 60,
		BaseTime: time.Date(2025, 12, 31, 23, 52, 30, 0, time.UTC)}
}

// q10Want is the hand loop's rows as the committed lines per partition.
func q10Want(t *testing.T, opts nexmark.Options) map[string][]string {
	t.Helper()
	src, err := gen.NewSource(opts)
	if err != nil {
		t.Fatal(err)
	}
	// an independent computation of the rows (time.Format per bid)
	want := map[string][]string{}
	format, part := nexmark.Q10Format(), nexmark.Q10Partitioning()
	var e nexmark.Event
	labels := map[int64][2]string{}
	for i := range opts.Events {
		src.Fill(i, &e)
		if e.Kind != gen.KindBid {
			continue
		}
		b := e.Bid
		minute := b.DateTime.Unix() / 60
		l, ok := labels[minute]
		if !ok {
			l = [2]string{b.DateTime.UTC().Format("2006-01-02"), b.DateTime.UTC().Format("15:04")}
			labels[minute] = l
		}
		r := nexmark.Q10Result{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Extra: b.Extra, DT: l[0], HM: l[1]}
		line, err := format.Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		p := part.Path(part.Key(r))
		want[p] = append(want[p], strings.TrimSuffix(string(line), "\n"))
	}
	for _, ls := range want {
		slices.Sort(ls)
	}
	return want
}

func committedPartitions(t *testing.T, dir string) map[string][]string {
	t.Helper()
	got, err := file.ReadCommittedPartitions(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ls := range got {
		slices.Sort(ls)
	}
	return got
}

func checkPartitions(t *testing.T, got, want map[string][]string) {
	t.Helper()
	if maps.EqualFunc(got, want, slices.Equal) {
		return
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if !slices.Equal(got[p], want[p]) {
			t.Errorf("partition %s: %d lines, want %d; first difference at %d", p, len(got[p]), len(want[p]), firstDiff(got[p], want[p]))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected partition %s (%d lines)", p, len(got[p]))
		}
	}
}

// noHiddenFiles checks that no in-progress or pending file is left.
func noHiddenFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			t.Errorf("left %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// q10Job writes Q10 to dir, slowed down by a filter that sleeps 1ms at
// every 5th person when slow is set.
func q10Job(t *testing.T, opts nexmark.Options, dir string, slow bool) *stream.Job {
	job := stream.NewJob("q10-files")
	events, err := nexmark.Events(job, opts)
	if err != nil {
		t.Fatal(err)
	}
	events = events.Filter(func(e nexmark.Event) bool {
		if slow && e.Kind == gen.KindPerson && e.Person.ID%5 == 0 {
			time.Sleep(time.Millisecond)
		}
		return true
	})
	nexmark.Q10ToFiles(events, dir, file.Options{})
	return job
}

// TestQ10ToFiles writes Q10 into partitioned files without checkpoints at
// parallelism 3: the final transaction is committed at the end.
func TestQ10ToFiles(t *testing.T) {
	opts := q10Options()
	want := q10Want(t, opts)
	if len(want) < 10 || !hasPrefixKey(want, "dt=2025-12-31/") || !hasPrefixKey(want, "dt=2026-01-01/") {
		t.Fatalf("the test data should span many minutes and two dates: %v", slices.Sorted(maps.Keys(want)))
	}
	dir := t.TempDir()
	if err := runtime.Run(context.Background(), q10Job(t, opts, dir, false), runtime.Parallelism(3)); err != nil {
		t.Fatal(err)
	}
	checkPartitions(t, committedPartitions(t, dir), want)
	noHiddenFiles(t, dir)
}

func hasPrefixKey(m map[string][]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// TestQ10ToFilesCheckpointRestore runs Q10 into partitioned files with
// checkpoints, crashes it once some partitions are committed, and restores
// it at another parallelism: every partition then holds exactly the hand
// loop's rows, none lost, none twice.
func TestQ10ToFilesCheckpointRestore(t *testing.T) {
	opts := q10Options()
	want := q10Want(t, opts)
	for _, ps := range [][2]int{{2, 1}, {1, 3}} {
		ckDir, outDir := t.TempDir(), t.TempDir()
		nexmark.CrashRun(t, q10Job(t, opts, outDir, true), ps[0], ckDir, 20*time.Millisecond, func() bool {
			parts, _ := file.ReadCommittedPartitions(outDir)
			return len(parts) >= 2
		})
		before := committedPartitions(t, outDir)
		if n := lineCount(before); n == 0 || n >= lineCount(want) {
			t.Fatalf("p %d: %d of %d lines committed before the crash; want a partial output", ps[0], n, lineCount(want))
		}
		// what was committed is final: every committed line is wanted
		for p, ls := range before {
			for _, l := range ls {
				if _, ok := slices.BinarySearch(want[p], l); !ok {
					t.Fatalf("partition %s: committed line %q is not in the hand loop's output", p, l)
				}
			}
		}
		if err := runtime.Run(context.Background(), q10Job(t, opts, outDir, false), runtime.Parallelism(ps[1]), runtime.Checkpointing(ckDir, 20*time.Millisecond)); err != nil {
			t.Fatalf("p %d->%d: restore run: %v", ps[0], ps[1], err)
		}
		checkPartitions(t, committedPartitions(t, outDir), want)
		noHiddenFiles(t, outDir)
		t.Logf("p %d->%d: %d partitions, %d of %d lines committed before the crash", ps[0], ps[1], len(want), lineCount(before), lineCount(want))
	}
}

func lineCount(m map[string][]string) int {
	n := 0
	for _, ls := range m {
		n += len(ls)
	}
	return n
}

// TestQ10Labels checks the date and hour:minute strings across minutes,
// hours and days.
func TestQ10Labels(t *testing.T) {
	q, _ := nexmark.Lookup("q10")
	times := []time.Time{
		time.Date(2025, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 9, 5, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 9, 5, 59, 0, time.UTC),
		time.Date(2026, 1, 1, 13, 45, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 13, 45, 0, 0, time.FixedZone("x", 3600)), // 12:45 UTC
		time.Date(1969, 12, 31, 23, 58, 30, 0, time.UTC),               // before the epoch
	}
	var events []nexmark.Event
	var want []string
	for i, tm := range times {
		events = append(events, nexmark.Event{Kind: gen.KindBid, Bid: nexmark.Bid{Auction: int64(i), DateTime: tm}})
		want = append(want, fmt.Sprintf("dt=%s hm=%s auction=%d", tm.UTC().Format("2006-01-02"), tm.UTC().Format("15:04"), i))
	}
	job := stream.NewJob("q10-labels")
	lines := q.Collect(stream.FromSlice(job, "events", events))
	if err := runtime.Run(context.Background(), job, runtime.Parallelism(2)); err != nil {
		t.Fatal(err)
	}
	got := lines()
	for i, l := range got {
		got[i] = l[:strings.Index(l, " bidder=")]
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("labels:\ngot  %q\nwant %q", got, want)
	}
}
