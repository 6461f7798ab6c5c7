package wal_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/wal"
	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

type event struct {
	ID   int
	Name string
}

// pushAll pushes events 0..n-1 in batches of varying size from a
// goroutine, then ends the input.
func pushAll(t *testing.T, src *wal.Source[event], n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		for i := 0; i < n; {
			k := min(1+i%7, n-i)
			var vs []event
			for j := i; j < i+k; j++ {
				vs = append(vs, event{ID: j, Name: name("e%d", j)})
			}
			if err := src.Push(vs...); err != nil {
				done <- err
				return
			}
			i += k
		}
		done <- src.EndInput()
	}()
	return done
}

func checkExactlyOnce(t *testing.T, got []event, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d values, want %d", len(got), n)
	}
	slices.SortFunc(got, func(a, b event) int { return a.ID - b.ID })
	for i, e := range got {
		if e.ID != i || e.Name != name("e%d", i) {
			t.Fatalf("value %d is %+v", i, e)
		}
	}
}

func TestSourceJob(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codec wal.Codec[event]
		sync  wal.SyncPolicy
		opts  []runtime.Option
		run   func(runtime.Job, ...runtime.Option) error
	}{
		{"stepped-gob-each-batch", wal.GobCodec[event](), wal.SyncEachBatch, nil, testkit.RunErr},
		{"stepped-json-interval", wal.JSONCodec[event](), wal.SyncInterval(time.Millisecond), []runtime.Option{runtime.BatchSize(16)}, testkit.RunErr},
		{"threaded-json-never", wal.JSONCodec[event](), wal.SyncNever, []runtime.Option{runtime.Parallelism(2), runtime.Pinning(false)}, runThreaded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 2000
			l := openLog(t, t.TempDir(), wal.Options{SegmentSize: 8 << 10, Sync: tc.sync})
			defer l.Close()
			src := wal.NewSource(l, tc.codec)
			job := stream.NewJob("wal")
			c := testkit.Collect(stream.FromSource(job, "wal", src).
				Map(func(e event) event { e.Name = strings.ToUpper(e.Name); return e }))
			pushed := pushAll(t, src, n)
			if err := tc.run(job, tc.opts...); err != nil {
				t.Fatalf("job: %v", err)
			}
			if err := <-pushed; err != nil {
				t.Fatalf("push: %v", err)
			}
			got := c.Values()
			if !slices.IsSortedFunc(got, func(a, b event) int { return a.ID - b.ID }) {
				t.Fatal("values out of order")
			}
			for i := range got {
				got[i].Name = strings.ToLower(got[i].Name)
			}
			checkExactlyOnce(t, got, n)
		})
	}
}

func runThreaded(job runtime.Job, opts ...runtime.Option) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return runtime.Run(ctx, job, opts...)
}

// openReader opens the source's one split at pos.
func openReader(t *testing.T, src *wal.Source[event], pos []byte) operators.Reader[event] {
	t.Helper()
	splits, err := src.Splits(4)
	if err != nil || len(splits) != 1 {
		t.Fatalf("Splits: %v %v", splits, err)
	}
	r, err := src.Open(&operators.Context{}, splits[0], pos)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

// read reads up to max values.
func read(t *testing.T, r operators.Reader[event], max int) ([]event, error) {
	t.Helper()
	b := operators.NewBatch[event](max)
	err := r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("Read: %v", err)
	}
	return b.Values, err
}

