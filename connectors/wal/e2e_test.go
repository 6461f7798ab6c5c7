package wal_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/weirstream/weir/connectors/wal"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/vfs"
	"github.com/weirstream/weir/stream"
	"github.com/weirstream/weir/testkit"
)

// walPosition returns the next sequence number the latest checkpoint in
// ckDir stores for the WAL source.
func walPosition(t *testing.T, ckDir string) uint64 {
	t.Helper()
	fs, err := vfs.NewLocal(ckDir)
	if err != nil {
		t.Fatal(err)
	}
	m, _, _, err := runtime.LatestManifest(fs)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range m.Vertices {
		for _, st := range v.Subtasks {
			if p, ok := st.Positions["wal"]; ok {
				if len(p) != 9 {
					t.Fatalf("position %x", p)
				}
				return binary.BigEndian.Uint64(p[1:])
			}
		}
	}
	t.Fatal("no WAL position in the checkpoint")
	return 0
}

// TestSourceExactlyOnceAcrossRestore runs a job over a WAL source with
// checkpoints, kills it after a checkpoint (having read past it), pushes
// more and restores: what the first run emitted before the checkpoint's
// position plus what the restored run emits is every value exactly once.
func TestSourceExactlyOnceAcrossRestore(t *testing.T) {
	const n = 3000
	logDir, ckDir := t.TempDir(), t.TempDir()
	l := openLog(t, logDir, wal.Options{SegmentSize: 16 << 10})
	defer l.Close()
	src := wal.NewSource(l, wal.GobCodec[event]())
	pushRange(t, src, 0, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := []runtime.Option{runtime.Parallelism(2), runtime.Pinning(false), runtime.BatchSize(64)}

	job := stream.NewJob("wal-e2e")
	first := testkit.Collect(stream.FromSource(job, "wal", src))
	ctl := runtime.NewController()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- runtime.Run(runCtx, job, append(opts, runtime.Checkpointing(ckDir, 0), runtime.WithController(ctl))...)
	}()
	for first.Len() < n/3 {
		time.Sleep(time.Millisecond)
	}
	if _, err := ctl.TriggerCheckpoint(ctx); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	for first.Len() < n {
		time.Sleep(time.Millisecond)
	}
	stop() // the process dies after the checkpoint, having read past it
	if err := <-done; err != nil && !errors.Is(err, runtime.ErrCanceled) {
		t.Fatalf("first run: %v", err)
	}
	pos := walPosition(t, ckDir)
	if pos < 2 || pos > n {
		t.Fatalf("checkpoint position %d", pos)
	}

	pushRange(t, src, n, 2*n)
	if err := src.EndInput(); err != nil {
		t.Fatal(err)
	}
	job = stream.NewJob("wal-e2e")
	second := testkit.Collect(stream.FromSource(job, "wal", src))
	if err := runtime.Run(ctx, job, append(opts, runtime.Checkpointing(ckDir, 0))...); err != nil {
		t.Fatalf("restored run: %v", err)
	}
	got := append(first.Values()[:pos-1], second.Values()...) // seq s holds ID s-1
	checkExactlyOnceIDs(t, got, 2*n)
}

// pushRange pushes events with IDs [from, to) in batches of 100.
func pushRange(t *testing.T, src *wal.Source[event], from, to int) {
	t.Helper()
	for i := from; i < to; i += 100 {
		var vs []event
		for id := i; id < min(i+100, to); id++ {
			vs = append(vs, event{ID: id})
		}
		if err := src.Push(vs...); err != nil {
			t.Fatal(err)
		}
	}
}
