package wal_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/wal"
)

func TestRoundTripAcrossSegments(t *testing.T) {
	for _, policy := range []wal.SyncPolicy{wal.SyncNever, wal.SyncEachBatch, wal.SyncInterval(time.Millisecond)} {
		t.Run(policy.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := wal.Options{SegmentSize: 1024, Sync: policy}
			l := openLog(t, dir, o)
			size := func(seq uint64) int { return int(seq % 97) } // includes empty payloads
			want := appendRecords(t, l, nil, 300, 7, size)
			want = appendRecords(t, l, want, 5, 1, size)
			want = appendRecords(t, l, want, 40, 40, size) // a batch larger than a segment
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			checkRecords(t, readAll(t, l, 0), 1, want)
			checkRecords(t, readAll(t, l, 123), 123, want)
			if l.LastSeq() != uint64(len(want)) || l.FirstSeq() != 1 {
				t.Fatalf("FirstSeq %d LastSeq %d, want 1 %d", l.FirstSeq(), l.LastSeq(), len(want))
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			segs := segments(t, dir)
			if len(segs) < 10 {
				t.Fatalf("%d segments, want many", len(segs))
			}
			if got := filepath.Base(segs[0]); got != "0000000000000001.wal" {
				t.Fatalf("first segment %s", got)
			}
			// Reopen: records survive and numbering goes on.
			l = openLog(t, dir, o)
			defer l.Close()
			if l.Repair() != nil {
				t.Fatalf("unexpected repair %+v", l.Repair())
			}
			want = appendRecords(t, l, want, 10, 3, size)
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			checkRecords(t, readAll(t, l, 0), 1, want)
		})
	}
}

func TestSegmentNamesAreFirstSeq(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, wal.Options{SegmentSize: 200, Sync: wal.SyncNever})
	appendRecords(t, l, nil, 50, 3, func(uint64) int { return 20 })
	l.Close()
	for _, seg := range segments(t, dir) {
		base := filepath.Base(seg)
		var first uint64
		if _, err := fmtSscanf(base, &first); err != nil {
			t.Fatalf("segment name %s: %v", base, err)
		}
		// The first record of the segment has sequence number first: a
		// reader from first starts in this segment.
		l = openLog(t, dir, wal.Options{Sync: wal.SyncNever})
		recs := readAll(t, l, first)
		l.Close()
		if len(recs) == 0 || recs[0].Seq != first {
			t.Fatalf("segment %s: first record read %v", base, recs[:min(1, len(recs))])
		}
	}
}

func TestNewReaderBounds(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, wal.Options{SegmentSize: 100, Sync: wal.SyncNever})
	defer l.Close()
	if _, err := l.NewReader(2); !errors.Is(err, wal.ErrBeyondEnd) {
		t.Fatalf("reader past the end of an empty log: %v", err)
	}
	r, err := l.NewReader(1) // the next record: fine, waits for it
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok, err := r.TryNext(); ok || err != nil {
		t.Fatalf("TryNext on an empty log: %v %v", ok, err)
	}
	want := appendRecords(t, l, nil, 30, 1, func(uint64) int { return 30 })
	if rec := nextRecord(t, r); rec.Seq != 1 || string(rec.Payload) != string(want[0]) {
		t.Fatalf("first record %d %x", rec.Seq, rec.Payload)
	}
	if err := l.TruncateBefore(20); err != nil {
		t.Fatal(err)
	}
	first := l.FirstSeq()
	if first <= 1 || first > 20 {
		t.Fatalf("FirstSeq after TruncateBefore(20) = %d", first)
	}
	if _, err := l.NewReader(first - 1); !errors.Is(err, wal.ErrTruncated) {
		t.Fatalf("reader before the first record: %v", err)
	}
	checkRecords(t, readAll(t, l, 0), first, want)
}