func TestSourceRestoreFromPosition(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, wal.Options{SegmentSize: 512})
	src := wal.NewSource(l, wal.GobCodec[event]())
	for i := range 50 {
		if err := src.Push(event{ID: i}); err != nil {
			t.Fatal(err)
		}
	}
	r := openReader(t, src, nil)
	vs, _ := read(t, r, 17)
	if len(vs) != 17 || vs[16].ID != 16 {
		t.Fatalf("read %v", vs)
	}
	pos, err := r.Position()
	if err != nil {
		t.Fatal(err)
	}
	read(t, r, 5) // read on past the position: those are replayed
	r.Close()
	l.Close()

	// A new process: the log reopened, the reader restored at pos.
	l = openLog(t, dir, wal.Options{SegmentSize: 512})
	defer l.Close()
	src = wal.NewSource(l, wal.GobCodec[event]())
	r = openReader(t, src, pos)
	defer r.Close()
	if err := src.Push(event{ID: 50}); err != nil {
		t.Fatal(err)
	}
	if err := src.EndInput(); err != nil {
		t.Fatal(err)
	}
	var got []event
	for {
		vs, err := read(t, r, 8)
		got = append(got, vs...)
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if len(got) != 34 || got[0].ID != 17 || got[33].ID != 50 {
		t.Fatalf("restored reader read %d values from %v", len(got), got[:1])
	}
	if err := src.Push(event{}); !errors.Is(err, wal.ErrEnded) {
		t.Fatalf("Push after EndInput: %v", err)
	}
}

func TestSourceBadPosition(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{SegmentSize: 100})
	defer l.Close()
	src := wal.NewSource(l, wal.JSONCodec[event]())
	splits, _ := src.Splits(1)
	for _, pos := range [][]byte{{}, {1, 2, 3}, {9, 0, 0, 0, 0, 0, 0, 0, 1}} {
		if _, err := src.Open(&operators.Context{}, splits[0], pos); !errors.Is(err, operators.ErrBadPosition) {
			t.Fatalf("position %v: %v", pos, err)
		}
	}
	// A position past the end: records were lost (another log?).
	if _, err := src.Open(&operators.Context{}, splits[0], []byte{1, 0, 0, 0, 0, 0, 0, 0, 9}); !errors.Is(err, wal.ErrBeyondEnd) {
		t.Fatalf("position past the end: %v", err)
	}
}

// TestSourceCheckpointTruncates: completing a checkpoint deletes the
// segments before the position taken at its barrier, and no record a
// restore from it needs.
func TestSourceCheckpointTruncates(t *testing.T) {
	dir := t.TempDir()
	// ~60-byte JSON records, 200-byte segments: 2 records per segment.
	l := openLog(t, dir, wal.Options{SegmentSize: 200, Sync: wal.SyncNever})
	defer l.Close()
	src := wal.NewSource(l, wal.JSONCodec[event]())
	for i := range 40 {
		if err := src.Push(event{ID: i, Name: "some padding to fill"}); err != nil {
			t.Fatal(err)
		}
	}
	r := openReader(t, src, nil)
	defer r.Close()
	listener, ok := r.(operators.CheckpointListener)
	if !ok {
		t.Fatal("reader is not a CheckpointListener")
	}
	read(t, r, 10)
	pos1, _ := r.Position() // barrier of checkpoint 7: next record 11
	read(t, r, 10)
	pos2, _ := r.Position() // barrier of checkpoint 8: next record 21
	if err := listener.CheckpointComplete(7); err != nil {
		t.Fatal(err)
	}
	if first := l.FirstSeq(); first > 11 || first < 9 {
		t.Fatalf("after checkpoint 7 the log starts at %d, want 9..11", first)
	}
	restoreCheck(t, src, pos1, 11)
	if err := listener.CheckpointComplete(8); err != nil {
		t.Fatal(err)
	}
	if first := l.FirstSeq(); first > 21 || first < 19 {
		t.Fatalf("after checkpoint 8 the log starts at %d, want 19..21", first)
	}
	restoreCheck(t, src, pos2, 21)
	// More completions than barriers (a checkpoint this reader took no
	// position for) never truncate past the last position handed out.
	for id := int64(9); id < 12; id++ {
		listener.CheckpointComplete(id)
	}
	if first := l.FirstSeq(); first > 21 {
		t.Fatalf("log starts at %d, past the last position taken", first)
	}
}

