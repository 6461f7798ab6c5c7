package wal_test

import (
	"github.com/weirstream/weir/internal/testseed"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/weirstream/weir/connectors/wal"
)

// testSeed returns WEIR_SEED if set, else a fresh seed; either is logged.
func testSeed(t *testing.T) uint64 { return testseed.Seed(t) }

// TestRandomCrashes appends random batches, truncates, reads back and
// "crashes" by cutting the log at a random byte (everything after it is
// lost, optionally with garbage written after the cut), then reopens;
// the log must hold exactly the records of a plain slice that were whole
// before the cut. Record offsets are computed from the format, not asked
// of the log.
func TestRandomCrashes(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 7))
	dir := t.TempDir()
	o := wal.Options{SegmentSize: int64(100 + rng.IntN(900)), Sync: wal.SyncNever}
	var ref [][]byte // ref[seq-1] is record seq's payload
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	for round := range rounds {
		l := openLog(t, dir, o)
		first := l.FirstSeq()
		if got := l.LastSeq(); got != uint64(len(ref)) {
			t.Fatalf("round %d: log ends at %d, reference at %d", round, got, len(ref))
		}
		checkRecords(t, readAll(t, l, 0), first, ref)
		for range rng.IntN(30) {
			switch op := rng.IntN(10); {
			case op < 7:
				ref = appendRandom(t, rng, l, ref)
			case op < 8:
				if err := l.TruncateBefore(first + uint64(rng.IntN(len(ref)-int(first)+2))); err != nil {
					t.Fatal(err)
				}
				first = l.FirstSeq()
			default:
				from := first + uint64(rng.IntN(len(ref)-int(first)+2))
				checkRecords(t, readAll(t, l, from), from, ref)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		ref = crash(t, rng, dir, ref)
	}
}

func appendRandom(t *testing.T, rng *rand.Rand, l *wal.Log, ref [][]byte) [][]byte {
	var batch [][]byte
	for range 1 + rng.IntN(8) {
		p := make([]byte, rng.IntN(120))
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		batch = append(batch, p)
	}
	last, err := l.Append(batch...)
	if err != nil {
		t.Fatal(err)
	}
	ref = append(ref, batch...)
	if last != uint64(len(ref)) {
		t.Fatalf("Append returned %d, want %d", last, len(ref))
	}
	return ref
}

// crash cuts the log at a random byte of a random segment, deleting the
// later segments, and returns the records that survive.
func crash(t *testing.T, rng *rand.Rand, dir string, ref [][]byte) [][]byte {
	segs := segments(t, dir)
	k := rng.IntN(len(segs))
	if rng.IntN(3) == 0 {
		k = len(segs) - 1 // usually the tail, as a real crash
	}
	for _, s := range segs[k+1:] {
		if err := os.Remove(s); err != nil {
			t.Fatal(err)
		}
	}
	path := segs[k]
	cut := rng.Int64N(fileSize(t, path) + 1)
	truncateFile(t, path, cut)
	if rng.IntN(2) == 0 && cut >= hdrSize {
		garbage := make([]byte, rng.IntN(64))
		for i := range garbage {
			garbage[i] = byte(rng.Uint32())
		}
		appendFile(t, path, garbage)
	}
	var first uint64
	if _, err := fmtSscanf(filepath.Base(path), &first); err != nil {
		t.Fatal(err)
	}
	// Records first, first+1, ... lie one after another from the header.
	off, seq := int64(hdrSize), first
	for seq <= uint64(len(ref)) && off+8+int64(len(ref[seq-1])) <= cut {
		off += 8 + int64(len(ref[seq-1]))
		seq++
	}
	return ref[:seq-1]
}
