package wal_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/weirstream/weir/connectors/wal"
)

// Layout of the logs these tests damage: a 24-byte segment header, then
// records of an 8-byte frame header and a 40-byte payload.
const (
	hdrSize   = 24
	frameSize = 8 + 40
)

func recordOffset(k int) int64 { return hdrSize + int64(k-1)*frameSize }

// fiveRecords writes records 1..5 (40-byte payloads) to a one-segment
// log and returns its directory, segment path and payloads.
func fiveRecords(t *testing.T) (dir, path string, want [][]byte) {
	t.Helper()
	dir = t.TempDir()
	l := openLog(t, dir, wal.Options{Sync: wal.SyncNever})
	want = appendRecords(t, l, nil, 5, 2, func(uint64) int { return 40 })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs := segments(t, dir)
	if len(segs) != 1 || fileSize(t, segs[0]) != recordOffset(6) {
		t.Fatalf("unexpected layout: %v", segs)
	}
	return dir, segs[0], want
}

func truncateFile(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, off int64, mask byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= mask
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkRepaired opens dir and checks that exactly records 1..keep
// survived and that the log goes on from there, also after a reopen.
func checkRepaired(t *testing.T, dir, path string, want [][]byte, keep int, wantRepair bool) {
	t.Helper()
	l := openLog(t, dir, wal.Options{Sync: wal.SyncEachBatch})
	rep := l.Repair()
	switch {
	case wantRepair && rep == nil:
		t.Fatal("torn tail not reported")
	case !wantRepair && rep != nil:
		t.Fatalf("unexpected repair %+v", rep)
	case rep != nil && (rep.File != path || rep.Offset != recordOffset(keep+1) || rep.Reason == ""):
		t.Fatalf("repair %+v, want file %s offset %d", rep, path, recordOffset(keep+1))
	}
	if fileSize(t, path) != recordOffset(keep+1) {
		t.Fatalf("segment is %d bytes after repair, want %d", fileSize(t, path), recordOffset(keep+1))
	}
	want = want[:keep]
	checkRecords(t, readAll(t, l, 0), 1, want)
	want = appendRecords(t, l, want, 3, 2, func(uint64) int { return 40 })
	checkRecords(t, readAll(t, l, 0), 1, want)
	l.Close()
	l = openLog(t, dir, wal.Options{Sync: wal.SyncEachBatch})
	defer l.Close()
	if l.Repair() != nil {
		t.Fatalf("second open repaired again: %+v", l.Repair())
	}
	checkRecords(t, readAll(t, l, 0), 1, want)
}

func TestRepairTruncatedMidRecord(t *testing.T) {
	last := recordOffset(5)
	for _, cut := range []int64{1, 3, 4, 7, 8, 9, 30, frameSize - 1} {
		t.Run(name("cut+%d", cut), func(t *testing.T) {
			dir, path, want := fiveRecords(t)
			truncateFile(t, path, last+cut)
			checkRepaired(t, dir, path, want, 4, true)
		})
	}
	t.Run("boundary", func(t *testing.T) {
		dir, path, want := fiveRecords(t)
		truncateFile(t, path, last)
		checkRepaired(t, dir, path, want, 4, false)
	})
}

func TestRepairGarbageTail(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	plausible := []byte{10, 0, 0, 0, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'} // length 10, wrong CRC
	for name, garbage := range map[string][]byte{
		"1-byte": random(1), "7-bytes": random(7), "8-bytes": random(8), "100-bytes": random(100),
		"4KiB": random(4096), "zeros": make([]byte, 512), "plausible-frame": plausible,
		"plausible-then-zeros": append(plausible, make([]byte, 100)...),
	} {
		t.Run(name, func(t *testing.T) {
			dir, path, want := fiveRecords(t)
			appendFile(t, path, garbage)
			checkRepaired(t, dir, path, want, 5, true)
		})
	}
}

func TestRepairBadLastRecord(t *testing.T) {
	last := recordOffset(5)
	for _, tc := range []struct {
		name string
		off  int64
		mask byte
	}{
		{"crc", last + 4, 0x01},
		{"crc-high", last + 7, 0x80},
		{"payload", last + 8 + 20, 0x10},
		{"payload-last-byte", last + frameSize - 1, 0xff},
		{"length-longer", last, 0x01}, // 41: runs past the end
		{"length-huge", last + 3, 0x40},
		{"length-shorter", last, 0x08}, // 32: checksum fails, 8 bytes left over
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path, want := fiveRecords(t)
			flipByte(t, path, tc.off, tc.mask)
			checkRepaired(t, dir, path, want, 4, true)
		})
	}
}