// restoreCheck opens a reader at pos and checks its first value.
func restoreCheck(t *testing.T, src *wal.Source[event], pos []byte, wantSeq int) {
	t.Helper()
	r := openReader(t, src, pos)
	defer r.Close()
	vs, _ := read(t, r, 1)
	if len(vs) != 1 || vs[0].ID != wantSeq-1 {
		t.Fatalf("restored at %v read %v, want ID %d", pos, vs, wantSeq-1)
	}
}

// TestSourceCheckpointSkippedCompletion: a failed checkpoint (its barrier
// took a position, its completion never comes) makes truncation lag, not
// overshoot.
func TestSourceCheckpointSkippedCompletion(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{SegmentSize: 200, Sync: wal.SyncNever})
	defer l.Close()
	src := wal.NewSource(l, wal.JSONCodec[event]())
	for i := range 40 {
		src.Push(event{ID: i, Name: "some padding to fill"})
	}
	r := openReader(t, src, nil)
	defer r.Close()
	listener := r.(operators.CheckpointListener)
	var pos [][]byte
	for range 3 { // barriers 1, 2 (fails), 3
		read(t, r, 10)
		p, _ := r.Position()
		pos = append(pos, p)
	}
	listener.CheckpointComplete(3) // counted as the first: truncates at barrier 1's position
	if first := l.FirstSeq(); first > 11 {
		t.Fatalf("log starts at %d", first)
	}
	restoreCheck(t, src, pos[2], 31)
}

func TestSourcePushDurable(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, wal.Options{})
	src := wal.NewSource(l, wal.GobCodec[event]())
	for i := range 10 {
		if err := src.Push(event{ID: i}); err != nil {
			t.Fatal(err)
		}
	}
	// Close syncs nothing here (every Push was synced already); it only
	// releases the directory lock for the "next process". See
	// TestKilledProcessLosesNothing for a real kill.
	l.Close()
	l = openLog(t, dir, wal.Options{})
	defer l.Close()
	src = wal.NewSource(l, wal.GobCodec[event]())
	r := openReader(t, src, nil)
	defer r.Close()
	src.EndInput()
	vs, err := read(t, r, 100)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Read: %v", err)
	}
	checkExactlyOnceIDs(t, vs, 10)
}

func checkExactlyOnceIDs(t *testing.T, vs []event, n int) {
	t.Helper()
	if len(vs) != n {
		t.Fatalf("%d values, want %d", len(vs), n)
	}
	for i, v := range vs {
		if v.ID != i {
			t.Fatalf("value %d: %+v", i, v)
		}
	}
}

func TestSourceEncodeError(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{})
	defer l.Close()
	src := wal.NewSource(l, wal.JSONCodec[any]())
	if err := src.Push(1, func() {}); err == nil {
		t.Fatal("Push of a func encoded")
	}
	if l.LastSeq() != 0 {
		t.Fatalf("a failed Push appended %d records", l.LastSeq())
	}
	if err := src.Push(1, "two"); err != nil {
		t.Fatal(err)
	}
}

func TestSourceDecodeError(t *testing.T) {
	l := openLog(t, t.TempDir(), wal.Options{})
	defer l.Close()
	if _, err := l.Append([]byte("not json")); err != nil {
		t.Fatal(err)
	}
	src := wal.NewSource(l, wal.JSONCodec[event]())
	r := openReader(t, src, nil)
	defer r.Close()
	if err := r.Read(operators.NewBatch[event](4)); err == nil || !strings.Contains(err.Error(), "record 1") {
		t.Fatalf("Read of a bad record: %v", err)
	}
}

func TestCodecsRoundTrip(t *testing.T) {
	v := event{ID: 7, Name: "seven"}
	for name, c := range map[string]wal.Codec[event]{"gob": wal.GobCodec[event](), "json": wal.JSONCodec[event]()} {
		b := c.Encode([]byte("prefix"), v)
		got, err := c.Decode(b[len("prefix"):])
		if err != nil || got != v {
			t.Fatalf("%s: %+v %v", name, got, err)
		}
		if _, err := c.Decode([]byte{0xff, 0x01}); err == nil {
			t.Fatalf("%s decoded garbage", name)
		}
	}
}
