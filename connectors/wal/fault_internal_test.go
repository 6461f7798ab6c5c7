package wal

import (
	"errors"
	"os"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

var errInjected = errors.New("injected fault")

func failingSync(*os.File) error { return errInjected }

func openFaulty(t *testing.T, dir string, o Options, ops func(*fileOps)) *Log {
	t.Helper()
	l, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	ops(&l.ops)
	l.mu.Unlock()
	return l
}

func recordsIn(t *testing.T, dir string) int {
	t.Helper()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Repair() != nil {
		t.Fatalf("reopen needed a repair: %+v", l.Repair())
	}
	return int(l.LastSeq())
}

// TestSyncFailureIsSticky: after a failed fdatasync the log refuses
// appends (the page cache can no longer be trusted), readers never see
// the records of the failed batch, and a reopened log works.
func TestSyncFailureIsSticky(t *testing.T) {
	dir := t.TempDir()
	l := openFaulty(t, dir, Options{}, func(*fileOps) {})
	if _, err := l.Append([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	l.ops.sync = failingSync
	if _, err := l.Append([]byte("lost?")); !errors.Is(err, errInjected) {
		t.Fatalf("Append with a failing sync: %v", err)
	}
	l.ops = osOps()
	if _, err := l.Append([]byte("after")); !errors.Is(err, errInjected) {
		t.Fatalf("Append after a failed sync: %v", err)
	}
	r, _ := l.NewReader(0)
	n := 0
	for {
		_, ok, err := r.TryNext()
		if err != nil || !ok {
			break
		}
		n++
	}
	r.Close()
	if n != 1 {
		t.Fatalf("reader saw %d records, want only the synced one", n)
	}
	l.Close()
	if got := recordsIn(t, dir); got != 2 { // the unsynced write landed
		t.Fatalf("reopened log has %d records", got)
	}
}

// TestWriteFailureUndoesPartialWrite: a failed (partial) write is cut off
// again, so the reopened log needs no repair and lacks the batch.
func TestWriteFailureUndoesPartialWrite(t *testing.T) {
	dir := t.TempDir()
	l := openFaulty(t, dir, Options{Sync: SyncNever}, func(o *fileOps) {
		o.write = func(f *os.File, b []byte) (int, error) {
			if len(b) > 100 {
				n, _ := f.Write(b[:len(b)/2])
				return n, errInjected
			}
			return f.Write(b)
		}
	})
	if _, err := l.Append([]byte("small")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(make([]byte, 200)); !errors.Is(err, errInjected) {
		t.Fatalf("Append with a failing write: %v", err)
	}
	if _, err := l.Append([]byte("small")); !errors.Is(err, errInjected) {
		t.Fatalf("Append after a failed write: %v", err)
	}
	l.Close()
	if got := recordsIn(t, dir); got != 1 {
		t.Fatalf("reopened log has %d records", got)
	}
}

// TestFlusherFailure: a failing background sync is logged and fails the
// log.
func TestFlusherFailure(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	l := openFaulty(t, t.TempDir(), Options{Sync: SyncInterval(time.Millisecond), Logger: zap.New(core)},
		func(o *fileOps) { o.sync = failingSync })
	defer l.Close()
	if _, err := l.Append([]byte("x")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for logs.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if logs.Len() == 0 {
		t.Fatal("background sync failure not logged")
	}
	if _, err := l.Append([]byte("y")); !errors.Is(err, errInjected) {
		t.Fatalf("Append after a failed background sync: %v", err)
	}
}

// TestRollSyncFailure: sealing a segment syncs it; a failure there fails
// the log before a new segment is started.
func TestRollSyncFailure(t *testing.T) {
	dir := t.TempDir()
	l := openFaulty(t, dir, Options{SegmentSize: 64}, func(*fileOps) {})
	if _, err := l.Append(make([]byte, 20)); err != nil {
		t.Fatal(err)
	}
	l.ops.sync = failingSync
	if _, err := l.Append(make([]byte, 20)); !errors.Is(err, errInjected) {
		t.Fatalf("Append that rolls with a failing sync: %v", err)
	}
	l.Close()
	if got := recordsIn(t, dir); got != 1 {
		t.Fatalf("reopened log has %d records", got)
	}
}
