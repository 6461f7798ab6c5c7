package wal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/weirstream/weir/connectors/wal"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv("WEIR_WAL_CRASH_DIR"); dir != "" {
		crashHelper(dir) // the child process of TestKilledProcessLosesNothing
	}
	goleak.VerifyTestMain(m)
}

// payload is the deterministic payload of record seq: n bytes.
func payload(seq uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seq*31 + uint64(i)*7)
	}
	return b
}

func openLog(t testing.TB, dir string, o wal.Options) *wal.Log {
	t.Helper()
	l, err := wal.Open(dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

// readAll reads every visible record from seq from (0: oldest).
func readAll(t testing.TB, l *wal.Log, from uint64) []wal.Record {
	t.Helper()
	r, err := l.NewReader(from)
	if err != nil {
		t.Fatalf("NewReader(%d): %v", from, err)
	}
	defer r.Close()
	var out []wal.Record
	for {
		rec, ok, err := r.TryNext()
		if err != nil {
			t.Fatalf("TryNext after %d records: %v", len(out), err)
		}
		if !ok {
			return out
		}
		out = append(out, wal.Record{Seq: rec.Seq, Payload: slices.Clone(rec.Payload)})
	}
}

// checkRecords checks that recs are the records first, first+1, ... with
// the payloads of want (indexed by seq-1).
func checkRecords(t testing.TB, recs []wal.Record, first uint64, want [][]byte) {
	t.Helper()
	if got, exp := len(recs), len(want)-int(first-1); got != exp {
		t.Fatalf("read %d records from %d, want %d", got, first, exp)
	}
	for i, rec := range recs {
		seq := first + uint64(i)
		if rec.Seq != seq {
			t.Fatalf("record %d has seq %d, want %d", i, rec.Seq, seq)
		}
		if string(rec.Payload) != string(want[seq-1]) {
			t.Fatalf("record %d: payload %x, want %x", seq, rec.Payload, want[seq-1])
		}
	}
}

func segments(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// appendRecords appends records with payload(seq, size(seq)) in batches
// of batch and returns all payloads so far (want).
func appendRecords(t testing.TB, l *wal.Log, want [][]byte, n, batch int, size func(uint64) int) [][]byte {
	t.Helper()
	for n > 0 {
		k := min(batch, n)
		var ps [][]byte
		for range k {
			seq := uint64(len(want) + 1)
			p := payload(seq, size(seq))
			ps = append(ps, p)
			want = append(want, p)
		}
		last, err := l.Append(ps...)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if last != uint64(len(want)) {
			t.Fatalf("Append returned last seq %d, want %d", last, len(want))
		}
		n -= k
	}
	return want
}

func nextRecord(t testing.TB, r *wal.Reader) wal.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec, err := r.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return rec
}

func mustCorrupt(t testing.TB, err error) *wal.CorruptError {
	t.Helper()
	var ce *wal.CorruptError
	if !errors.Is(err, wal.ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("error %v, want a *CorruptError", err)
	}
	return ce
}

func name(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func fmtSscanf(base string, first *uint64) (int, error) { return fmt.Sscanf(base, "%016d.wal", first) }

func fmtSscanfPayload(s string, w, i *int) (int, error) { return fmt.Sscanf(s, "w%d-%d", w, i) }