func TestTruncateBefore(t *testing.T) {
	dir := t.TempDir()
	// 100-byte segments with 2 records of 30 bytes (38 framed) each:
	// records 2k+1, 2k+2 share segment k.
	l := openLog(t, dir, wal.Options{SegmentSize: 100, Sync: wal.SyncEachBatch})
	defer l.Close()
	want := appendRecords(t, l, nil, 10, 1, func(uint64) int { return 30 })
	names := func() []string {
		var out []string
		for _, s := range segments(t, dir) {
			out = append(out, filepath.Base(s)[12:16])
		}
		return out
	}
	if got := names(); !equal(got, []string{"0001", "0003", "0005", "0007", "0009"}) {
		t.Fatalf("segments %v", got)
	}
	r, err := l.NewReader(1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tc := range []struct {
		before uint64
		want   []string
	}{
		{1, []string{"0001", "0003", "0005", "0007", "0009"}},
		{2, []string{"0001", "0003", "0005", "0007", "0009"}}, // record 2 still needed
		{3, []string{"0003", "0005", "0007", "0009"}},
		{6, []string{"0005", "0007", "0009"}},
		{100, []string{"0009"}}, // the active segment stays
	} {
		if err := l.TruncateBefore(tc.before); err != nil {
			t.Fatal(err)
		}
		if got := names(); !equal(got, tc.want) {
			t.Fatalf("TruncateBefore(%d): segments %v, want %v", tc.before, got, tc.want)
		}
	}
	if l.FirstSeq() != 9 {
		t.Fatalf("FirstSeq %d", l.FirstSeq())
	}
	checkRecords(t, readAll(t, l, 0), 9, want)
	// A reader still at record 1 finds its records gone.
	if _, _, err := r.TryNext(); !errors.Is(err, wal.ErrTruncated) {
		t.Fatalf("reader of truncated records: %v", err)
	}
	// Appending goes on after truncation, and a reopen sees the same.
	want = appendRecords(t, l, want, 3, 1, func(uint64) int { return 30 })
	l.Close()
	l = openLog(t, dir, wal.Options{SegmentSize: 100, Sync: wal.SyncEachBatch})
	defer l.Close()
	checkRecords(t, readAll(t, l, 0), 9, want)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestConcurrentAppendRead runs appenders and readers at once (run with
// -race): every reader sees every record once, in order, including those
// appended after it was created.
func TestConcurrentAppendRead(t *testing.T) {
	for _, policy := range []wal.SyncPolicy{wal.SyncNever, wal.SyncEachBatch, wal.SyncInterval(200 * time.Microsecond)} {
		t.Run(policy.String(), func(t *testing.T) {
			l := openLog(t, t.TempDir(), wal.Options{SegmentSize: 4096, Sync: policy})
			defer l.Close()
			const writers, batches, batch = 4, 50, 5
			total := uint64(writers * batches * batch)
			var readers sync.WaitGroup
			errs := make(chan error, 8)
			for range 3 {
				r, err := l.NewReader(0)
				if err != nil {
					t.Fatal(err)
				}
				readers.Add(1)
				go func() {
					defer readers.Done()
					defer r.Close()
					errs <- readConcurrent(r, total, writers)
				}()
			}
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range batches {
						var ps [][]byte
						for j := range batch {
							ps = append(ps, []byte(name("w%d-%d", w, i*batch+j)))
						}
						if _, err := l.Append(ps...); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			readers.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// readConcurrent reads total records and checks each writer's records
// arrive in its order.
func readConcurrent(r *wal.Reader, total uint64, writers int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	next := make([]int, writers)
	for seq := uint64(1); seq <= total; seq++ {
		rec, err := r.Next(ctx)
		if err != nil {
			return err
		}
		if rec.Seq != seq {
			return errors.New(name("got seq %d, want %d", rec.Seq, seq))
		}
		var w, i int
		if _, err := fmtSscanfPayload(string(rec.Payload), &w, &i); err != nil || i != next[w] {
			return errors.New(name("record %d: payload %q, writer %d expected %d", seq, rec.Payload, w, next[w]))
		}
		next[w]++
	}
	return nil
}

func TestNextWaitsAndEndsOnClose(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{Sync: wal.SyncInterval(time.Millisecond)})
	r, err := l.NewReader(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on an empty log: %v", err)
	}
	go func() {
		time.Sleep(5 * time.Millisecond)
		l.Append([]byte("late"))
	}()
	if rec := nextRecord(t, r); string(rec.Payload) != "late" {
		t.Fatalf("got %q", rec.Payload)
	}
	done := make(chan error)
	go func() {
		_, err := r.Next(context.Background())
		done <- err
	}()
	time.Sleep(5 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, wal.ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if _, err := l.Append([]byte("x")); !errors.Is(err, wal.ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestSyncIntervalVisibility: with SyncInterval, records become visible
// to readers when the background flusher has synced them.
func TestSyncIntervalVisibility(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{Sync: wal.SyncInterval(time.Hour)})
	defer l.Close()
	r, _ := l.NewReader(0)
	defer r.Close()
	if _, err := l.Append([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r.TryNext(); ok {
		t.Fatal("record visible before it was synced")
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if rec, ok, err := r.TryNext(); !ok || err != nil || string(rec.Payload) != "a" {
		t.Fatalf("after Sync: %v %v %q", ok, err, rec.Payload)
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, wal.Options{})
	defer l.Close()
	if _, err := wal.Open(dir, wal.Options{}); !errors.Is(err, wal.ErrLocked) {
		t.Fatalf("second Open: %v", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	if _, err := wal.Open(t.TempDir(), wal.Options{SegmentSize: 10}); err == nil {
		t.Fatal("tiny segment size accepted")
	}
	if _, err := wal.Open(t.TempDir(), wal.Options{Sync: -5}); err == nil {
		t.Fatal("bad sync policy accepted")
	}
	if wal.SyncInterval(0) != wal.SyncEachBatch || wal.SyncInterval(time.Second).Interval() != time.Second {
		t.Fatal("SyncInterval")
	}
}

func TestEmptyAppend(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{})
	defer l.Close()
	if last, err := l.Append(); last != 0 || err != nil {
		t.Fatalf("empty Append: %d %v", last, err)
	}
	if last, err := l.Append([]byte{}); last != 1 || err != nil {
		t.Fatalf("Append of an empty payload: %d %v", last, err)
	}
	if last, err := l.Append(); last != 1 || err != nil {
		t.Fatalf("empty Append: %d %v", last, err)
	}
}