func TestRepairSegmentHeader(t *testing.T) {
	for _, size := range []int64{0, 1, 10, 23} {
		t.Run(name("only-segment-%d", size), func(t *testing.T) {
			dir, path, _ := fiveRecords(t)
			truncateFile(t, path, size)
			l := openLog(t, dir, wal.Options{})
			defer l.Close()
			if l.Repair() == nil || fileSize(t, path) != hdrSize {
				t.Fatalf("header not repaired: %+v, %d bytes", l.Repair(), fileSize(t, path))
			}
			if last, err := l.Append([]byte("x")); last != 1 || err != nil {
				t.Fatalf("first append after repair: %d %v", last, err)
			}
		})
	}
	t.Run("new-segment", func(t *testing.T) {
		dir := t.TempDir()
		l := openLog(t, dir, wal.Options{SegmentSize: 100, Sync: wal.SyncNever})
		want := appendRecords(t, l, nil, 5, 1, func(uint64) int { return 40 }) // one record per segment
		l.Close()
		segs := segments(t, dir)
		truncateFile(t, segs[len(segs)-1], 5) // record 5's segment, created and torn
		l = openLog(t, dir, wal.Options{SegmentSize: 100})
		defer l.Close()
		if l.Repair() == nil || l.LastSeq() != 4 {
			t.Fatalf("repair %+v, last seq %d", l.Repair(), l.LastSeq())
		}
		want = appendRecords(t, l, want[:4], 2, 1, func(uint64) int { return 40 })
		checkRecords(t, readAll(t, l, 0), 1, want)
	})
}

// TestCorruptionInTheMiddle: a bad record followed by good ones is an
// error naming the file and the offset, never silently cut off.
func TestCorruptionInTheMiddle(t *testing.T) {
	mid := recordOffset(3)
	for _, tc := range []struct {
		name string
		off  int64
		mask byte
	}{
		{"payload", mid + 8 + 5, 0x04},
		{"crc", mid + 5, 0x20},
		{"length-low", mid, 0x01},
		{"length-high", mid + 3, 0x10},
		{"first-record", recordOffset(1) + 10, 0x01},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path, _ := fiveRecords(t)
			flipByte(t, path, tc.off, tc.mask)
			before, _ := os.ReadFile(path)
			_, err := wal.Open(dir, wal.Options{})
			ce := mustCorrupt(t, err)
			wantOff := mid
			if tc.name == "first-record" {
				wantOff = recordOffset(1)
			}
			if ce.File != path || ce.Offset != wantOff {
				t.Fatalf("error names %s offset %d, want %s offset %d", ce.File, ce.Offset, path, wantOff)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, name("offset %d", wantOff)) {
				t.Fatalf("message %q lacks file or offset", msg)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Fatal("Open modified a corrupt segment")
			}
		})
	}
}

// TestCorruptionInSealedSegment: Open checks only headers of sealed
// segments; a reader reaching a damaged record fails with its file and
// offset.
func TestCorruptionInSealedSegment(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, wal.Options{SegmentSize: 200, Sync: wal.SyncNever})
	appendRecords(t, l, nil, 12, 1, func(uint64) int { return 40 }) // 3 records per segment
	l.Close()
	segs := segments(t, dir)
	flipByte(t, segs[1], recordOffset(2)+8, 0x01) // record 5
	l = openLog(t, dir, wal.Options{})
	defer l.Close()
	r, err := l.NewReader(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for seq := 1; seq <= 4; seq++ {
		if _, ok, err := r.TryNext(); !ok || err != nil {
			t.Fatalf("record %d: %v %v", seq, ok, err)
		}
	}
	_, _, err = r.TryNext()
	if ce := mustCorrupt(t, err); ce.File != segs[1] || ce.Offset != recordOffset(2) {
		t.Fatalf("error %v, want %s offset %d", err, segs[1], recordOffset(2))
	}
}

func TestCorruptSealedHeader(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, wal.Options{SegmentSize: 200, Sync: wal.SyncNever})
	appendRecords(t, l, nil, 12, 1, func(uint64) int { return 40 })
	l.Close()
	segs := segments(t, dir)
	flipByte(t, segs[1], 2, 0x01)
	_, err := wal.Open(dir, wal.Options{})
	if ce := mustCorrupt(t, err); ce.File != segs[1] || ce.Offset != 0 {
		t.Fatalf("error %v", err)
	}
}

func TestMissingSegment(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, wal.Options{SegmentSize: 200, Sync: wal.SyncNever})
	appendRecords(t, l, nil, 12, 1, func(uint64) int { return 40 })
	l.Close()
	segs := segments(t, dir)
	if err := os.Remove(segs[1]); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, wal.Options{})
	defer l.Close()
	r, _ := l.NewReader(0)
	defer r.Close()
	var err error
	for n := 0; err == nil && n < 20; n++ {
		_, _, err = r.TryNext()
	}
	if ce := mustCorrupt(t, err); ce.File != segs[0] || !strings.Contains(ce.Reason, "next segment starts at 7") {
		t.Fatalf("error %v", err)
	}
}

func TestCorruptErrorMatches(t *testing.T) {
	err := error(&wal.CorruptError{File: "f", Offset: 3, Reason: "r"})
	if !errors.Is(err, wal.ErrCorrupt) || errors.Is(err, wal.ErrClosed) {
		t.Fatal("errors.Is")
	}
}
